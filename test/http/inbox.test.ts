import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
let lead: string;
const ids: Record<string, string> = {};

async function create(name: string, body: Record<string, unknown>) {
  const { approvers: _, ...base } = approvalBody();
  const payload = { ...(body.stages ? base : approvalBody()), title: name, ...body };
  const res = await h.api({ method: 'POST', url: '/v1/approvals', payload });
  expect(res.statusCode).toBe(201);
  ids[name] = res.json().id;
}

beforeAll(async () => {
  h = await startHarness({}, { workers: false });
  lead = await h.keyFor('lead@example.com', ['approvals:read', 'approvals:decide']);
  await create('mine', { approvers: ['lead@example.com', 'pm@example.com'], required: 2 });
  await create('second stage', {
    stages: [
      { name: 'qa', type: 'human', gates: [{ approvers: ['qa@example.com'], required: 1 }] },
      { name: 'prod', type: 'human', gates: [{ approvers: ['lead@example.com'], required: 1 }] },
    ],
  });
  await create('not mine', { approvers: ['other@example.com'] });
  await create('asked by lead', { approvers: ['other@example.com'], requester: 'lead@example.com' });
  await create('lead may not approve own', {
    approvers: ['lead@example.com', 'other@example.com'],
    requester: 'lead@example.com',
  });
});
afterAll(async () => {
  await h.close();
});

const titles = (body: { items: { title: string }[] }) => body.items.map((i) => i.title);

describe('GET /v1/approvals?waiting_for=me and ?requested_by=me', () => {
  it('lists exactly what the waiting stage asks of the caller, and what they asked for', async () => {
    const waiting = await h.api({ method: 'GET', url: '/v1/approvals?waiting_for=me', token: lead });
    expect(waiting.statusCode).toBe(200);
    expect(titles(waiting.json())).toEqual(['mine']);
    const asked = await h.api({ method: 'GET', url: '/v1/approvals?requested_by=me', token: lead });
    expect(titles(asked.json())).toEqual(['lead may not approve own', 'asked by lead']);
  });

  it('drops an approval once the caller decided, and shows the next stage when it reaches them', async () => {
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${ids.mine}/decisions`,
      token: lead,
      payload: { verdict: 'approve' },
    });
    expect(decided.statusCode).toBe(201);
    const qa = await h.keyFor('qa@example.com', ['approvals:decide']);
    await h.api({
      method: 'POST',
      url: `/v1/approvals/${ids['second stage']}/decisions`,
      token: qa,
      payload: { verdict: 'approve' },
    });
    const waiting = await h.api({ method: 'GET', url: '/v1/approvals?waiting_for=me', token: lead });
    expect(titles(waiting.json())).toEqual(['second stage']);
  });

  it('pages with a cursor', async () => {
    const first = await h.api({ method: 'GET', url: '/v1/approvals?requested_by=me&limit=1', token: lead });
    expect(titles(first.json())).toEqual(['lead may not approve own']);
    const cursor = first.json().nextCursor;
    expect(cursor).toBeTruthy();
    const second = await h.api({
      method: 'GET',
      url: `/v1/approvals?requested_by=me&limit=1&cursor=${cursor}`,
      token: lead,
    });
    expect(titles(second.json())).toEqual(['asked by lead']);
  });

  it('refuses values other than me, both at once, and a credential that names nobody', async () => {
    for (const url of [
      '/v1/approvals?waiting_for=someone@example.com',
      '/v1/approvals?waiting_for=me&requested_by=me',
    ]) {
      const res = await h.api({ method: 'GET', url, token: lead });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe('invalid_input');
    }
    const nobody = await h.keyFor(null, ['approvals:read']);
    const res = await h.api({ method: 'GET', url: '/v1/approvals?waiting_for=me', token: nobody });
    expect(res.statusCode).toBe(400);
  });
});
