import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../../auth/principal.js';
import type { Services } from '../../../services.js';
import { registerAsk } from './ask.js';
import { registerBreakGlass } from './break-glass.js';
import { registerCancel } from './cancel.js';
import { registerDecide } from './decide.js';
import { registerAuditTrail, registerReads } from './read.js';
import { approvalRoutes } from './shared.js';
import { registerWait } from './wait.js';

/** The /v1/approvals API: one registrar per resource action. */
export function registerApprovalRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
) {
  const routes = approvalRoutes(app, services, auth);
  registerAsk(routes);
  registerReads(routes);
  registerWait(routes);
  registerDecide(routes);
  registerCancel(routes);
  registerBreakGlass(routes);
  registerAuditTrail(routes);
}
