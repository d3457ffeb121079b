import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_TEST_CREDENTIALS, startAwsEndpoint } from '../helpers/aws.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually, startReceiver } from '../helpers/receiver.js';

let aws: Awaited<ReturnType<typeof startAwsEndpoint>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let h: Harness;
let lead: string;

beforeAll(async () => {
  aws = await startAwsEndpoint();
  receiver = await startReceiver();
  // The real AWS SDK clients, pointed at the local endpoint the way operators point them anywhere.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CODEPIPELINE: aws.url,
    AWS_ENDPOINT_URL_SFN: aws.url,
    AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'eu-west-1',
  });
  h = await startHarness({ SIGNOFF_CFN_URL_HOST: '127\\.0\\.0\\.1' });
  lead = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
  await aws?.stop();
  await receiver?.stop();
});

async function createWith(callback: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ notify: [], callback, ...overrides }),
  });
  expect(res.statusCode).toBe(201);
  expect(res.json().callback).toEqual({ type: callback.type });
  return res.json().id as string;
}

async function decide(id: string, verdict: 'approve' | 'reject', comment?: string) {
  const res = await h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    payload: { verdict, comment },
    token: lead,
  });
  expect(res.statusCode).toBe(201);
}

function callsFor(field: string, value: string) {
  return aws.calls.filter((c) => c.body[field] === value);
}

async function auditTypes(id: string): Promise<string[]> {
  const res = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
  return res.json().items.map((e: { type: string }) => e.type);
}

/** The outbox messages of one kind for one approval, in the order they were queued. */
async function outbox(id: string, kind: string) {
  const rows = await h.signoff.services.db
    .selectFrom('outbox')
    .select(['status', 'attempts'])
    .where('approval_id', '=', id)
    .where('kind', '=', kind)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ status: row.status, attempts: Number(row.attempts) }));
}

/** Waits until the approval's audit trail holds at least `count` `callback.failed` events. */
async function failuresReach(id: string, count: number) {
  await eventually(async () =>
    expect((await auditTypes(id)).filter((t) => t === 'callback.failed').length).toBeGreaterThanOrEqual(
      count,
    ),
  );
}

