import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_TEST_CREDENTIALS, startAwsEndpoint } from '../helpers/aws.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { eventually, startReceiver } from '../helpers/receiver.js';
import { startFakeSns } from '../helpers/sns.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:signoff-approvals';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:someone-else';

let sns: Awaited<ReturnType<typeof startFakeSns>>;
let aws: Awaited<ReturnType<typeof startAwsEndpoint>>;
let h: Harness;
let lead: string;

beforeAll(async () => {
  sns = await startFakeSns();
  aws = await startAwsEndpoint();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CODEPIPELINE: aws.url,
    AWS_ENDPOINT_URL_SFN: aws.url,
    AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
  const dir = mkdtempSync(join(tmpdir(), 'signoff-routes-'));
  const routes = join(dir, 'routes.yaml');
  writeFileSync(
    routes,
    `routes:
  - name: web to production
    match: { topic: ${TOPIC}, pipeline: web, stage: Production }
    approvers: [lead@example.com]
    notify: []
  - name: short-lived
    match: { pipeline: hurry }
    approvers: [lead@example.com]
    timeout: 1s
    notify: []
`,
  );
  h = await startHarness({
    ...sns.env,
    SIGNOFF_SNS_TOPICS: `${TOPIC}, arn:aws:sns:eu-west-1:123456789012:unused`,
    SIGNOFF_ROUTES: routes,
    SIGNOFF_CFN_URL_HOST: '127\\.0\\.0\\.1',
  });
  lead = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
  await sns?.close();
  await aws?.stop();
});

function post(envelope: Record<string, string>) {
  return h.api({
    method: 'POST',
    url: '/integrations/aws/sns',
    payload: JSON.stringify(envelope),
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': envelope.Type ?? '' },
    token: null,
  });
}

async function approvalCount() {
  const row = await h.signoff.services.db
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function pipelineMessage(token: string, pipeline = 'web', expiresInMs = 7 * 86_400_000) {
  return {
    region: 'eu-west-1',
    consoleLink: 'https://console.aws.amazon.com/codepipeline/home?region=eu-west-1#/view/web',
    approval: {
      pipelineName: pipeline,
      stageName: 'Production',
      actionName: 'Approve',
      token,
      expires: new Date(Date.now() + expiresInMs).toISOString().replace(/:\d\d\.\d+Z$/, 'Z'),
      externalEntityLink: 'https://github.com/acme/web/commit/abc123',
      approvalReviewLink: `https://console.aws.amazon.com/codepipeline/home?region=eu-west-1#/view/web/Production/Approve/approve/${token}`,
      customData: 'Release 2.3.1: see the changelog',
    },
  };
}

async function decide(id: string, verdict: 'approve' | 'reject') {
  const res = await h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    payload: { verdict },
    token: lead,
  });
  expect(res.statusCode).toBe(201);
}

function awaitCall(field: string, value: string) {
  return eventually(() => {
    const found = aws.calls.filter((c) => c.body[field] === value);
    expect(found).toHaveLength(1);
    return found[0];
  });
}

describe('subscriptions', () => {
  it('confirms a subscription to an allowed topic by fetching its SubscribeURL', async () => {
    const before = sns.confirmations.length;
    const res = await post(sns.subscription(TOPIC));
    expect(res.statusCode).toBe(200);
    expect(sns.confirmations.length).toBe(before + 1);
  });

  it('refuses a SubscribeURL on another host without fetching it', async () => {
    const res = await post(
      sns.subscription(TOPIC, { subscribeUrl: 'https://evil.example.com/confirm?Token=x' }),
    );
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('invalid_signature');
  });
});

