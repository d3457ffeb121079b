import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { csvRecords } from '../helpers/csv.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';
import { eventually, startReceiver } from '../helpers/receiver.js';

// The evidence pack of a period: 20 approvals (14 approved, 5 rejected, 1 cancelled; the 3rd
// approved by a delegate, the 4th by break-glass), one before and one after it, each resumed
// through its webhook; read by the CLI and the API.
let h: Harness;
let dir: string;
let env: Record<string, string>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let from: string;
let to: string;
const ids: string[] = [];
const MINUTE = 60_000;
/** Approval i waits i + 1 minutes; one in four is rejected; the eighth is cancelled. */
const outcomeOf = (i: number) => (i === 7 ? 'cancelled' : i % 4 === 1 ? 'rejected' : 'approved');
const DELEGATED = 2;
const BROKEN_GLASS = 3;

beforeAll(async () => {
  receiver = await startReceiver();
  dir = mkdtempSync(join(tmpdir(), 'signoff-evidence-'));
  writeFileSync(
    join(dir, 'policies.yaml'),
    'policies:\n  production:\n    stages:\n      - type: human\n        gates:\n          - approvers: [lead@example.com]\n',
  );
  h = await startHarness({ SIGNOFF_POLICIES: join(dir, 'policies.yaml') });
  env = {
    SIGNOFF_DATABASE_URL: h.signoff.services.config.databaseUrl,
    SIGNOFF_DATABASE_SCHEMA: h.signoff.services.config.databaseSchema,
    SIGNOFF_LOG_LEVEL: 'silent',
  };
  const dev = await h.keyFor('dev@example.com', ['approvals:create', 'approvals:read']);
  const lead = await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']);
  const pm = await h.keyFor('pm@example.com', ['approvals:decide', 'approvals:read']);
  const oncall = await h.keyFor('oncall@example.com', ['approvals:break-glass', 'approvals:read']);
  /** The lead is away for the 3rd: pm decides in their place, and the lead ends it after. */
  const decideAsDelegate = async (id: string, i: number) => {
    const until = new Date(at().getTime() + 10 * MINUTE).toISOString();
    const declared = await h.api({
      method: 'POST',
      url: '/v1/delegations',
      token: lead,
      payload: { to: 'pm@example.com', until },
    });
    expect(declared.statusCode).toBe(201);
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: pm,
      payload: { verdict: 'approve', comment: `reviewed #${i}` },
    });
    await h.api({ method: 'POST', url: `/v1/delegations/${declared.json().id}/end`, token: lead });
    return res;
  };
  const create = async (i: number) => {
    const gate = i % 2 === 1 ? { policy: 'production', approvers: undefined } : {};
    const callback = { type: 'webhook', url: receiver.url };
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      token: dev,
      payload: approvalBody({ title: `Deploy web #${i}`, callback, ...gate }),
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  const at = () => h.signoff.services.now();

  await create(100);
  h.advance(3600_000);
  from = at().toISOString();
  for (let i = 0; i < 20; i++) {
    const id = await create(i);
    ids.push(id);
    h.advance((i + 1) * MINUTE);
    const outcome = outcomeOf(i);
    const res =
      outcome === 'cancelled'
        ? await h.api({ method: 'POST', url: `/v1/approvals/${id}/cancel`, token: dev, payload: {} })
        : i === DELEGATED
          ? await decideAsDelegate(id, i)
          : i === BROKEN_GLASS
            ? await h.api({
                method: 'POST',
                url: `/v1/approvals/${id}/break-glass`,
                token: oncall,
                payload: { reason: `outage #${i}` },
              })
            : await h.api({
                method: 'POST',
                url: `/v1/approvals/${id}/decisions`,
                token: lead,
                payload: {
                  verdict: outcome === 'approved' ? 'approve' : 'reject',
                  comment: `reviewed #${i}`,
                },
              });
    expect(res.statusCode).toBeLessThan(300);
  }
  to = new Date(at().getTime() + 1).toISOString();
  h.advance(3600_000);
  await create(101);
  // Every approval of the period has told its webhook the outcome.
  await eventually(async () => {
    const told = await sql<{ n: number }>`select count(distinct approval_id) as n from audit_events
      where type = 'callback.delivered' and data like ${'%approval.decided%'}`.execute(h.signoff.services.db);
    expect(Number(told.rows[0]?.n)).toBeGreaterThanOrEqual(20);
  });
});
afterAll(async () => {
  await h.close();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

const evidence = (...args: string[]) =>
  runCli(['audit', 'evidence', '--from', from, '--to', to, ...args], env);
const withinAMinute = (ms: number | null, minutes: number) => {
  expect(ms).toBeGreaterThanOrEqual(minutes * MINUTE);
  expect(ms).toBeLessThan(minutes * MINUTE + 30_000);
};

describe('the evidence pack', () => {
  it('lists every approval of the period as JSON, with deciders, separation, order, policy and chain', async () => {
    const result = await evidence('--format', 'json');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/verified \d+ events in 20 approvals/);
    const pack = JSON.parse(result.stdout);
    expect(pack.approvals.map((a: { id: string }) => a.id)).toEqual(ids);
    expect(pack.summary).toMatchObject({
      approvals: 20,
      outcomes: { approved: 14, rejected: 5, cancelled: 1, expired: 0, pending: 0 },
      decisions: 18,
      decidedByRequester: 0,
      breakGlass: 1,
      breakGlassReviewsOverdue: 0,
      delegated: 1,
      // lead approved 12 and rejected 5; pm approved once for them.
      approvers: [
        { approver: 'lead@example.com', approved: 12, rejected: 5, neverRejects: false },
        { approver: 'pm@example.com', approved: 1, rejected: 0, neverRejects: false },
      ],
      resumedBeforeDecision: 0,
      policyUnverified: 0,
      chain: { verified: true, approvals: 20, broken: [] },
      policyLog: { verified: true, broken: [] },
    });
    // 19 decided after 1..20 minutes (one by break-glass), the 8th cancelled: the 10th and 18th
    // of them, by nearest rank.
    const { overall, byPolicy } = pack.summary.timeToDecision;
    expect(overall.decided).toBe(19);
    withinAMinute(overall.medianMs, 11);
    withinAMinute(overall.p90Ms, 19);
    expect(byPolicy.map((p: { policy: string }) => p.policy)).toEqual(['inline', 'production']);
    withinAMinute(byPolicy[1].medianMs, 12);
    const current = (await h.api({ method: 'GET', url: '/v1/policies/production/versions' })).json().current;
    for (const [i, approval] of pack.approvals.entries()) {
      expect(approval).toMatchObject({
        title: `Deploy web #${i}`,
        requester: 'dev@example.com',
        status: outcomeOf(i),
        policy: { source: i % 2 ? 'named' : 'inline', verified: true, onChain: true },
        resume: { callback: 'webhook', resumedAt: expect.any(String), decidedBeforeResume: true },
        chain: { verified: true, broken: null, headHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      });
      if (i % 2) expect(approval.policy.version).toBe(current);
      if (i === 7 || i === BROKEN_GLASS) expect(approval.decisions).toEqual([]);
      if (i === BROKEN_GLASS)
        expect(approval.breakGlass).toMatchObject({
          by: 'oncall@example.com',
          reason: `outage #${i}`,
          review: 'open',
          overdue: false,
        });
      else if (i === DELEGATED)
        expect(approval.decisions).toEqual([
          expect.objectContaining({
            decider: 'pm@example.com',
            onBehalfOf: 'lead@example.com',
            deciderIsRequester: false,
          }),
        ]);
      else if (i !== 7)
        expect(approval.decisions).toEqual([
          expect.objectContaining({
            decider: 'lead@example.com',
            deciderKind: 'person',
            verdict: i % 4 === 1 ? 'reject' : 'approve',
            comment: `reviewed #${i}`,
            requester: 'dev@example.com',
            deciderIsRequester: false,
            beforeResume: true,
            chainSeq: expect.any(Number),
            chainHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          }),
        ]);
    }
    expect(pack.policyVersions).toContainEqual(
      expect.objectContaining({ name: 'production', version: current }),
    );
  });

  it('writes CSV with one row per decision (and one for the approval nobody decided)', async () => {
    const res = await h.api({
      method: 'GET',
      url: `/v1/audit/evidence?from=${from}&to=${to}&format=csv`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="signoff-evidence-.*\.csv"$/);
    const rows = csvRecords(res.body);
    expect(rows).toHaveLength(20);
    expect(new Set(rows.map((r) => r.approval))).toEqual(new Set(ids));
    for (const row of rows) {
      expect(row.chain).toBe('verified');
      expect(row.requester).toBe('dev@example.com');
      if (row.approval === ids[BROKEN_GLASS])
        expect(row).toMatchObject({
          'break-glass': `oncall@example.com: outage #${BROKEN_GLASS}`,
          'break-glass review': 'open',
        });
      if (row.status === 'cancelled' || row.approval === ids[BROKEN_GLASS]) expect(row.decider).toBe('');
      else if (row.approval === ids[DELEGATED])
        expect(row).toMatchObject({ decider: 'pm@example.com', 'for (delegation)': 'lead@example.com' });
      else
        expect(row).toMatchObject({
          decider: 'lead@example.com',
          'decider is requester': 'no',
          'before resume': 'yes',
          'decided before resume': 'yes',
          'chain position': expect.stringMatching(/^\d+$/),
        });
    }
  });

  it('picks the same sample for the same seed, and counts the whole period in its summary', async () => {
    const first = JSON.parse((await evidence('--sample', '5', '--seed', 'q4-audit')).stdout);
    const again = JSON.parse((await evidence('--sample', '5', '--seed', 'q4-audit')).stdout);
    expect(first.approvals).toHaveLength(5);
    expect(again.approvals.map((a: { id: string }) => a.id)).toEqual(
      first.approvals.map((a: { id: string }) => a.id),
    );
    expect(first.sample).toEqual({ size: 5, seed: 'q4-audit' });
    expect(first.summary.approvals).toBe(20);
    const unseeded = await evidence('--sample', '3');
    expect(JSON.parse(unseeded.stdout).sample.seed).toMatch(/^[0-9a-f]{16}$/);
    expect(unseeded.stderr).toMatch(/a sample of 3 \(seed [0-9a-f]{16}\)/);
  });

  it('refuses a period that ends before it starts', async () => {
    const result = await runCli(['audit', 'evidence', '--from', '2026-12-31', '--to', '2026-10-01'], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('to must come after from');
    const res = await h.api({ method: 'GET', url: '/v1/audit/evidence?from=2026-12-31&to=2026-10-01' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
  });

  describe('after one audit row is edited in the database', () => {
    let edited: string;
    beforeAll(async () => {
      edited = ids[4] ?? '';
      await sql`update audit_events set actor = ${'mallory@example.com'}
        where approval_id = ${edited} and seq = 2`.execute(h.signoff.services.db);
    });

    it('names the approval whose chain is broken, and exits 1', async () => {
      const result = await evidence('--format', 'json');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`broken: ${edited}: BROKEN at`);
      const pack = JSON.parse(result.stdout);
      expect(pack.summary.chain).toMatchObject({
        verified: false,
        broken: [{ approvalId: edited, at: { seq: 2, reason: 'hash_mismatch' } }],
      });
      expect(pack.approvals.filter((a: { chain: { verified: boolean } }) => !a.chain.verified)).toHaveLength(
        1,
      );
    });

    it('renders as an HTML report in Chromium with no console errors, saying which chain broke', async () => {
      const res = await h.api({ method: 'GET', url: `/v1/audit/evidence?from=${from}&to=${to}&format=html` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
      // Self-contained: nothing to fetch, nothing to run.
      expect(res.body).not.toMatch(/<script|<link|\bsrc=|https?:\/\//);
      let browser: Browser | undefined;
      try {
        browser = await launchBrowser();
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
        });
        page.on('pageerror', (error) => errors.push(error.message));
        await page.setContent(res.body, { waitUntil: 'load' });
        expect(await page.locator('h1').textContent()).toBe('Change approval evidence');
        expect(await page.locator('article').count()).toBe(20);
        expect(await page.locator(`article#${edited}`).textContent()).toContain('BROKEN at');
        expect(await page.locator('main').textContent()).toContain(`${edited}: BROKEN at`);
        // The inline style applied (its hash is what the page's policy allows).
        expect(await page.evaluate("getComputedStyle(document.querySelector('.bad')).fontWeight")).toBe(
          '600',
        );
        expect(errors).toEqual([]);
      } finally {
        await browser?.close();
      }
    });
  });
});
