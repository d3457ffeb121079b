import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { actorOf } from '../../../approvals/as-principal.js';
import { isInvolved } from '../../../approvals/inbox.js';
import { findApprovalById } from '../../../approvals/reads.js';
import { SignoffError } from '../../../core/errors.js';
import type { Approval } from '../../../core/model.js';
import type { Services } from '../../../services.js';
import type { WebPerson } from '../../../sessions/web-sessions.js';
import type { Viewer } from '../../web/layout.js';

export const HTML = 'text/html; charset=utf-8';

/** What every room of the web app shares: who is signed in, and the guards of its forms. */
export interface WebRoom {
  /** A preHandler: only a browser with a session passes. */
  readonly signedIn: (request: FastifyRequest) => Promise<void>;
  /** A preHandler: only a form that carries this browser's CSRF token passes. */
  readonly checkCsrf: preHandlerHookHandler;
  readonly personOf: (request: FastifyRequest) => WebPerson;
  readonly viewerOf: (request: FastifyRequest, reply: FastifyReply) => Viewer;
  /** An approval the person may see: one they are part of, or any with an unrestricted read grant. */
  readonly loadVisible: (person: WebPerson, id: string) => Promise<Approval>;
}

/** Whether a signed-in person holds an unrestricted admin grant. */
export function isAdmin(person: WebPerson): boolean {
  return person.grants.some((g) => !g.metadata && g.permissions.has('admin'));
}

/** Only a path on this site may be where signing in returns to (no `//host`, no scheme). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

export function createWebRoom(services: Services, checkCsrf: preHandlerHookHandler): WebRoom {
  const personOf = (request: FastifyRequest): WebPerson => {
    if (!request.web) throw new SignoffError('unauthorized', 'Sign in first.');
    return request.web.person;
  };
  return {
    async signedIn(request) {
      personOf(request);
    },
    checkCsrf,
    personOf,
    viewerOf: (request, reply) => ({ actor: personOf(request).actor, csrfToken: reply.generateCsrf() }),
    async loadVisible(person, id) {
      const approval = await findApprovalById(services, id);
      const readsAll = person.grants.some(
        (g) => !g.metadata && (g.permissions.has('admin') || g.permissions.has('approvals:read')),
      );
      if (!approval || !(readsAll || isInvolved(approval, actorOf(person))))
        throw new SignoffError('not_found', `No approval ${id}.`);
      return approval;
    },
  };
}

/** The session cookie: `__Host-` (this host, path /, https only) when the public URL is https. */
export function sessionCookieOf(services: Services) {
  const secure = services.config.publicUrl.startsWith('https:');
  return {
    name: secure ? '__Host-signoff' : 'signoff',
    options: { path: '/', httpOnly: true, secure, sameSite: 'lax' as const },
  };
}
