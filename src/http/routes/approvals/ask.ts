import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestApprovalAs } from '../../../approvals/as-principal.js';
import { CreateApprovalBody } from '../../../approvals/request.js';
import { loadApprovalView } from '../../../approvals/view.js';
import { approvalView } from '../../../core/view.js';
import { principalOf } from '../../auth.js';
import { ApprovalView, errorResponses, GUARDED, WITH_BODY } from '../../responses.js';
import { CreateApprovalHeaders } from '../../schemas.js';
import { type ApprovalRoutes, security, tags } from './shared.js';

/** An approval this request just created has had no notification to give up on. */
const NOTHING_FAILED_YET = [] as const;

/** POST /v1/approvals: ask for an approval, as the credential. */
export function registerAsk({ app, services, can }: ApprovalRoutes) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/v1/approvals',
    {
      schema: {
        summary: 'Ask for an approval',
        description:
          'Creates an approval and notifies its approvers. With an Idempotency-Key, a retried create answers 200 with the first approval (header idempotent-replayed: true).',
        tags,
        security,
        body: CreateApprovalBody,
        headers: CreateApprovalHeaders,
        response: {
          201: ApprovalView,
          200: ApprovalView,
          ...errorResponses([
            ...GUARDED,
            ...WITH_BODY,
            'callback_not_allowed',
            'inline_policy_forbidden',
            'policy_not_allowed',
            'idempotency_conflict',
          ]),
        },
      },
      preValidation: can('approvals:create'),
    },
    async (request, reply) => {
      const { approval, created } = await requestApprovalAs(
        services,
        principalOf(request),
        request.body,
        request.headers['idempotency-key'],
      );
      if (created) return reply.status(201).send(approvalView(approval, NOTHING_FAILED_YET));
      reply.header('idempotent-replayed', 'true');
      return reply.status(200).send(await loadApprovalView(services.db, approval));
    },
  );
}
