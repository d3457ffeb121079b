import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHashInput, findBrokenLink } from '../../src/core/audit-chain.js';
import { listAudit, toChainedEvent } from '../../src/store/audit.js';
import { audit } from '../../src/unit-of-work/audit.js';
import { runUnitOfWork } from '../../src/unit-of-work/context.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';

let h: Harness;
let env: Record<string, string>;
let lead: string;

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  h = await startHarness();
  const { config } = h.signoff.services;
  // The CLI reads the same database serve uses, from the same settings.
  env = {
    SIGNOFF_DATABASE_URL: config.databaseUrl,
    SIGNOFF_DATABASE_SCHEMA: config.databaseSchema,
    SIGNOFF_LOG_LEVEL: 'silent',
  };
  lead = await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']);
});
afterAll(async () => h.close());

/** An approval with a few events: created, decided, approved. */
async function decidedApproval(): Promise<string> {
  const created = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ notify: [] }),
  });
  expect(created.statusCode).toBe(201);
  const id = created.json().id as string;
  const decided = await h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    token: lead,
    payload: { verdict: 'approve' },
  });
  expect(decided.statusCode).toBe(201);
  return id;
}

describe('the audit hash chain', () => {
  it("chains each approval's events and shows the hashes in the API", async () => {
    const id = await decidedApproval();
    const response = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
    const items = response.json().items as Array<Record<string, unknown>>;
    expect(items.length).toBeGreaterThanOrEqual(2);
    let previous: unknown = null;
    for (const [index, item] of items.entries()) {
      expect(item.seq).toBe(index + 1);
      expect(item.prevHash).toBe(previous);
      // The documented encoding, recomputed from what the API shows.
      const input = auditHashInput({
        id: item.id as string,
        approvalId: id,
        seq: item.seq as number,
        type: item.type as string,
        actor: item.actor as string | null,
        data: item.data,
        at: Date.parse(item.at as string),
        prevHash: item.prevHash as string | null,
      });
      expect(item.hash).toBe(sha256Hex(input));
      previous = item.hash;
    }
  });

  it('stays one chain when many transactions append to one approval at once', async () => {
    const id = await decidedApproval();
    const before = (await listAudit(h.signoff.services.db, id)).length;
    const writers = 12;
    await Promise.all(
      Array.from({ length: writers }, (_, n) =>
        runUnitOfWork(h.signoff.services, (unit) =>
          audit(unit, id, { type: 'link.opened', actor: null, data: { n } }),
        ),
      ),
    );
    const chain = (await listAudit(h.signoff.services.db, id)).map(toChainedEvent);
    expect(chain).toHaveLength(before + writers);
    expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(findBrokenLink(chain, sha256Hex)).toBeUndefined();
  });

  it('verifies untouched chains and names the event edited with SQL', async () => {
    const untouched = await decidedApproval();
    const edited = await decidedApproval();
    const clean = await runCli(['audit', 'verify'], env);
    expect(clean.stderr).toMatch(/verified \d+ events in \d+ approvals/);
    expect(clean.code).toBe(0);

    const target = (await listAudit(h.signoff.services.db, edited))[1];
    if (!target) throw new Error('no second event');
    await sql`update audit_events set actor = ${'mallory@example.com'} where id = ${target.id}`.execute(
      h.signoff.services.db,
    );
    const all = await runCli(['audit', 'verify'], env);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`broken: ${target.id} (event 2, ${target.type}) of ${edited}`);
    expect(all.stdout).toContain('edited');
    expect(all.stdout).not.toContain(untouched);

    const one = await runCli(['audit', 'verify', untouched], env);
    expect(one.code).toBe(0);
    const named = await runCli(['audit', 'verify', edited], env);
    expect(named.code).toBe(1);
    expect(named.stdout).toContain(target.id);
  });

  it('tells an unknown id from a broken chain: not found, exit 3', async () => {
    const untouched = await decidedApproval();
    const result = await runCli(['audit', 'verify', 'apr_nope'], env);
    expect(result.code).toBe(3);
    expect(result.stdout).not.toContain('broken');
    expect(result.stderr).toContain('no approval apr_nope');
    const mixed = await runCli(['audit', 'verify', untouched, 'apr_nope'], env);
    expect(mixed.code).toBe(3);
    expect(mixed.stderr).toMatch(/verified \d+ events in 1 approvals/);

    // An approval whose events were all deleted is still a broken chain.
    await sql`delete from audit_events where approval_id = ${untouched}`.execute(h.signoff.services.db);
    const emptied = await runCli(['audit', 'verify', untouched, 'apr_nope'], env);
    expect(emptied.code).toBe(1);
    expect(emptied.stdout).toContain(`broken: ${untouched} has no audit events`);
  });

  it('names the event after one that was deleted', async () => {
    const id = await decidedApproval();
    const [first, second, third] = await listAudit(h.signoff.services.db, id);
    if (!first || !second || !third) throw new Error('fewer than three events');
    await sql`delete from audit_events where id = ${second.id}`.execute(h.signoff.services.db);
    const result = await runCli(['audit', 'verify', id], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`broken: ${third.id}`);
  });

  it('exports events since a time as JSON lines carrying their hashes', async () => {
    const id = await decidedApproval();
    const result = await runCli(['audit', 'export', '--since', '1h'], env);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const mine = lines.filter((line) => line.approvalId === id);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine[0]).toMatchObject({ seq: 1, prevHash: null, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const after = await runCli(
      ['audit', 'export', '--since', '1h', '--after', String(lines.at(-1)?.id)],
      env,
    );
    expect(after.code).toBe(0);
    expect(after.stdout).toBe('');
    const future = await runCli(['audit', 'export', '--since', '2999-01-01T00:00:00Z'], env);
    expect(future.stdout).toBe('');
  });
});
