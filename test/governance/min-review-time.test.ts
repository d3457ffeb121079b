import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';

/* A policy's minimum reading time: an approve too soon is refused, saying from when it is not. */

let h: Harness;
let dir: string;
let lead: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-read-'));
  writeFileSync(
    join(dir, 'policies.yaml'),
    `policies:
  careful:
    minReviewTime: 2m
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
  rmSync(dir, { recursive: true, force: true });
});

const decide = (id: string, verdict: 'approve' | 'reject') =>
  h.api({ method: 'POST', url: `/v1/approvals/${id}/decisions`, token: lead, payload: { verdict } });

describe('minReviewTime', () => {
  it('refuses an approve 10 s after the request, saying when it will be accepted; 2 minutes on it is', async () => {
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: { title: 'Drop the old tables', policy: 'careful', notify: [] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id, createdAt } = created.json();
    const from = new Date(new Date(createdAt).getTime() + 120_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const clock = `${pad(from.getUTCHours())}:${pad(from.getUTCMinutes())} UTC`;
    let moved = 0;
    try {
      h.advance(10_000);
      moved += 10_000;
      const soon = await decide(id, 'approve');
      expect(soon.statusCode).toBe(409);
      expect(soon.json().error.code).toBe('too_early');
      expect(soon.json().error.message).toContain(`can be approved from `);
      // The harness's clock runs on from real time: "in 1m 50s", give or take the test's own seconds.
      expect(soon.json().error.message).toMatch(new RegExp(`${clock} \\(in 1m \\d+s\\)`));
      h.advance(110_000);
      moved += 110_000;
      const later = await decide(id, 'approve');
      expect(later.statusCode, later.body).toBe(201);
      expect(later.json().status).toBe('approved');
    } finally {
      h.advance(-moved);
    }
  });

  it('never holds back a rejection', async () => {
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: { title: 'Rotate the keys', policy: 'careful', notify: [] },
    });
    const rejected = await decide(created.json().id, 'reject');
    expect(rejected.statusCode, rejected.body).toBe(201);
    expect(rejected.json().status).toBe('rejected');
  });
});