describe('CodePipeline through SNS', () => {
  it.each(['1', '2'] as const)(
    'SignatureVersion %s: a notification becomes an approval; approving puts Approved',
    async (version) => {
      const token = `cp-approve-v${version}`;
      const res = await post(sns.notification(TOPIC, pipelineMessage(token), { version }));
      expect(res.statusCode).toBe(200);
      const { approvalId, created } = res.json();
      expect(created).toBe(true);
      const approval = (await h.api({ method: 'GET', url: `/v1/approvals/${approvalId}` })).json();
      expect(approval).toMatchObject({
        title: 'Approve Approve in web / Production',
        description: 'Release 2.3.1: see the changelog',
        link: 'https://github.com/acme/web/commit/abc123',
        metadata: { source: 'codepipeline', pipeline: 'web', stage: 'Production', region: 'eu-west-1' },
        callback: { type: 'codepipeline' },
        stages: [{ gates: [{ approvers: ['lead@example.com'] }] }],
      });
      await decide(approvalId, 'approve');
      const call = await awaitCall('token', token);
      expect(call).toMatchObject({
        target: 'CodePipeline_20150709.PutApprovalResult',
        region: 'eu-west-1',
        body: {
          pipelineName: 'web',
          stageName: 'Production',
          actionName: 'Approve',
          result: { status: 'Approved' },
        },
      });
    },
  );

  it('puts Rejected when rejected, and when the approval times out', async () => {
    const rejected = (await post(sns.notification(TOPIC, pipelineMessage('cp-reject')))).json().approvalId;
    await decide(rejected, 'reject');
    expect((await awaitCall('token', 'cp-reject'))?.body.result).toMatchObject({ status: 'Rejected' });
    const hurried = await post(sns.notification(TOPIC, pipelineMessage('cp-expire', 'hurry')));
    expect(hurried.statusCode).toBe(200);
    expect((await awaitCall('token', 'cp-expire'))?.body.result).toMatchObject({
      status: 'Rejected',
      summary: expect.stringContaining('expired'),
    });
  });

  it('creates one approval for a replayed MessageId, however much later SNS retries', async () => {
    const envelope = sns.notification(TOPIC, pipelineMessage('cp-replay'));
    const first = (await post(envelope)).json();
    h.advance(5_000);
    try {
      const again = await post(envelope);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ approvalId: first.approvalId, created: false });
    } finally {
      h.advance(-5_000);
    }
  });

  it('refuses a message older than SNS ever retries, and malformed signed fields', async () => {
    const before = await approvalCount();
    h.advance(2 * 3_600_000);
    try {
      const old = await post(sns.notification(TOPIC, pipelineMessage('cp-old')));
      expect(old.statusCode).toBe(403);
      expect(old.json().error.code).toBe('invalid_signature');
    } finally {
      h.advance(-2 * 3_600_000);
    }
    const shifted = await post({
      ...sns.notification(TOPIC, pipelineMessage('cp-shift')),
      MessageId: 'x\nSubject\ny',
    });
    expect(shifted.statusCode).toBe(400);
    expect(shifted.json().error.code).toBe('invalid_input');
    expect(await approvalCount()).toBe(before);
  });

  it('refuses custom data that is not text, creating nothing', async () => {
    const before = await approvalCount();
    const message = pipelineMessage('cp-not-text');
    message.approval.customData = 'Release \udc00';
    const res = await post(sns.notification(TOPIC, message));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
    expect(await approvalCount()).toBe(before);
  });

  it('refuses a notification no route covers, creating nothing', async () => {
    const before = await approvalCount();
    const res = await post(sns.notification(TOPIC, pipelineMessage('cp-nowhere', 'unrouted')));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('no_route');
    expect(await approvalCount()).toBe(before);
  });
});

