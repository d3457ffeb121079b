import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyAuthenticator } from '../../src/auth/api-keys.js';
import { sha256Hex } from '../../src/auth/secrets.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createSignoff } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli } from '../helpers/process.js';

let dir: string;
let database: TestDatabase;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-keys-'));
  database = await createTestDatabase(dir);
});
afterAll(async () => {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts signoff on the suite's database with these settings, runs `work`, stops it. */
async function withSignoff<T>(
  env: Record<string, string>,
  work: (signoff: Awaited<ReturnType<typeof createSignoff>>) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ ...database.env, SIGNOFF_LOG_LEVEL: 'silent', ...env });
  const signoff = await createSignoff(config, {
    logger: createLogger('silent'),
    workers: false,
    print: () => {},
  });
  try {
    return await work(signoff);
  } finally {
    await signoff.close();
  }
}

const readWith = (signoff: Awaited<ReturnType<typeof createSignoff>>, key: string) =>
  signoff.app.inject({ method: 'GET', url: '/v1/approvals', headers: { authorization: `Bearer ${key}` } });

describe('API keys', () => {
  it('retires the generated admin key once SIGNOFF_ADMIN_KEY is set, and the old one when it rotates', async () => {
    const generated = await withSignoff({}, async (signoff) => {
      const unissued = signoff.unissuedAdminKey;
      expect(unissued?.secret).toMatch(/^sk_/);
      // Not stored until it has been shown.
      expect((await readWith(signoff, unissued?.secret ?? '')).statusCode).toBe(401);
      await unissued?.store();
      expect((await readWith(signoff, unissued?.secret ?? '')).statusCode).toBe(200);
      return unissued?.secret as string;
    });
    const first = 'sk_configured_admin_key_number_one';
    const second = 'sk_configured_admin_key_number_two';
    await withSignoff({ SIGNOFF_ADMIN_KEY: first }, async (signoff) => {
      expect((await readWith(signoff, generated)).statusCode).toBe(401);
      expect((await readWith(signoff, first)).statusCode).toBe(200);
    });
    await withSignoff({ SIGNOFF_ADMIN_KEY: second }, async (signoff) => {
      expect((await readWith(signoff, first)).statusCode).toBe(401);
      expect((await readWith(signoff, second)).statusCode).toBe(200);
      expect(signoff.unissuedAdminKey).toBeUndefined();
    });
  });

  it('lists keys without their secrets and revokes one by id from the command line', async () => {
    const env = { ...database.env, SIGNOFF_LOG_LEVEL: 'silent' };
    const created = await runCli(
      ['keys', 'create', '--permission', 'approvals:read', '--name', 'reader'],
      env,
    );
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    const id = /created (key_\w+)/.exec(created.stderr)?.[1] as string;
    expect(id).toBeDefined();

    const listed = await runCli(['keys', 'list'], env);
    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['ID', 'NAME', 'ACTOR', 'PERMISSIONS', 'CREATED', 'REVOKED']);
    const line = rows.find((l) => l.startsWith(id)) as string;
    expect(line).toContain('reader');
    expect(line).toContain('approvals:read');
    expect(line).toMatch(/ -$/);
    expect(listed.stdout).not.toContain(secret);
    const json = await runCli(['keys', 'list', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.stringify(JSON.parse(json.stdout))).not.toContain(secret);
    expect(JSON.parse(json.stdout)).toContainEqual({
      id,
      name: 'reader',
      actor: null,
      permissions: ['approvals:read'],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      revokedAt: null,
    });

    await withSignoff({ SIGNOFF_ADMIN_KEY: 'sk_configured_admin_key_number_two' }, async (signoff) => {
      expect((await readWith(signoff, secret)).statusCode).toBe(200);
    });
    expect((await runCli(['keys', 'revoke', id], env)).code).toBe(0);
    await withSignoff({ SIGNOFF_ADMIN_KEY: 'sk_configured_admin_key_number_two' }, async (signoff) => {
      expect((await readWith(signoff, secret)).statusCode).toBe(401);
    });
    const after = await runCli(['keys', 'list', '--json'], env);
    const revoked = (JSON.parse(after.stdout) as { id: string; revokedAt: string | null }[]).find(
      (key) => key.id === id,
    );
    expect(revoked?.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const again = await runCli(['keys', 'revoke', id], env);
    expect(again.code).not.toBe(0);
  });

  it('believes a verified key for the cache time, forgets it when told, and never remembers unknown keys', async () => {
    const env = { ...database.env, SIGNOFF_LOG_LEVEL: 'silent' };
    const created = await runCli(
      ['keys', 'create', '--permission', 'approvals:read', '--name', 'cached'],
      env,
    );
    const secret = created.stdout.trim();
    const id = /created (key_\w+)/.exec(created.stderr)?.[1] as string;
    await withSignoff({ SIGNOFF_API_KEY_CACHE_TTL: '1h' }, async (signoff) => {
      const authenticator = createApiKeyAuthenticator(signoff.services.db, { size: 10, ttlMs: 3_600_000 });
      expect(await authenticator.authenticate(secret)).toMatchObject({ credentialId: id });
      expect((await readWith(signoff, secret)).statusCode).toBe(200);
      expect((await runCli(['keys', 'revoke', id], env)).code).toBe(0);
      // Revoked by another process: believed until the cache time runs out (documented).
      expect((await readWith(signoff, secret)).statusCode).toBe(200);
      expect(await authenticator.authenticate(secret)).toMatchObject({ credentialId: id });
      authenticator.forget(sha256Hex(secret));
      await expect(authenticator.authenticate(secret)).rejects.toMatchObject({ code: 'invalid_token' });
      const unknown = 'sk_not_a_key_anyone_was_given_0123';
      await expect(authenticator.authenticate(unknown)).rejects.toMatchObject({ code: 'invalid_token' });
    });
    await withSignoff({ SIGNOFF_API_KEY_CACHE_TTL: '0' }, async (signoff) => {
      expect((await readWith(signoff, secret)).statusCode).toBe(401);
    });
  });
});
