import type { FastifyInstance } from 'fastify';
import type { Authenticator, Permission } from '../../../auth/principal.js';
import type { Services } from '../../../services.js';
import { requirePermission } from '../../auth.js';

/** What every route of /v1/approvals is given: the services, and the guard of a permission. */
export interface ApprovalRoutes {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly can: (permission: Permission) => ReturnType<typeof requirePermission>;
}

export const tags = ['approvals'];
export const security = [{ bearer: [] }];

export function approvalRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
): ApprovalRoutes {
  return { app, services, can: (permission) => requirePermission(auth, permission) };
}
