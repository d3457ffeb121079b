import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { AGENT_POLICY } from '../helpers/agents.js';
import { type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-action-'));
  writeFileSync(join(dir, 'policies.yaml'), AGENT_POLICY);
  h = await startHarness({ SIGNOFF_POLICIES: join(dir, 'policies.yaml') }, { workers: false });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const dropTable = { tool: 'Bash', arguments: { command: 'kubectl delete namespace shop', timeout: 60 } };

function ask(action: unknown, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: { title: 'Agent: run a command', policy: 'agent', action, ...extra },
    headers,
  });
}

describe('canonical JSON (RFC 8785)', () => {
  it('writes the RFC examples byte for byte', () => {
    // RFC 8785 section 3.2.2 (sorting by UTF-16 code units) and 3.2.3's number forms.
    const sorting = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(sorting)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(canonicalJson({ '\r': 1, '1': 2 })).toBe('{"\\r":1,"1":2}');
    expect(canonicalJson([1e21, 1e-7, -0, 0.000001, 333333333.3333333, 4.5, true, null, 'a\u2028'])).toBe(
      '[1e+21,1e-7,0,0.000001,333333333.3333333,4.5,true,null,"a\u2028"]',
    );
    expect(canonicalJson({ b: [{ z: 1, a: 2 }], a: {} })).toBe('{"a":{},"b":[{"a":2,"z":1}]}');
  });
});

describe('an approval bound to an action', () => {
  it('answers with the action and the SHA-256 of its canonical form, whatever the order of its keys', async () => {
    const created = await ask(dropTable);
    expect(created.statusCode).toBe(201);
    const expected = `sha256:${createHash('sha256')
      .update('{"arguments":{"command":"kubectl delete namespace shop","timeout":60},"tool":"Bash"}')
      .digest('hex')}`;
    expect(created.json()).toMatchObject({ status: 'pending', action: dropTable, actionHash: expected });
    const reordered = await ask({
      arguments: { timeout: 60, command: dropTable.arguments.command },
      tool: 'Bash',
    });
    expect(reordered.json().actionHash).toBe(expected);
    const read = await h.api({ method: 'GET', url: `/v1/approvals/${created.json().id}` });
    expect(read.json()).toMatchObject({ action: dropTable, actionHash: expected });
  });

  it('lets rules over the tool and its arguments decide, and asks people for the rest', async () => {
    const read = await ask({ tool: 'Read', arguments: { file_path: '/etc/hosts' } });
    expect(read.json()).toMatchObject({ status: 'approved', reason: 'Reading changes nothing' });
    const ls = await ask({ tool: 'Bash', arguments: { command: 'ls -la' } });
    expect(ls.json()).toMatchObject({ status: 'approved', reason: 'An ordinary command' });
    const rm = await ask({ tool: 'Bash', arguments: { command: 'rm -rf /srv/data' } });
    expect(rm.json()).toMatchObject({
      status: 'pending',
      stages: [{ status: 'skipped' }, { status: 'pending' }],
    });
    // No action at all: the rules cannot tell, so people are asked.
    const bare = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: { title: 'Agent: unknown', policy: 'agent' },
    });
    expect(bare.json()).toMatchObject({ status: 'pending', action: null, actionHash: null });
  });

  it('refuses the same idempotency key with other arguments', async () => {
    const headers = { 'idempotency-key': 'tool-use-42' };
    const first = await ask(dropTable, {}, headers);
    const again = await ask(dropTable, {}, headers);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    const tampered = await ask(
      { ...dropTable, arguments: { command: 'kubectl delete namespace billing' } },
      {},
      headers,
    );
    expect(tampered.statusCode).toBe(409);
    expect(tampered.json().error.code).toBe('idempotency_conflict');
  });

  it('refuses an action that is not an object, or too large', async () => {
    const list = await ask(['rm', '-rf']);
    expect(list.statusCode).toBe(400);
    expect(list.json().error.code).toBe('invalid_input');
    const huge = await ask({ tool: 'Write', arguments: { content: 'x'.repeat(40 * 1024) } });
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error.details.issues).toEqual([
      expect.objectContaining({ path: '/action', message: expect.stringContaining('32 KiB') }),
    ]);
  });
});

describe('the dry run', () => {
  it('says what rules would do, or who would be asked, and stores nothing', async () => {
    const before = (await h.api({ method: 'GET', url: '/v1/approvals?limit=100' })).json().items.length;
    const dryRun = (action: unknown) =>
      h.api({
        method: 'POST',
        url: '/v1/approvals/dry-run',
        payload: { title: 'Agent', policy: 'agent', action },
      });
    const read = await dryRun({ tool: 'Grep', arguments: { pattern: 'TODO' } });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      outcome: 'approved',
      reason: 'Reading changes nothing',
      waitsFor: null,
    });
    const rm = await dryRun({ tool: 'Bash', arguments: { command: 'rm -rf /' } });
    expect(rm.json()).toMatchObject({
      outcome: 'needs_review',
      reason: null,
      waitsFor: {
        stage: 'people',
        type: 'human',
        gates: [{ name: 'owners', approvers: ['lead@example.com'], required: 1 }],
      },
      actionHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect((await h.api({ method: 'GET', url: '/v1/approvals?limit=100' })).json().items.length).toBe(before);
  });

  it('refuses what a create would refuse', async () => {
    const pinned = await h.keyFor(null, ['approvals:create']);
    const loosening = await h.api({
      method: 'POST',
      url: '/v1/approvals/dry-run',
      token: pinned,
      payload: {
        title: 'Agent',
        stages: [{ name: 'r', type: 'rule', rules: [{ when: 'true', then: 'approve' }] }],
      },
    });
    expect(loosening.statusCode).toBe(403);
    expect(loosening.json().error.code).toBe('inline_policy_forbidden');
    const reader = await h.keyFor(null, ['approvals:read']);
    const denied = await h.api({
      method: 'POST',
      url: '/v1/approvals/dry-run',
      token: reader,
      payload: { title: 'Agent', policy: 'agent' },
    });
    expect(denied.statusCode).toBe(403);
  });
});
