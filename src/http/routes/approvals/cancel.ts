import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { cancelAs } from '../../../approvals/as-principal.js';
import { loadApprovalView } from '../../../approvals/view.js';
import { principalOf } from '../../auth.js';
import { ApprovalView, errorResponses, GUARDED, WITH_BODY } from '../../responses.js';
import { ApprovalParams, CancelBody } from '../../schemas.js';
import { type ApprovalRoutes, security, tags } from './shared.js';

/** POST /v1/approvals/{id}/cancel: call an approval off, as whoever created it (or an admin). */
export function registerCancel({ app, services, can }: ApprovalRoutes) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/v1/approvals/:id/cancel',
    {
      schema: {
        summary: 'Call an approval off',
        description: 'Only whoever created it (the same credential or restriction scope), or an admin.',
        tags,
        security,
        params: ApprovalParams,
        body: CancelBody,
        response: {
          200: ApprovalView,
          ...errorResponses([...GUARDED, ...WITH_BODY, 'not_found', 'not_owner', 'already_decided']),
        },
      },
      preValidation: can('approvals:create'),
    },
    async (request) => {
      const principal = principalOf(request);
      const cancelled = await cancelAs(services, principal, request.params.id, request.body.reason);
      return loadApprovalView(services.db, cancelled);
    },
  );
}
