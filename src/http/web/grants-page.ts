import type { StandingGrant } from '../../core/standing-grant.js';
import { grantActive } from '../../core/standing-grant.js';
import { html, type SafeHtml } from '../../html.js';
import { banner, renderPage, type Viewer, when } from './layout.js';

function grantRow(grant: StandingGrant, viewer: Viewer, now: Date): SafeHtml {
  const active = grantActive(grant, now);
  const allows =
    grant.match === 'tool'
      ? html`any call of <code>${grant.tool}</code>`
      : html`<code>${grant.actionHash}</code>`;
  const state = grant.revokedAt
    ? html`revoked by ${grant.revokedBy} ${when(grant.revokedAt)}`
    : active
      ? html`until ${when(grant.expiresAt)}`
      : grant.uses >= grant.maxUses
        ? 'used up'
        : html`expired ${when(grant.expiresAt)}`;
  const revoke = active
    ? html`<form method="post" action="/grants/${grant.id}/revoke"><input type="hidden" name="_csrf" value="${viewer.csrfToken}">
<button type="submit" class="reject">Revoke</button></form>`
    : '';
  return html`<li id="${grant.id}"><p><strong>${grant.granter.id}</strong> allows ${allows} for <strong>${grant.requester ?? 'its requester'}</strong>
(granted on <a href="/approvals/${grant.approvalId}">${grant.approvalId}</a>, stage “${grant.stage}”)</p>
<p>${grant.uses} of ${grant.maxUses} uses · ${state}</p>${revoke}</li>`;
}

/** The grants a person made or that are for their requests, each with Revoke while it runs. */
export function renderGrantsPage(options: {
  grants: readonly StandingGrant[];
  viewer: Viewer;
  now: Date;
  revoked?: string | undefined;
}): string {
  const { grants, viewer, now } = options;
  const list =
    grants.length === 0
      ? html`<p class="muted">No standing grants: none you made, none for your requests.</p>`
      : html`<ul class="items">${grants.map((g) => grantRow(g, viewer, now))}</ul>`;
  return renderPage({
    title: 'Standing grants',
    viewer,
    body: html`<p><a href="/">← Inbox</a></p><h1>Standing grants</h1>
${options.revoked ? banner(`Grant ${options.revoked} is revoked: it approves nothing more.`, 'ok') : ''}
<p>An approver's “approve, and the same again”: each use is their approval of a later identical request, through the same gate.</p>
${list}`,
  });
}