describe('CodePipeline: PutApprovalResult', () => {
  const callback = (token: string) => ({
    type: 'codepipeline',
    pipelineName: 'web',
    stageName: 'Prod',
    actionName: 'Approve',
    token,
  });

  it('answers Approved with a summary naming who approved, then forgets the token', async () => {
    const id = await createWith(callback('tok-approve'));
    await decide(id, 'approve', 'ship it');
    const [call] = await eventually(() => {
      const found = callsFor('token', 'tok-approve');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(call).toMatchObject({
      target: 'CodePipeline_20150709.PutApprovalResult',
      region: 'eu-west-1',
      body: { pipelineName: 'web', stageName: 'Prod', actionName: 'Approve', result: { status: 'Approved' } },
    });
    const summary = String((call?.body.result as { summary?: string } | undefined)?.summary);
    expect(summary).toContain('lead@example.com');
    // Who approved and why: the approver's comment reaches the pipeline too.
    expect(summary).toContain('ship it');
    expect(summary.length).toBeLessThanOrEqual(512);
    await eventually(async () => {
      const row = await h.signoff.services.db
        .selectFrom('approvals')
        .select('callback')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.callback).not.toContain('tok-approve');
    });
  });

  it('answers Rejected on a reject and on expiry, saying why', async () => {
    const rejected = await createWith(callback('tok-reject'));
    await decide(rejected, 'reject', 'tests are red');
    const expired = await createWith(callback('tok-expire'), { timeout: '1s' });
    const [rejection] = await eventually(() => {
      const found = callsFor('token', 'tok-reject');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(rejection?.body.result).toMatchObject({
      status: 'Rejected',
      summary: expect.stringContaining('tests are red'),
    });
    const [expiry] = await eventually(() => {
      const found = callsFor('token', 'tok-expire');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(expiry?.body.result).toMatchObject({
      status: 'Rejected',
      summary: expect.stringContaining(`${expired} expired`),
    });
  });

  it('records ApprovalAlreadyCompletedException and does not retry it', async () => {
    aws.failWith((call) =>
      call.body.token === 'tok-done' ? { status: 400, type: 'ApprovalAlreadyCompletedException' } : undefined,
    );
    try {
      const id = await createWith(callback('tok-done'));
      await decide(id, 'approve');
      await eventually(async () => expect(await auditTypes(id)).toContain('callback.dead_lettered'));
      // Dead is final: the dispatcher only claims pending messages.
      expect(await outbox(id, 'resume')).toEqual([{ status: 'dead', attempts: 1 }]);
      expect(await auditTypes(id)).not.toContain('callback.failed');
      // A retry would be due within SIGNOFF_RETRY_MAX. Move the clock well past that; the
      // dispatcher takes the oldest due message first, so once a newer one has been delivered
      // a retry would have been attempted too.
      h.advance(60_000);
      await decide(await createWith(callback('tok-after-done')), 'approve');
      await eventually(async () => expect(callsFor('token', 'tok-after-done')).toHaveLength(1));
      expect(aws.refused.filter((t) => t === 'ApprovalAlreadyCompletedException')).toHaveLength(1);
    } finally {
      aws.failWith(undefined);
    }
  });

  it('retries while AWS is unreachable or throttling, and delivers once it is back', async () => {
    aws.failWith((call) =>
      call.body.token === 'tok-later' ? { status: 400, type: 'ThrottlingException' } : undefined,
    );
    const id = await createWith(callback('tok-later'));
    await decide(id, 'approve');
    await failuresReach(id, 1);
    await aws.stop();
    aws.failWith(undefined);
    // One attempt may still have been under way as the endpoint stopped; of two more failures,
    // at least one found nothing listening.
    const throttled = (await auditTypes(id)).filter((t) => t === 'callback.failed').length;
    await failuresReach(id, throttled + 2);
    await aws.start();
    await eventually(() => expect(callsFor('token', 'tok-later')).toHaveLength(1));
    await eventually(async () => expect(await auditTypes(id)).toContain('callback.delivered'));
  });
});

describe('Step Functions: SendTaskSuccess / SendTaskFailure', () => {
  it('succeeds the task with the outcome when approved', async () => {
    const id = await createWith({ type: 'stepfunctions', taskToken: 'task-approve' });
    await decide(id, 'approve');
    const [call] = await eventually(() => {
      const found = callsFor('taskToken', 'task-approve');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(call?.target).toBe('AWSStepFunctions.SendTaskSuccess');
    expect(JSON.parse(call?.body.output as string)).toMatchObject({
      approved: true,
      status: 'approved',
      approvalId: id,
      decisions: [{ actor: 'lead@example.com', verdict: 'approve' }],
    });
  });

  it('succeeds with approved: false on a reject, or fails the task with failOnReject', async () => {
    const plain = await createWith({ type: 'stepfunctions', taskToken: 'task-reject' });
    await decide(plain, 'reject');
    await createWith(
      { type: 'stepfunctions', taskToken: 'task-expire', failOnReject: true },
      { timeout: '1s' },
    );
    const [success] = await eventually(() => {
      const found = callsFor('taskToken', 'task-reject');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(success?.target).toBe('AWSStepFunctions.SendTaskSuccess');
    expect(JSON.parse(success?.body.output as string)).toMatchObject({ approved: false, status: 'rejected' });
    const [failure] = await eventually(() => {
      const found = callsFor('taskToken', 'task-expire');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(failure).toMatchObject({
      target: 'AWSStepFunctions.SendTaskFailure',
      body: { error: 'signoff.Expired' },
    });
  });
});

describe('Step Functions heartbeats', () => {
  it('sends SendTaskHeartbeat every heartbeatSeconds while pending, and none after the decision', async () => {
    const heartbeats = () =>
      aws.calls.filter(
        (c) => c.target === 'AWSStepFunctions.SendTaskHeartbeat' && c.body.taskToken === 'task-alive',
      );
    const id = await createWith({ type: 'stepfunctions', taskToken: 'task-alive', heartbeatSeconds: 60 });
    expect(heartbeats()).toHaveLength(0);
    // Each step waits until the heartbeat before it is settled: moving the clock while one is
    // being delivered would end its lease and send it twice.
    const settled = (statuses: string[]) =>
      eventually(async () => expect((await outbox(id, 'heartbeat')).map((m) => m.status)).toEqual(statuses));
    try {
      h.advance(61_000);
      await settled(['delivered', 'pending']);
      expect(heartbeats()).toHaveLength(1);
      h.advance(61_000);
      await settled(['delivered', 'delivered', 'pending']);
      expect(heartbeats()).toHaveLength(2);
      await decide(id, 'approve');
      await eventually(() =>
        expect(callsFor('taskToken', 'task-alive').filter((c) => c.target.endsWith('Success'))).toHaveLength(
          1,
        ),
      );
      // The third heartbeat falls due after the decision: it is settled without being sent,
      // and no fourth is queued.
      h.advance(61_000);
      await settled(['delivered', 'delivered', 'delivered']);
      expect(heartbeats()).toHaveLength(2);
    } finally {
      h.advance(-183_000);
    }
  });
});

describe('CloudFormation: the WaitConditionHandle pre-signed URL', () => {
  it('PUTs SUCCESS or FAILURE with no Content-Type and an exact Content-Length', async () => {
    const approved = await createWith({ type: 'cloudformation', url: `${receiver.url}?sig=approve` });
    const rejected = await createWith({ type: 'cloudformation', url: `${receiver.url}?sig=reject` });
    const expired = await createWith(
      { type: 'cloudformation', url: `${receiver.url}?sig=expire` },
      { timeout: '1s' },
    );
    await decide(approved, 'approve');
    await decide(rejected, 'reject', 'not now');
    const signals = await eventually(() => {
      const puts = receiver.received.filter((r) => r.method === 'PUT' && r.status === 200);
      expect(puts).toHaveLength(3);
      return puts;
    });
    for (const put of signals) {
      expect(put.headers['content-type']).toBeUndefined();
      expect(Number(put.headers['content-length'])).toBe(Buffer.byteLength(put.body));
    }
    const byId = new Map(signals.map((s) => [JSON.parse(s.body).UniqueId, JSON.parse(s.body)]));
    expect(byId.get(approved)).toMatchObject({ Status: 'SUCCESS', UniqueId: approved });
    expect(byId.get(rejected)).toMatchObject({
      Status: 'FAILURE',
      Reason: expect.stringContaining('not now'),
    });
    expect(byId.get(expired)).toMatchObject({
      Status: 'FAILURE',
      Reason: expect.stringContaining('expired'),
    });
    expect(JSON.parse(byId.get(approved).Data)).toMatchObject({ status: 'approved' });
  });
});

describe('the REST API', () => {
  it('refuses an AWS callback with missing or unknown fields', async () => {
    for (const callback of [
      { type: 'codepipeline', pipelineName: 'web', stageName: 'Prod', actionName: 'Approve' },
      { type: 'stepfunctions' },
      { type: 'cloudformation', url: 'ftp://example.com/x' },
      // Only WaitCondition hosts: signoff must not be made to PUT to internal services.
      { type: 'cloudformation', url: 'http://169.254.169.254/latest/meta-data' },
      { type: 'stepfunctions', taskToken: 't', extra: true },
      { type: 'lambda', arn: 'x' },
    ]) {
      const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody({ callback }) });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_input');
    }
  });
});
