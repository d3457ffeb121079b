import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { createSignoff } from '../../src/server.js';
import { listAudit } from '../../src/store/audit.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';

// The policy in force: named policies and the routing file get versions, each approval records
// the one it was created under, and every change of the files is an entry of a chained log.
let h: Harness;
let policies: string;
let routes: string;

const policyFile = (approver: string, extra = '') =>
  `policies:\n  production:\n    stages:\n      - type: human\n        gates:\n          - approvers: [${approver}]\n${extra}`;
const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

beforeAll(async () => {
  h = await startHarness();
  policies = join(h.dir, 'policies.yaml');
  routes = join(h.dir, 'routes.yaml');
  writeFileSync(policies, policyFile('lead@example.com'));
  writeFileSync(routes, 'routes:\n  - match: { pipeline: web }\n    policy: production\n');
  // The harness started without files; an instance that has them records them.
  await (await restart()).close();
});
afterAll(async () => h.close());

/** Starts and stops an instance on the harness's database with the files as they are now. */
async function restart(files: { policiesPath?: string; routesPath?: string | undefined } = {}) {
  const config = { ...h.signoff.services.config, policiesPath: policies, routesPath: routes, ...files };
  return createSignoff(config, { workers: false, now: h.signoff.services.now });
}

async function versions(name: string, token?: string) {
  return h.api({ method: 'GET', url: `/v1/policies/${name}/versions`, token });
}

describe('policy versions', () => {
  it('records each version an instance loads once, and removals, in a chained log', async () => {
    const first = (await versions('production')).json();
    // The harness itself holds no policy file: its `current` is null, the log has the entry.
    expect(first.current).toBeNull();
    expect(first.items).toHaveLength(1);
    expect(first.items[0]).toMatchObject({
      seq: 1,
      prevHash: null,
      version: expect.stringMatching(/^sha256:/),
    });
    expect(first.items[0].version).toBe(sha256(canonicalJson(first.items[0].content)));
    expect(first.broken).toBeNull();

    // The same files again: nothing new. An edit: a new version, chained to the one before.
    await (await restart()).close();
    writeFileSync(policies, policyFile('lead@example.com', '    timeout: 2h\n'));
    h.advance(60_000);
    const edited = await restart();
    const current = edited.services.policies.get('production')?.version;
    const res = await edited.app.inject({
      method: 'GET',
      url: '/v1/policies/production/versions',
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    await edited.close();
    const log = res.json();
    expect(log.current).toBe(current);
    expect(log.items.map((i: { seq: number }) => i.seq)).toEqual([1, 2]);
    expect(log.items[1]).toMatchObject({ version: current, prevHash: log.items[0].hash });
    expect(log.items[1].content.timeoutMs).toBe(7_200_000);
    expect(
      Date.parse(log.items[1].firstSeenAt) - Date.parse(log.items[0].firstSeenAt),
    ).toBeGreaterThanOrEqual(60_000);

    // A start without the policy (and without routes) says it is gone; its history stays readable.
    writeFileSync(join(h.dir, 'none.yaml'), 'policies: {}\n');
    await (await restart({ policiesPath: join(h.dir, 'none.yaml'), routesPath: undefined })).close();
    const gone = (await versions('production')).json();
    expect(gone.items.at(-1)).toMatchObject({ seq: 3, version: null, content: null });
    expect((await versions('nothing')).statusCode).toBe(404);
    writeFileSync(policies, policyFile('lead@example.com', '    timeout: 2h\n'));
    await (await restart()).close();
    expect((await versions('production')).json().items.at(-1)).toMatchObject({ seq: 4, version: current });
  });

  it('records on each approval the version it was created under, on its chain too', async () => {
    const instance = await restart();
    try {
      const named = instance.services.policies.get('production')?.version;
      const create = (payload: object) =>
        instance.app.inject({
          method: 'POST',
          url: '/v1/approvals',
          headers: { authorization: `Bearer ${h.adminKey}` },
          payload,
        });
      const byName = (await create(approvalBody({ policy: 'production', approvers: undefined }))).json();
      expect(byName.policyVersion).toBe(named);
      // A request may add a reject comment to a named policy: still that policy's version.
      const tightened = await create(
        approvalBody({ policy: 'production', approvers: undefined, requireRejectComment: true }),
      );
      expect(tightened.json().policyVersion).toBe(named);
      // Inline: the hash of the policy as the approval holds it, which anyone can recompute.
      const inline = (await create(approvalBody())).json();
      const stored = await sql<{
        policy: string;
      }>`select policy from approvals where id = ${inline.id}`.execute(h.signoff.services.db);
      expect(inline.policyVersion).toBe(sha256(canonicalJson(JSON.parse(stored.rows[0]?.policy ?? 'null'))));
      const [created] = await listAudit(h.signoff.services.db, byName.id);
      expect(created?.data).toEqual({ title: byName.title, policyVersion: named });
    } finally {
      await instance.close();
    }
  });

  it('lists versions only for unrestricted readers', async () => {
    const reader = await h.keyFor('auditor@example.com', ['approvals:read']);
    expect((await versions('production', reader)).statusCode).toBe(200);
    const decider = await h.keyFor('lead@example.com', ['approvals:decide']);
    expect((await versions('production', decider)).statusCode).toBe(403);
  });

  it('names the entry an edit of the log broke, in the API and in signoff audit verify', async () => {
    const env = {
      SIGNOFF_DATABASE_URL: h.signoff.services.config.databaseUrl,
      SIGNOFF_DATABASE_SCHEMA: h.signoff.services.config.databaseSchema,
      SIGNOFF_LOG_LEVEL: 'silent',
    };
    const clean = await runCli(['audit', 'verify'], env);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toMatch(/verified \d+ entries of the policy change log \(2 policies and files\)/);

    await sql`update policy_versions set content = ${'{"name":"production","stages":[]}'}
      where source = 'policy' and name = 'production' and seq = 2`.execute(h.signoff.services.db);
    const log = (await versions('production')).json();
    expect(log.broken).toMatchObject({ id: 'policy:production#2', seq: 2, reason: 'hash_mismatch' });
    const broken = await runCli(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('broken: policy:production#2 of the policy change log (production)');
  });
});
