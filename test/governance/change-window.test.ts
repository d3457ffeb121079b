import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInZone, nextOpening } from '../../src/core/change-window.js';
import { agentSummary, agentView } from '../../src/mcp/agent-view.js';
import { findApproval } from '../../src/store/approvals.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';
import { approvalPageText } from '../helpers/web.js';

/*
 * A policy whose change window is shut now: the approval is approved at once, but its webhook
 * is not told until the window opens (the test moves the clock), and the page says when.
 */

let h: Harness;
let dir: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let lead: string;
// A one-hour window, every day, that starts at least two hours from now (UTC).
const start = (new Date().getUTCHours() + 2) % 24;
const from = start === 23 ? 0 : start;
const window = {
  timezone: 'UTC',
  days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as ('mon' | 'tue')[],
  from: `${String(from).padStart(2, '0')}:00`,
  to: `${String(from + 1).padStart(2, '0')}:00`,
};

beforeAll(async () => {
  receiver = await startReceiver();
  dir = mkdtempSync(join(tmpdir(), 'signoff-window-'));
  writeFileSync(
    join(dir, 'policies.yaml'),
    `policies:
  windowed:
    window: { timezone: UTC, days: [mon, tue, wed, thu, fri, sat, sun], from: "${window.from}", to: "${window.to}" }
    stages:
      - name: review
        type: human
        gates: [{ approvers: [lead@example.com] }]
  strict:
    window: { timezone: UTC, days: [mon, tue, wed, thu, fri, sat, sun], from: "${window.from}", to: "${window.to}", outside: reject }
    stages:
      - name: review
        type: human
        gates: [{ approvers: [lead@example.com] }]
`,
  );
  h = await startHarness({ SIGNOFF_POLICIES: join(dir, 'policies.yaml') }, { workers: false });
  lead = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
  await receiver?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function deliverDue() {
  for (let round = 0; round < 5; round++) if ((await h.signoff.dispatcher.runOnce()) === 0) break;
}

const decidedHooks = (id: string) =>
  receiver.received.filter((r) => {
    const body = JSON.parse(r.body);
    return body.type === 'approval.decided' && body.data.id === id;
  });

describe('a change window', () => {
  it('holds the callback of an approval approved while it is shut until it opens, and the page says when', async () => {
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: {
        title: 'Migrate the orders table',
        policy: 'windowed',
        notify: [],
        callback: { type: 'webhook', url: receiver.url },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const approved = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: lead,
      payload: { verdict: 'approve' },
    });
    expect(approved.statusCode, approved.body).toBe(201);
    expect(approved.json().status).toBe('approved');
    const decidedAt = new Date(approved.json().decidedAt);
    const opens = nextOpening(window, decidedAt);
    if (!opens) throw new Error('the window never opens');
    expect(opens.getTime()).toBeGreaterThan(decidedAt.getTime());

    await deliverDue();
    expect(decidedHooks(id)).toHaveLength(0);

    const page = await approvalPageText(h, 'lead@example.com', id);
    expect(page).toContain(
      `It resumes ${formatInZone(opens, 'UTC')}, when the policy's change window (mon, tue, wed, thu, fri, sat, sun ${window.from}–${window.to} UTC) opens.`,
    );

    // Whatever polls is held too: the approval says until when, signoff wait will not exit 0 before
    // it, and an agent is told not to act before it.
    expect(approved.json().resumesAt).toBe(opens.toISOString());
    const url = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
    const waited = await runCli(['wait', id, '--timeout', '1m'], {
      SIGNOFF_URL: url,
      SIGNOFF_TOKEN: h.adminKey,
    });
    expect(waited.code).toBe(3);
    expect(waited.stderr).toContain(
      `its change window opens ${opens.toISOString()}, later than this wait may last`,
    );
    const stored = await findApproval(h.signoff.services.db, id);
    if (!stored) throw new Error('no approval');
    const told = agentSummary(agentView(stored, 'http://signoff.test'));
    expect(told).toContain(`do not take the action before ${opens.toISOString()}`);

    const moved = opens.getTime() - Date.now() + 60_000;
    h.advance(moved);
    try {
      await deliverDue();
      expect(decidedHooks(id)).toHaveLength(1);
    } finally {
      h.advance(-moved);
    }
  });

  it('rejects, when the policy says so, an approval approved while the window is shut', async () => {
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: { title: 'Rotate the certificates', policy: 'strict', notify: [] },
    });
    const id = created.json().id as string;
    const page = await approvalPageText(h, 'lead@example.com', id);
    expect(page).toContain('approved now, it is rejected; the window opens');
    const approved = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: lead,
      payload: { verdict: 'approve' },
    });
    expect(approved.statusCode, approved.body).toBe(201);
    expect(approved.json()).toMatchObject({ status: 'rejected' });
    expect(approved.json().reason).toContain("Approved outside the policy's change window");
  });
});
