import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { createApiKey } from '../../src/auth/api-keys.js';
import type { Permission } from '../../src/auth/principal.js';
import { loadConfig } from '../../src/config.js';
import type { ResolveHost } from '../../src/egress/pinned-request.js';
import { newId } from '../../src/ids.js';
import { createLogger } from '../../src/logger.js';
import { createSignoff, type Signoff } from '../../src/server.js';
import { createTestDatabase } from './database.js';

export interface Harness {
  readonly signoff: Signoff;
  readonly adminKey: string;
  readonly dir: string;
  /** Moves the clock the application sees; real timers are untouched. */
  advance(ms: number): void;
  /** Calls the API with the admin key (or `token`). */
  api(options: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  keyFor(actor: string | null, permissions: Permission[]): Promise<string>;
  close(): Promise<void>;
}

export const ADMIN_KEY = 'sk_test_admin_key_0123456789abcdef';

/**
 * Starts signoff on a fresh database with a settable clock. Webhooks may reach 127.0.0.1,
 * where the tests' receivers listen; `resolveHost` answers for host names instead of DNS.
 */
export async function startHarness(
  env: Record<string, string> = {},
  options: { workers?: boolean; resolveHost?: ResolveHost; logger?: Logger } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'signoff-test-'));
  const database = await createTestDatabase(dir);
  const config = loadConfig({
    ...database.env,
    SIGNOFF_ADMIN_KEY: ADMIN_KEY,
    SIGNOFF_PUBLIC_URL: 'http://signoff.test',
    SIGNOFF_POLL_INTERVAL: '0.05s',
    SIGNOFF_RETRY_BASE: '0.05s',
    SIGNOFF_RETRY_MAX: '0.5s',
    // Receivers here answer at once; on a loaded machine a short timeout would turn a slow
    // answer into a retry and a second delivery. Tests about timeouts set their own.
    SIGNOFF_HTTP_TIMEOUT: '10s',
    SIGNOFF_LINK_RATE_LIMIT: '100000',
    SIGNOFF_LOG_LEVEL: process.env.SIGNOFF_TEST_LOG ?? 'silent',
    SIGNOFF_WEBHOOK_ALLOW: '127.0.0.1/32',
    ...env,
  });
  let offset = 0;
  const printed: string[] = [];
  const signoff = await createSignoff(config, {
    logger: options.logger ?? createLogger(config.logLevel),
    now: () => new Date(Date.now() + offset),
    workers: options.workers ?? true,
    print: (text) => printed.push(text),
    resolveHost: options.resolveHost,
  });
  return {
    signoff,
    adminKey: ADMIN_KEY,
    dir,
    advance(ms) {
      offset += ms;
    },
    api({ token, headers, ...rest }) {
      const auth = token === null ? {} : { authorization: `Bearer ${token ?? ADMIN_KEY}` };
      return signoff.app.inject({ ...rest, headers: { ...auth, ...headers } });
    },
    async keyFor(actor, permissions) {
      const key = await createApiKey(signoff.services.db, newId, new Date(), {
        name: 'test',
        actor,
        permissions,
      });
      return key.secret;
    },
    async close() {
      await signoff.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal valid create body. */
export function approvalBody(overrides: Record<string, unknown> = {}) {
  return { title: 'Deploy web v2.3.1 to production', approvers: ['lead@example.com'], ...overrides };
}
