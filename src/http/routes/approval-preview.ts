import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { previewApprovalAs } from '../../approvals/as-principal.js';
import { CreateApprovalBody } from '../../approvals/request.js';
import type { Authenticator } from '../../auth/principal.js';
import type { Approval } from '../../core/model.js';
import { currentStage, effectiveGates } from '../../core/stages.js';
import type { Services } from '../../services.js';
import { principalOf, requirePermission } from '../auth.js';
import { errorResponses, GUARDED, WITH_BODY } from '../responses.js';

/** What a dry run answers: decided at once by rules (and why), or who would be asked. */
export const PreviewView = Type.Object(
  {
    outcome: Type.Unsafe<'approved' | 'rejected' | 'needs_review'>({
      type: 'string',
      enum: ['approved', 'rejected', 'needs_review'],
      description:
        'approved or rejected: rules would decide such a request at once; needs_review: people (or an AI reviewer, then people) would be asked',
    }),
    reason: Type.Union([Type.String(), Type.Null()], { description: 'Why rules decided, when they did.' }),
    waitsFor: Type.Union([
      Type.Object(
        {
          stage: Type.String(),
          type: Type.Unsafe<'human' | 'ai'>({ type: 'string', enum: ['human', 'ai'] }),
          gates: Type.Array(
            Type.Object(
              {
                name: Type.Union([Type.String(), Type.Null()]),
                approvers: Type.Array(Type.String()),
                required: Type.Integer(),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    actionHash: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

/** The dry run's answer for an approval that was prepared and never stored. */
export function previewView(approval: Approval) {
  const stage = currentStage(approval);
  return {
    outcome:
      approval.status === 'approved' || approval.status === 'rejected'
        ? approval.status
        : ('needs_review' as const),
    reason: approval.status === 'pending' ? null : approval.reason,
    waitsFor:
      stage && stage.type !== 'rule'
        ? {
            stage: stage.name,
            type: stage.type,
            gates:
              stage.type === 'human'
                ? effectiveGates(approval, stage).map((gate) => ({
                    name: gate.name ?? null,
                    approvers: [...gate.approvers],
                    required: gate.required,
                  }))
                : [],
          }
        : null,
    actionHash: approval.action?.hash ?? null,
  };
}

/** POST /v1/approvals/dry-run: whether a request would be decided by rules at once, creating nothing. */
export function registerApprovalPreviewRoute(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/approvals/dry-run',
    {
      schema: {
        summary: 'Check what asking would give, without asking',
        description:
          "Checks the body as a create would (the same permissions and gate rules) and evaluates the policy's front rule stages: whether rules would approve or reject such a request at once, or who would be asked. Nothing is stored and nobody is told.",
        tags: ['approvals'],
        security: [{ bearer: [] }],
        body: CreateApprovalBody,
        response: {
          200: PreviewView,
          ...errorResponses([
            ...GUARDED,
            ...WITH_BODY,
            'callback_not_allowed',
            'inline_policy_forbidden',
            'policy_not_allowed',
          ]),
        },
      },
      preValidation: requirePermission(auth, 'approvals:create'),
    },
    async (request) => previewView(await previewApprovalAs(services, principalOf(request), request.body)),
  );
}