describe('Step Functions through SNS', () => {
  it('turns a waitForTaskToken request into an approval and sends the task its outcome', async () => {
    const message = {
      signoff: {
        title: 'Deploy 2.3.1',
        approvers: ['lead@example.com'],
        metadata: { version: '2.3.1' },
      },
      taskToken: 'sfn-task-1',
    };
    const res = await post(sns.notification(TOPIC, message, { version: '1' }));
    expect(res.statusCode).toBe(200);
    const { approvalId } = res.json();
    await decide(approvalId, 'approve');
    const call = await awaitCall('taskToken', 'sfn-task-1');
    expect(call?.target).toBe('AWSStepFunctions.SendTaskSuccess');
    expect(JSON.parse(call?.body.output as string)).toMatchObject({
      approved: true,
      status: 'approved',
      approvalId,
    });
  });

  it.each([
    ['no title', { approvers: ['lead@example.com'] }],
    [
      'metadata nested too deep',
      { title: 'x', approvers: ['lead@example.com'], metadata: { a: [[[[[[[[1]]]]]]]] } },
    ],
    ['a NUL in the description', { title: 'x', approvers: ['lead@example.com'], description: 'a\u0000b' }],
    ['a lone surrogate in the title', { title: 'x \ud800', approvers: ['lead@example.com'] }],
    ['an override in the title', { title: 'x \u202Eexe.txt', approvers: ['lead@example.com'] }],
  ])('refuses a request whose signoff body is invalid: %s', async (_name, signoff) => {
    const res = await post(sns.notification(TOPIC, { signoff, taskToken: 't' }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
  });

  it('refuses a body that would open its own gate: whoever may publish is a create credential', async () => {
    const res = await post(
      sns.notification(TOPIC, {
        signoff: {
          title: 'Deploy',
          stages: [{ type: 'rule', rules: [{ when: 'true', then: 'approve' }] }],
        },
        taskToken: 'sfn-self-approved',
      }),
    );
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('inline_policy_forbidden');
    expect(aws.calls.some((c) => c.body.taskToken === 'sfn-self-approved')).toBe(false);
  });
});

describe('refused with nothing created', () => {
  it.each([
    [
      'a forged signature',
      () => sns.notification(TOPIC, pipelineMessage('f1'), { key: sns.otherKey() }),
      403,
      'invalid_signature',
    ],
    [
      'an altered message',
      () => ({
        ...sns.notification(TOPIC, pipelineMessage('f2')),
        Message: JSON.stringify(pipelineMessage('f2', 'web', 1)),
      }),
      403,
      'invalid_signature',
    ],
    ['a topic not allowed', () => sns.notification(OTHER_TOPIC, pipelineMessage('f3')), 403, 'forbidden'],
    [
      'a certificate URL on another host',
      () =>
        sns.notification(TOPIC, pipelineMessage('f4'), { certUrl: 'https://sns.evil.example.com/cert.pem' }),
      403,
      'invalid_signature',
    ],
    [
      'an http certificate URL',
      () =>
        sns.notification(TOPIC, pipelineMessage('f5'), { certUrl: sns.certUrl.replace('https:', 'http:') }),
      403,
      'invalid_signature',
    ],
    [
      'a certificate URL that is not a .pem',
      () => sns.notification(TOPIC, pipelineMessage('f6'), { certUrl: sns.certUrl.replace('.pem', '.txt') }),
      403,
      'invalid_signature',
    ],
  ])('%s', async (_name, envelope, status, code) => {
    const before = await approvalCount();
    const res = await post(envelope());
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(await approvalCount()).toBe(before);
  });

  it('a body that is not an SNS message', async () => {
    for (const payload of ['not json', JSON.stringify({ Type: 'Notification' })]) {
      const res = await h.api({
        method: 'POST',
        url: '/integrations/aws/sns',
        payload,
        headers: { 'content-type': 'text/plain' },
        token: null,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_input');
    }
  });
});

describe('CloudFormation custom resources through SNS', () => {
  let cfn: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    cfn = await startReceiver();
  });
  afterAll(async () => cfn?.stop());

  const puts = (path: string) => cfn.received.filter((r) => r.method === 'PUT' && r.url.startsWith(path));

  function customResource(
    requestType: 'Create' | 'Update' | 'Delete',
    id: string,
    properties: Record<string, unknown>,
    physicalId?: string,
  ) {
    return {
      RequestType: requestType,
      ServiceToken: TOPIC,
      ResponseURL: `${cfn.url.replace('/hook', '')}/response/${id}?X-Amz-Signature=abc`,
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/shop/1234',
      RequestId: `request-${id}`,
      LogicalResourceId: 'Approval',
      ResourceType: 'Custom::Approval',
      ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
      ResourceProperties: {
        ServiceToken: TOPIC,
        WaitHandle: `${cfn.url.replace('/hook', '')}/wait/${id}?X-Amz-Signature=def`,
        Approvers: ['lead@example.com'],
        Required: '1',
        Title: `Launch shop ${id}`,
        ...properties,
      },
    };
  }

  async function create(id: string, properties: Record<string, unknown> = {}) {
    const res = await post(sns.notification(TOPIC, customResource('Create', id, properties)));
    expect(res.statusCode).toBe(200);
    const [response] = await eventually(() => {
      const found = puts(`/response/${id}`);
      expect(found).toHaveLength(1);
      return found;
    });
    return JSON.parse(response?.body ?? '{}');
  }

  function signal(id: string) {
    return eventually(() => {
      const found = puts(`/wait/${id}`);
      expect(found).toHaveLength(1);
      expect(found[0]?.headers['content-type']).toBeUndefined();
      expect(Number(found[0]?.headers['content-length'])).toBe(Buffer.byteLength(found[0]?.body ?? ''));
      return JSON.parse(found[0]?.body ?? '{}');
    });
  }

  it('answers Create with SUCCESS and the approval id; approving signals the WaitHandle SUCCESS', async () => {
    const response = await create('approve');
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      RequestId: 'request-approve',
      LogicalResourceId: 'Approval',
    });
    expect(response.PhysicalResourceId).toMatch(/^apr_/);
    expect(response.Data).toEqual({ ApprovalId: response.PhysicalResourceId });
    await decide(response.PhysicalResourceId, 'approve');
    expect(await signal('approve')).toMatchObject({
      Status: 'SUCCESS',
      UniqueId: response.PhysicalResourceId,
    });
  });

  it('signals FAILURE when rejected and when it times out', async () => {
    const rejected = await create('reject');
    await decide(rejected.PhysicalResourceId, 'reject');
    expect(await signal('reject')).toMatchObject({
      Status: 'FAILURE',
      Reason: expect.stringContaining('Rejected by lead@example.com'),
    });
    await create('timeout', { Timeout: '1s' });
    expect(await signal('timeout')).toMatchObject({
      Status: 'FAILURE',
      Reason: expect.stringContaining('expired'),
    });
  });

  it('answers bad properties with FAILED and a reason, creating nothing', async () => {
    const before = await approvalCount();
    const response = await create('bad', { Approvers: ['not an address'], Title: '' });
    expect(response).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('Property') });
    const control = await create('control', { Title: 'Launch\u0000' });
    expect(control).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('Property Title') });
    expect(await approvalCount()).toBe(before);
  });

  it('never cancels, on Delete, an approval this resource did not create', async () => {
    const unrelated = (
      await h.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: { title: 'Unrelated', approvers: ['lead@example.com'], notify: [] },
      })
    ).json();
    await post(sns.notification(TOPIC, customResource('Delete', 'foreign', {}, unrelated.id)));
    await eventually(() => expect(puts('/response/foreign')).toHaveLength(1));
    expect(JSON.parse(puts('/response/foreign')[0]?.body ?? '{}')).toMatchObject({ Status: 'SUCCESS' });
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${unrelated.id}` })).json().status).toBe(
      'pending',
    );
    // Copying a stack's ids into an API approval's metadata does not make a Delete its owner.
    const lookalike = (
      await h.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: {
          title: 'Look-alike',
          approvers: ['lead@example.com'],
          metadata: { stackId: customResource('Delete', 'x', {}).StackId, logicalResourceId: 'Approval' },
          callback: { type: 'cloudformation', url: `${cfn.url.replace('/hook', '')}/wait/lookalike` },
        },
      })
    ).json();
    await post(sns.notification(TOPIC, customResource('Delete', 'lookalike', {}, lookalike.id)));
    await eventually(() => expect(puts('/response/lookalike')).toHaveLength(1));
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${lookalike.id}` })).json().status).toBe(
      'pending',
    );
  });

  it('refuses a Timeout longer than a WaitCondition waits', async () => {
    expect(await create('too-long', { Timeout: '13h' })).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('12h'),
    });
  });

  it('cancels a pending approval on Delete and answers Update with SUCCESS', async () => {
    const created = await create('delete');
    const updated = await post(
      sns.notification(TOPIC, customResource('Update', 'update', {}, created.PhysicalResourceId)),
    );
    expect(updated.statusCode).toBe(200);
    await eventually(() => expect(puts('/response/update')).toHaveLength(1));
    expect(JSON.parse(puts('/response/update')[0]?.body ?? '{}')).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: created.PhysicalResourceId,
    });
    await post(sns.notification(TOPIC, customResource('Delete', 'deleted', {}, created.PhysicalResourceId)));
    await eventually(() => expect(puts('/response/deleted')).toHaveLength(1));
    const approval = (
      await h.api({ method: 'GET', url: `/v1/approvals/${created.PhysicalResourceId}` })
    ).json();
    expect(approval.status).toBe('cancelled');
  });
});

describe('Step Functions through SNS: reject and timeout', () => {
  it('succeeds with approved: false on a reject, and fails the task on expiry with failOnReject', async () => {
    const rejected = await post(
      sns.notification(TOPIC, {
        signoff: { title: 'Deploy', approvers: ['lead@example.com'] },
        taskToken: 'sfn-reject',
      }),
    );
    await decide(rejected.json().approvalId, 'reject');
    const success = await awaitCall('taskToken', 'sfn-reject');
    expect(success?.target).toBe('AWSStepFunctions.SendTaskSuccess');
    expect(JSON.parse(success?.body.output as string)).toMatchObject({ approved: false, status: 'rejected' });
    await post(
      sns.notification(TOPIC, {
        signoff: { title: 'Deploy', approvers: ['lead@example.com'], timeout: '1s' },
        taskToken: 'sfn-expire',
        failOnReject: true,
      }),
    );
    expect(await awaitCall('taskToken', 'sfn-expire')).toMatchObject({
      target: 'AWSStepFunctions.SendTaskFailure',
      body: { error: 'signoff.Expired' },
    });
  });
});
