import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import { SignoffError } from '../../core/errors.js';
import { errorResponses } from '../responses.js';

/** What the metrics route serves: the exposition text of this instance's registry. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Lets through only `Authorization: Bearer <token>`, compared in constant time. */
function requireMetricsToken(token: string): preValidationAsyncHookHandler {
  const expected = digest(token);
  return async (request, reply) => {
    const sent = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!sent) {
      reply.header('www-authenticate', 'Bearer');
      throw new SignoffError(
        'unauthorized',
        'Send the metrics token: Authorization: Bearer <SIGNOFF_METRICS_TOKEN>.',
      );
    }
    // Hashing first makes both sides one length, so the comparison says nothing about it.
    if (!timingSafeEqual(digest(sent), expected)) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new SignoffError('invalid_token', 'The metrics token is not valid.');
    }
  };
}

/**
 * GET /metrics in Prometheus' text format, only with SIGNOFF_METRICS_TOKEN set (deny by
 * default: without it the route serves nothing and says how to turn it on). Metrics name
 * policies, kinds and routes, never approvals or people, but they are still the operator's:
 * API keys do not open it.
 */
export function registerMetricsRoutes(
  app: FastifyInstance,
  token: string | undefined,
  source: MetricsSource,
) {
  if (!token) {
    app.get('/metrics', { schema: { hide: true } }, async () => {
      throw new SignoffError(
        'not_found',
        'Metrics are off on this server: setting SIGNOFF_METRICS_TOKEN turns them on here.',
      );
    });
    return;
  }
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (only with SIGNOFF_METRICS_TOKEN set)',
        description: 'See docs/operations.md for every metric and example alert rules.',
        tags: ['operations'],
        security: [{ metricsToken: [] }],
        response: {
          200: {
            description: 'The Prometheus text exposition format.',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...errorResponses(['unauthorized', 'invalid_token']),
        },
      },
      preValidation: requireMetricsToken(token),
    },
    async (_request, reply) => reply.type(source.contentType).send(await source.render()),
  );
}
