import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_POLICY } from './agents.js';
import { type Harness, startHarness } from './harness.js';

/** docs/agents.md's agent policy, and a stage two people must approve. */
export const GRANT_POLICIES = `${AGENT_POLICY}
  pair:
    stages:
      - name: people
        type: human
        gates:
          - { name: two, approvers: [lead@example.com, sre@example.com], required: 2 }
`;

export interface GrantHarness {
  readonly h: Harness;
  /** Keys of an agent (asks and reads) and of two approvers (decide and read). */
  readonly agent: string;
  readonly lead: string;
  readonly sre: string;
  close(): Promise<void>;
}

/** signoff with standing grants on (5 uses, 1h at most), the policies above, and the keys of its people. */
export async function startGrantHarness(env: Record<string, string> = {}): Promise<GrantHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'signoff-grants-'));
  writeFileSync(join(dir, 'policies.yaml'), GRANT_POLICIES);
  const h = await startHarness(
    {
      SIGNOFF_POLICIES: join(dir, 'policies.yaml'),
      SIGNOFF_GRANT_MAX_USES: '5',
      SIGNOFF_GRANT_MAX_DURATION: '1h',
      ...env,
    },
    { workers: false },
  );
  return {
    h,
    agent: await h.keyFor('agent@example.com', ['approvals:create', 'approvals:read']),
    lead: await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']),
    sre: await h.keyFor('sre@example.com', ['approvals:decide', 'approvals:read']),
    async close() {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
