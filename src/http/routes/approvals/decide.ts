import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf, loadPermitted } from '../../../approvals/as-principal.js';
import { decideApproval } from '../../../approvals/decide.js';
import { grantStep, grantTermsOf } from '../../../approvals/standing-grants.js';
import { loadApprovalView } from '../../../approvals/view.js';
import { SignoffError } from '../../../core/errors.js';
import { principalOf } from '../../auth.js';
import { ApprovalView, errorResponses, GUARDED, WITH_BODY } from '../../responses.js';
import { ApiDecisionBody, ApprovalParams } from '../../schemas.js';
import { type ApprovalRoutes, security, tags } from './shared.js';

/** POST /v1/approvals/{id}/decisions: approve (with a standing grant, if asked) or reject, as the credential. */
export function registerDecide({ app, services, can }: ApprovalRoutes) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/v1/approvals/:id/decisions',
    {
      schema: {
        summary: 'Approve or reject as the credential holder',
        tags,
        security,
        params: ApprovalParams,
        description:
          'With `grant` (an approval only), also allows the same action again for the same requester and gate: `uses` later requests within `for`, each approved as this decider at once. Off unless the operator sets SIGNOFF_GRANT_MAX_USES.',
        body: ApiDecisionBody,
        response: {
          201: ApprovalView,
          ...errorResponses([
            ...GUARDED,
            ...WITH_BODY,
            'not_found',
            'not_approver',
            'self_approval',
            'grant_not_allowed',
            'already_decided',
            'duplicate_decision',
          ]),
        },
      },
      preValidation: can('approvals:decide'),
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const actor = actorOf(principal);
      if (!actor)
        throw new SignoffError('not_approver', 'This credential has no identity that could be an approver.');
      await loadPermitted(services, principal, 'approvals:decide', request.params.id);
      const { grant } = request.body;
      const approval = await decideApproval(
        services,
        request.params.id,
        {
          actor,
          verdict: request.body.verdict,
          comment: request.body.comment,
          inputs: request.body.inputs,
          via: request.headers['x-signoff-client'] === 'cli' ? 'cli' : 'api',
          ip: request.ip,
        },
        grant ? { afterDecide: grantStep(services, actor, grantTermsOf(grant)) } : {},
      );
      return reply.status(201).send(await loadApprovalView(services.db, approval));
    },
  );
}
