import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebSession } from '../../src/sessions/web-sessions.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

// The approval page as a signed-in person sees it. Cancel: for its requester (and an admin), with a reason, through the
// same cancel as the API; never for an approver who did not ask.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { workers: false });
});
afterAll(async () => h.close());

async function browser(actor: string) {
  const session = await startWebSession(h.signoff.services, { actor, groups: [], grants: [] });
  return {
    async page(id: string) {
      return h.signoff.app.inject({ method: 'GET', url: `/approvals/${id}`, cookies: { signoff: session } });
    },
    async cancel(id: string, reason: string) {
      const page = await this.page(id);
      // Any form's token will do: they all come from this browser's CSRF secret.
      const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const csrfCookie = page.cookies.find((c) => c.name === 'signoff-csrf')?.value ?? '';
      return h.signoff.app.inject({
        method: 'POST',
        url: `/approvals/${id}/cancel`,
        cookies: { signoff: session, 'signoff-csrf': csrfCookie },
        payload: { _csrf: token, reason },
      });
    },
  };
}

async function ask(requester: string) {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ requester, approvers: ['lead@example.com'] }),
  });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

describe('cancel from the approval page', () => {
  it('is offered to the requester, who calls it off with a reason', async () => {
    const id = await ask('dev@example.com');
    const dev = await browser('dev@example.com');
    expect((await dev.page(id)).body).toContain('Cancel this request');
    const res = await dev.cancel(id, 'wrong build');
    expect(res.statusCode).toBe(303);
    const after = (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
    expect(after).toMatchObject({ status: 'cancelled', reason: 'Cancelled by dev@example.com: wrong build' });
    expect((await dev.page(id)).body).not.toContain('Cancel this request');
  });

  it('is neither offered to nor taken from an approver who did not ask', async () => {
    const id = await ask('dev@example.com');
    const lead = await browser('lead@example.com');
    expect((await lead.page(id)).body).not.toContain('Cancel this request');
    const res = await lead.cancel(id, 'mine now');
    expect(res.statusCode).toBe(403);
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json().status).toBe('pending');
  });
});

describe('the timeline', () => {
  it('says a verdict once, as the verdict, and the outcome as the approval’s', async () => {
    const id = await ask('dev@example.com');
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: lead,
      payload: { verdict: 'approve', comment: 'looks right' },
    });
    expect(decided.statusCode).toBe(201);
    const page = (await (await browser('dev@example.com')).page(id)).body;
    const start = page.indexOf('<h2>Timeline</h2>');
    const timeline = page.slice(start, page.indexOf('</ul>', start)).replace(/<[^>]+>/g, '');
    expect(timeline).toContain('lead@example.com approved — “looks right”');
    expect(timeline).toContain('→ the request is approved');
    expect(timeline).not.toContain('decided');
    expect(timeline).not.toContain('lead@example.com → the request');
    // Decided, the page says what deciding did: nothing is resumed by signoff itself, and whoever asks reads it.
    expect(page).toContain(
      'What deciding did:</strong> The outcome is recorded for whoever asks (signoff wait, the API).',
    );
    expect(page).not.toContain('nothing else waits on it');
  });
});

describe('deciding several from the inbox', () => {
  it('approves each it may, and reports the reader’s own request as refused, each with its own audit event', async () => {
    const others = [];
    for (let i = 0; i < 4; i++) others.push(await ask('dev@example.com'));
    // The lead asked for this one: a gate they are on, but their own request.
    const own = (
      await h.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: approvalBody({
          title: 'The lead’s own',
          requester: 'lead@example.com',
          approvers: ['lead@example.com', 'pm@example.com'],
        }),
      })
    ).json().id as string;
    const session = await startWebSession(h.signoff.services, {
      actor: 'lead@example.com',
      groups: [],
      grants: [],
    });
    const inbox = await h.signoff.app.inject({ method: 'GET', url: '/', cookies: { signoff: session } });
    for (const id of others) expect(inbox.body).toContain(`name="ids" value="${id}"`);
    // Their own request does not wait for them; a form that names it anyway is refused for it alone.
    expect(inbox.body).not.toContain(`value="${own}"`);
    const token = /name="_csrf" value="([^"]+)"/.exec(inbox.body)?.[1] ?? '';
    const csrfCookie = inbox.cookies.find((c) => c.name === 'signoff-csrf')?.value ?? '';
    const ids = [...others, own];
    const res = await h.signoff.app.inject({
      method: 'POST',
      url: '/approvals/decisions',
      cookies: { signoff: session, 'signoff-csrf': csrfCookie },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams([
        ['_csrf', token],
        ['verdict', 'approve'],
        ['comment', 'batch of the morning'],
        ...ids.map((id): [string, string] => ['ids', id]),
      ]).toString(),
    });
    expect(res.statusCode).toBe(200);
    const text = res.body.replace(/<[^>]+>/g, ' ');
    expect(text).toContain('Decided 4 of 5');
    expect(text).toMatch(
      /The lead’s own\s+Left as it was : The requester may not approve their own request\. \(self_approval\)/,
    );

    for (const id of others) {
      const approval = (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
      expect(approval).toMatchObject({ status: 'approved' });
      expect(approval.decisions).toEqual([
        expect.objectContaining({ actor: 'lead@example.com', comment: 'batch of the morning', via: 'ui' }),
      ]);
      const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` })).json().items;
      expect(audit.filter((e: { type: string }) => e.type === 'approval.decision')).toHaveLength(1);
    }
    const left = (await h.api({ method: 'GET', url: `/v1/approvals/${own}` })).json();
    expect(left).toMatchObject({ status: 'pending', decisions: [] });
  });
});
