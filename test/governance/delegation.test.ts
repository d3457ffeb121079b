import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { startSmtpServer } from '../helpers/smtp.js';

/*
 * D (lead) is away for two days and delegates to C (pm): C is asked in D's place and decides as
 * "C for D"; never on C's own request; C's own delegation does not pass D's on; afterwards D
 * is asked again.
 */

const DAY = 86_400_000;

let h: Harness;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
const keys: Record<string, string> = {};

beforeAll(async () => {
  smtp = await startSmtpServer();
  h = await startHarness({ SIGNOFF_SMTP_URL: smtp.url }, { workers: false });
  for (const person of ['lead', 'pm', 'sre', 'dev'])
    keys[person] = await h.keyFor(`${person}@example.com`, [
      'approvals:decide',
      'approvals:read',
      'approvals:create',
    ]);
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

async function deliverDue() {
  for (let round = 0; round < 5; round++) if ((await h.signoff.dispatcher.runOnce()) === 0) break;
}

async function ask(
  requester: string,
  gate: { approvers: string[]; required?: number } = { approvers: ['lead@example.com'] },
) {
  const title = `Release ${Math.random().toString(36).slice(2, 8)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    token: keys[requester],
    payload: { title, ...gate },
  });
  expect(res.statusCode, res.body).toBe(201);
  await deliverDue();
  const mailedTo = smtp.mails.filter((m) => m.subject.includes(title)).map((m) => m.to);
  return { id: res.json().id as string, mailedTo };
}

const approve = (id: string, person: string) =>
  h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    token: keys[person],
    payload: { verdict: 'approve' },
  });

describe('delegation while away', () => {
  it('asks the delegate in the delegator’s place, records "C for D", and holds the gate’s rules', async () => {
    const until = new Date(Date.now() + 2 * DAY).toISOString();
    const declared = await h.api({
      method: 'POST',
      url: '/v1/delegations',
      token: keys.lead,
      payload: { to: 'pm@example.com', until, reason: 'on leave' },
    });
    expect(declared.statusCode, declared.body).toBe(201);
    expect(declared.json()).toMatchObject({ delegator: 'lead@example.com', delegate: 'pm@example.com' });
    // Bounded by the operator: a year is refused.
    const tooLong = await h.api({
      method: 'POST',
      url: '/v1/delegations',
      token: keys.lead,
      payload: { to: 'pm@example.com', until: new Date(Date.now() + 365 * DAY).toISOString() },
    });
    expect(tooLong.statusCode).toBe(400);

    // An approval naming D asks C, and C's approval reads "C for D".
    const named = await ask('dev');
    expect(named.mailedTo).toEqual(['pm@example.com']);
    const mail = smtp.mails.find(
      (m) => m.to === 'pm@example.com' && m.text.includes('delegated their approvals'),
    );
    expect(mail?.text).toContain('lead@example.com is away and delegated their approvals to you');
    const decided = await approve(named.id, 'pm');
    expect(decided.statusCode, decided.body).toBe(201);
    expect(decided.json()).toMatchObject({
      status: 'approved',
      decisions: [{ actor: 'pm@example.com', onBehalfOf: 'lead@example.com' }],
      stages: [{ gates: [{ approvals: ['pm@example.com for lead@example.com'] }] }],
    });

    // D, back early, may not fill the seat C filled for them: one seat, one vote.
    const twice = await ask('dev', { approvers: ['lead@example.com', 'sre@example.com'], required: 2 });
    expect((await approve(twice.id, 'pm')).statusCode).toBe(201);
    const again = await approve(twice.id, 'lead');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('duplicate_decision');

    // Requested by C and naming D: D is asked, and C may not decide it for D.
    const own = await ask('pm');
    expect(own.mailedTo).toEqual(['lead@example.com']);
    const refused = await approve(own.id, 'pm');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('not_approver');

    // Requested by D, who delegated to C: nobody fills the requester's seat, so C may not approve
    // D's own request for them (the gate still needs sre).
    const ownOfD = await ask('lead', { approvers: ['lead@example.com', 'sre@example.com'] });
    expect(ownOfD.mailedTo.sort()).toEqual(['lead@example.com', 'sre@example.com']);
    const forRequester = await approve(ownOfD.id, 'pm');
    expect(forRequester.statusCode).toBe(403);
    expect(forRequester.json().error.code).toBe('not_approver');

    // C delegates too: D's seat is not passed on to C's delegate.
    const chained = await h.api({
      method: 'POST',
      url: '/v1/delegations',
      token: keys.pm,
      payload: { to: 'sre@example.com', until },
    });
    expect(chained.statusCode).toBe(201);
    const third = await ask('dev');
    expect(third.mailedTo).toEqual(['pm@example.com']);
    expect((await approve(third.id, 'sre')).json().error.code).toBe('not_approver');

    // After the end, D is asked again and C decides nothing for D.
    h.advance(2 * DAY + 60_000);
    try {
      const after = await ask('dev');
      expect(after.mailedTo).toEqual(['lead@example.com']);
      expect((await approve(after.id, 'pm')).json().error.code).toBe('not_approver');
    } finally {
      h.advance(-(2 * DAY + 60_000));
    }

    // Listed for both, and ended early by its delegator.
    const listed = await h.api({ method: 'GET', url: '/v1/delegations', token: keys.pm });
    expect(
      listed
        .json()
        .items.map((d: { delegator: string }) => d.delegator)
        .sort(),
    ).toEqual(['lead@example.com', 'pm@example.com']);
    const ended = await h.api({
      method: 'POST',
      url: `/v1/delegations/${declared.json().id}/end`,
      token: keys.lead,
    });
    expect(ended.statusCode, ended.body).toBe(200);
    const nextOne = await ask('dev');
    expect(nextOne.mailedTo).toEqual(['lead@example.com']);
  });
});
