import { verify } from '@octokit/webhooks-methods';
import type { FastifyInstance } from 'fastify';
import { SignoffError } from '../../core/errors.js';
import { handleDeploymentProtectionRule, parseDeploymentProtectionRule } from '../../intake/github.js';
import type { GitHubRouting } from '../../intake/routing.js';
import type { Services } from '../../services.js';
import { errorResponses, GitHubAnswer } from '../responses.js';

/** GitHub's own ceiling for a webhook payload is 25 MB; the events signoff reads are small. */
const BODY_LIMIT = 1024 * 1024;
const DELIVERY_ID = /^[0-9a-fA-F-]{8,64}$/;
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

function header(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : '';
}

/**
 * POST /integrations/github/webhook: the GitHub App's webhooks. The signature
 * (X-Hub-Signature-256, HMAC-SHA256 of the raw body with the App's webhook secret) is
 * verified before the body is parsed; only `deployment_protection_rule` `requested` does
 * anything, every other event is acknowledged and ignored.
 */
export async function registerGitHubRoutes(app: FastifyInstance, services: Services, routing: GitHubRouting) {
  const secret = services.config.githubWebhookSecret;

  // The signature covers the bytes GitHub sent: keep them, parse only once they are believed.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (_r, body, done) => done(null, body),
  );

  const schema = {
    summary: "Webhooks of signoff's GitHub App (deployment protection rules)",
    description:
      'Only GitHub can post here: X-Hub-Signature-256 is verified over the raw body with SIGNOFF_GITHUB_WEBHOOK_SECRET. A `deployment_protection_rule` `requested` event creates the routed approval (200); every other event is acknowledged and ignored (202). See docs/github.md.',
    tags: ['integrations'],
    response: {
      200: GitHubAnswer,
      202: GitHubAnswer,
      ...errorResponses([
        'invalid_input',
        'body_too_large',
        'invalid_signature',
        'no_route',
        'unknown_requester',
        'policy_not_allowed',
        'idempotency_conflict',
      ]),
    },
  };
  app.post('/integrations/github/webhook', { bodyLimit: BODY_LIMIT, schema }, async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : '';
    const signature = header(request.headers['x-hub-signature-256']);
    const event = header(request.headers['x-github-event']);
    const deliveryId = header(request.headers['x-github-delivery']);
    if (!secret)
      throw new SignoffError(
        'invalid_signature',
        'GitHub webhooks are not configured (SIGNOFF_GITHUB_WEBHOOK_SECRET).',
      );
    // The library compares in constant time; a malformed header never reaches it.
    if (!SIGNATURE.test(signature) || !(await verify(secret, raw, signature)))
      throw new SignoffError('invalid_signature', 'The X-Hub-Signature-256 of this webhook does not verify.');
    if (!DELIVERY_ID.test(deliveryId))
      throw new SignoffError('invalid_input', 'X-GitHub-Delivery is missing or malformed.');
    const log = { deliveryId, event };
    if (event !== 'deployment_protection_rule') {
      services.logger.info(log, 'GitHub webhook ignored: not a deployment protection rule');
      return reply.code(202).send({ ignored: event || 'no event name' });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new SignoffError('invalid_input', 'The webhook body is not JSON.');
    }
    const rule = parseDeploymentProtectionRule(body);
    if (rule.action !== 'requested') {
      services.logger.info(
        { ...log, action: rule.action },
        'GitHub webhook ignored: action is not requested',
      );
      return reply.code(202).send({ ignored: rule.action });
    }
    return handleDeploymentProtectionRule(services, routing, rule, deliveryId);
  });
}
