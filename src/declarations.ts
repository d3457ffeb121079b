import { checkPinnedPolicies, loadPermissions } from './auth/permission-document.js';
import type { Config } from './config.js';
import { loadRouting } from './intake/routing.js';
import { loadPolicies } from './policies/catalog.js';

/**
 * Policies, routes and permissions from their files, checked against each other; throws on a
 * mistake. Apart from the server, so that `signoff check` reads them without loading it.
 */
export function loadDeclarations(config: Config) {
  const policies = loadPolicies(config.policiesPath, {
    aiConfigured: Boolean(config.aiUrl),
    identity: config.identity,
    slackConfigured: Boolean(config.slackBotToken),
  });
  const routing = loadRouting(config.routesPath, policies);
  const permissions = loadPermissions({
    path: config.permissionsPath,
    issuer: config.oidcIssuer,
    audience: config.oidcAudience,
  });
  checkPinnedPolicies(permissions, (name) => policies.has(name));
  return { policies, routing, permissions };
}
