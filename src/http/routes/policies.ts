import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { agreementOf } from '../../approvals/agreement.js';
import { type Authenticator, hasUnrestrictedPermission } from '../../auth/principal.js';
import { SignoffError } from '../../core/errors.js';
import { policyHistory } from '../../governance/policy-log.js';
import type { Services } from '../../services.js';
import { principalOf, requirePermission } from '../auth.js';
import { errorResponses, GUARDED, PolicyAgreement, PolicyList, PolicyVersions } from '../responses.js';

const PolicyParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });
const tags = ['policies'];
const security = [{ bearer: [] }];

/** Policy figures span every approval of a policy: restricted credentials may not read them. */
function mustSeeEverything(request: FastifyRequest): void {
  if (!hasUnrestrictedPermission(principalOf(request), 'approvals:read'))
    throw new SignoffError(
      'forbidden',
      'Policy figures span all approvals: this needs an unrestricted credential.',
    );
}

/**
 * A named policy's change log: every version an instance loaded (docs/governance.md), for the
 * same readers as the policies themselves.
 */
function registerPolicyVersions(app: FastifyInstance, services: Services, auth: readonly Authenticator[]) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/v1/policies/:name/versions',
    {
      schema: {
        summary: 'The versions of a named policy: its change log',
        description:
          "Every version an instance loaded, oldest first, each with the time it was first seen and its place in the log's hash chain; `broken` names the first entry that does not verify (docs/governance.md).",
        tags,
        security,
        params: PolicyParams,
        response: {
          200: PolicyVersions,
          ...errorResponses([...GUARDED, 'invalid_input', 'not_found']),
        },
      },
      preValidation: requirePermission(auth, 'approvals:read'),
    },
    async (request) => {
      mustSeeEverything(request);
      const { name } = request.params;
      const history = await policyHistory(services.db, name, services.policies.get(name)?.version);
      if (!history) throw new SignoffError('not_found', `There is no policy named "${name}", nor was there.`);
      return history;
    },
  );
}

/**
 * The named policies, and how often each AI stage that only advised or shadowed agreed with
 * the people who decided: the figure a team needs before letting the AI decide. Figures
 * span every approval of a policy, so restricted credentials may not read them.
 */
export function registerPolicyRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/v1/policies',
    {
      schema: {
        summary: 'List the named policies',
        tags,
        security,
        response: { 200: PolicyList, ...errorResponses(GUARDED) },
      },
      preValidation: requirePermission(auth, 'approvals:read'),
    },
    async (request) => {
      mustSeeEverything(request);
      return {
        items: [...services.policies.values()].map((named) => ({
          name: named.name,
          description: named.description,
          allowSelfApproval: named.policy.allowSelfApproval,
          stages: named.policy.stages.map((s) => ({
            name: s.name,
            type: s.type,
            ...(s.type === 'ai' ? { mode: s.mode } : {}),
          })),
        })),
      };
    },
  );

  api.get(
    '/v1/policies/:name/agreement',
    {
      schema: {
        summary: 'How often advising AI stages agreed with the people who decided',
        tags,
        security,
        params: PolicyParams,
        response: {
          200: PolicyAgreement,
          ...errorResponses([...GUARDED, 'invalid_input', 'not_found']),
        },
      },
      preValidation: requirePermission(auth, 'approvals:read'),
    },
    async (request) => {
      mustSeeEverything(request);
      const named = services.policies.get(request.params.name);
      if (!named) throw new SignoffError('not_found', `There is no policy named "${request.params.name}".`);
      const stages = await agreementOf(services, named);
      return { policy: named.name, stages };
    },
  );

  registerPolicyVersions(app, services, auth);
}
