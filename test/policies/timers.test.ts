import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { startSmtpServer } from '../helpers/smtp.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpServer();
  // Workers off: the test moves the clock and runs the dispatcher itself.
  h = await startHarness({ SIGNOFF_SMTP_URL: smtp.url }, { workers: false });
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

/**
 * Delivers everything due now, including what the deliveries themselves queue. A mail is in
 * `smtp.mails` before the SMTP server accepts it, so it is there when this returns.
 */
async function deliverDue() {
  for (let round = 0; round < 5; round++) if ((await h.signoff.dispatcher.runOnce()) === 0) break;
}

function mailsAbout(title: string) {
  return smtp.mails.filter((m) => m.subject.includes(title));
}

async function create(title: string, stages: unknown[], extra: Record<string, unknown> = {}) {
  const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: { title, stages, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function auditTypes(id: string): Promise<string[]> {
  const res = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
  return res.json().items.map((e: { type: string }) => e.type);
}

async function decideAs(id: string, actor: string, verdict: 'approve' | 'reject') {
  const key = await h.keyFor(actor, ['approvals:decide']);
  return h.api({ method: 'POST', url: `/v1/approvals/${id}/decisions`, token: key, payload: { verdict } });
}

describe('rules through the API', () => {
  it('approve a docs-only change at creation and mail nobody', async () => {
    const title = 'Docs only change';
    const approval = await create(
      title,
      [
        {
          name: 'policy',
          type: 'rule',
          rules: [{ when: "allMatch(metadata.changedFiles, ['**/*.md', 'docs/**'])", then: 'approve' }],
        },
        { name: 'leads', type: 'human', gates: [{ approvers: ['lead@example.com'] }] },
      ],
      { metadata: { changedFiles: ['docs/intro.md', 'README.md'] } },
    );
    expect(approval.status).toBe('approved');
    expect(approval.decisions).toEqual([
      expect.objectContaining({ stage: 'policy', actor: 'rule', verdict: 'approve', via: 'rule' }),
    ]);
    expect(approval.stages.map((s: { status: string }) => s.status)).toEqual(['passed', 'skipped']);
    await deliverDue();
    expect(mailsAbout(title)).toEqual([]);
    expect(await auditTypes(approval.id)).toEqual(['approval.created', 'stage.result', 'approval.approved']);
  });

  it('refuse a rule that does not compile, naming where it is', async () => {
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: {
        title: 'x',
        stages: [{ type: 'rule', rules: [{ when: 'metadata.files +', then: 'approve' }] }],
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
    expect(res.json().error.message).toContain('body/stages/0/rules/0/when');
  });

  it('refuse a request that names both approvers and stages, or an unknown policy', async () => {
    const both = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: {
        title: 'x',
        approvers: ['a@example.com'],
        stages: [{ type: 'human', gates: [{ approvers: ['a@example.com'] }] }],
      },
    });
    expect(both.statusCode).toBe(400);
    const unknown = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: { title: 'x', policy: 'nope' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('invalid_input');
  });
});

describe('reminders and escalation', () => {
  it('remind the undecided on schedule, escalate, and stop once decided', async () => {
    const title = 'Reminded deploy';
    const approval = await create(title, [
      {
        name: 'leads',
        type: 'human',
        gates: [{ approvers: ['lead@example.com', 'second@example.com'], required: 1 }],
        remindAfter: '1h',
        remindEvery: '1h',
        escalateAfter: '150m',
        escalateTo: ['cto@example.com'],
      },
    ]);
    await deliverDue();
    expect(
      mailsAbout(title)
        .map((m) => m.to)
        .sort(),
    ).toEqual(['lead@example.com', 'second@example.com']);

    h.advance(59 * MINUTE);
    await deliverDue();
    expect(mailsAbout(title)).toHaveLength(2);

    h.advance(2 * MINUTE); // 1h01
    await deliverDue();
    const first = mailsAbout(title).filter((m) => m.subject.startsWith('Reminder:'));
    expect(first.map((m) => m.to).sort()).toEqual(['lead@example.com', 'second@example.com']);

    h.advance(HOUR); // 2h01: second reminder
    await deliverDue();
    expect(mailsAbout(title).filter((m) => m.subject.startsWith('Reminder:'))).toHaveLength(4);
    expect(mailsAbout(title).filter((m) => m.to === 'cto@example.com')).toHaveLength(0);

    h.advance(30 * MINUTE); // 2h31: escalation
    await deliverDue();
    const escalated = mailsAbout(title).filter((m) => m.to === 'cto@example.com');
    expect(escalated).toHaveLength(1);
    expect(escalated[0]?.subject.startsWith('Reminder:')).toBe(false);
    const view = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
    expect(view.stages[0].gates[0].approvers).toContain('cto@example.com');

    expect((await decideAs(approval.id, 'cto@example.com', 'approve')).statusCode).toBe(201);
    const before = mailsAbout(title).length;
    h.advance(3 * HOUR);
    await deliverDue();
    expect(mailsAbout(title)).toHaveLength(before);
    const types = await auditTypes(approval.id);
    expect(types.filter((t) => t === 'approval.reminded')).toHaveLength(2);
    expect(types.filter((t) => t === 'approval.escalated')).toHaveLength(1);
  });
});

describe('escalation that completes a stage', () => {
  it('approves when the added approver re-seats approvals already given', async () => {
    const approval = await create('Escalation completes', [
      {
        name: 'pair',
        type: 'human',
        gates: [
          { approvers: ['alice@example.com', 'dave@example.com'] },
          { approvers: ['carol@example.com'] },
        ],
        escalateAfter: '1h',
        escalateTo: ['dave@example.com'],
      },
    ]);
    expect((await decideAs(approval.id, 'alice@example.com', 'approve')).statusCode).toBe(201);
    expect((await decideAs(approval.id, 'dave@example.com', 'approve')).statusCode).toBe(201);
    h.advance(61 * MINUTE);
    await deliverDue();
    const view = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
    expect(view.status).toBe('approved');
    expect(view.stages[0].gates.map((g: { approvals: string[] }) => g.approvals)).toEqual([
      ['alice@example.com'],
      ['dave@example.com'],
    ]);
  });
});

describe('stage timeouts', () => {
  const human = (onTimeout: string, name = 'first') => ({
    name,
    type: 'human',
    gates: [{ approvers: ['lead@example.com'] }],
    timeout: '2h',
    onTimeout,
  });
  const later = { name: 'later', type: 'human', gates: [{ approvers: ['pm@example.com'] }] };

  async function timedOut(stages: unknown[]) {
    const approval = await create(`Timeout ${Math.random()}`, stages);
    await deliverDue();
    h.advance(119 * MINUTE);
    await deliverDue();
    const still = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
    expect(still.status).toBe('pending');
    expect(still.stages[0].status).toBe('pending');
    h.advance(2 * MINUTE);
    await deliverDue();
    return (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
  }

  it('reject by default, on the audit trail', async () => {
    const view = await timedOut([{ ...human('reject'), onTimeout: undefined }, later]);
    expect(view.status).toBe('rejected');
    expect(view.reason).toContain('timed out');
    expect(view.decisions).toEqual([
      expect.objectContaining({ actor: 'timeout', verdict: 'reject', via: 'timeout' }),
    ]);
  });

  it('pass the stage with onTimeout: approve', async () => {
    const view = await timedOut([human('approve'), later]);
    expect(view.status).toBe('pending');
    expect(view.stages.map((s: { status: string }) => s.status)).toEqual(['passed', 'pending']);
  });

  it('hand over with onTimeout: escalate, and reject when nobody is after it', async () => {
    const handed = await timedOut([human('escalate'), later]);
    expect(handed.stages.map((s: { status: string }) => s.status)).toEqual(['skipped', 'pending']);
    const alone = await timedOut([human('escalate')]);
    expect(alone.status).toBe('rejected');
  });
});
