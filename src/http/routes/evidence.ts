import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Authenticator, hasUnrestrictedPermission } from '../../auth/principal.js';
import { SignoffError } from '../../core/errors.js';
import { buildEvidencePack } from '../../governance/evidence.js';
import {
  EVIDENCE_FORMATS,
  EVIDENCE_MEDIA_TYPES,
  evidenceFileName,
  renderEvidence,
} from '../../governance/evidence-formats.js';
import { evidenceRequest } from '../../governance/evidence-period.js';
import { EvidencePackSchema } from '../../governance/evidence-schema.js';
import type { Services } from '../../services.js';
import { principalOf, requirePermission } from '../auth.js';
import { errorResponses, GUARDED } from '../responses.js';

const EvidenceQuery = Type.Object(
  {
    from: Type.String({
      maxLength: 40,
      description: 'The first day (2026-10-01, UTC), or an ISO time with its zone.',
    }),
    to: Type.String({
      maxLength: 40,
      description: 'The last day, whole (2026-12-31), or an ISO time with its zone where the period ends.',
    }),
    format: Type.Optional(
      Type.Unsafe<(typeof EVIDENCE_FORMATS)[number]>({
        type: 'string',
        enum: [...EVIDENCE_FORMATS],
        description: 'json (default), csv or html',
      }),
    ),
    sample: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'List this many approvals picked at random; the summary counts all.',
      }),
    ),
    seed: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Picks the sample: the same seed, the same sample.',
      }),
    ),
  },
  { additionalProperties: false },
);

// An HTML pack is a page of its own: nothing but its inline style may load or run.
const HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** Answers the evidence pack of a period in the format asked for. */
async function answerEvidence(
  services: Services,
  request: FastifyRequest,
  query: Static<typeof EvidenceQuery>,
  reply: FastifyReply,
) {
  if (!hasUnrestrictedPermission(principalOf(request), 'admin'))
    throw new SignoffError(
      'forbidden',
      'The evidence pack spans every approval: it needs an unrestricted admin credential.',
    );
  const { format = 'json', ...period } = query;
  const pack = await buildEvidencePack(services.db, evidenceRequest(period), services.now());
  reply.header('cache-control', 'no-store');
  if (format === 'json') return pack;
  if (format === 'html') reply.header('content-security-policy', HTML_POLICY);
  return reply
    .type(`${EVIDENCE_MEDIA_TYPES[format]}; charset=utf-8`)
    .header('content-disposition', `attachment; filename="${evidenceFileName(pack, format)}"`)
    .send(renderEvidence(pack, format));
}

/**
 * GET /v1/audit/evidence: the evidence pack of a period for an auditor (docs/governance.md),
 * the same `signoff audit evidence` writes, for admins.
 */
export function registerEvidenceRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
) {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/audit/evidence',
    {
      schema: {
        summary: 'The evidence pack of a period',
        description:
          'Every approval created in the period with its deciders, the proof that none was the requester, decision before resume, the policy version in force and its place on the hash chain; a summary with the chains verified. Needs an unrestricted admin credential.',
        tags: ['approvals'],
        security: [{ bearer: [] }],
        querystring: EvidenceQuery,
        response: {
          200: {
            description: 'The pack, as JSON, CSV (one row per decision) or a self-contained HTML report.',
            content: {
              'application/json': { schema: EvidencePackSchema },
              'text/csv': { schema: Type.String() },
              'text/html': { schema: Type.String() },
            },
          },
          ...errorResponses([...GUARDED, 'invalid_input']),
        },
      },
      preValidation: requirePermission(auth, 'admin'),
    },
    (request, reply) => answerEvidence(services, request, request.query, reply),
  );
}
