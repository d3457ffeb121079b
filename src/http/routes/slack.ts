import type { FastifyInstance } from 'fastify';
import { SignoffError } from '../../core/errors.js';
import { handleSlackInteraction } from '../../intake/slack-interactions.js';
import { acceptSlackRequestOnce, checkSlackSignature } from '../../intake/slack-signature.js';
import type { Services } from '../../services.js';
import { errorResponses, SlackAnswer } from '../responses.js';

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The `payload` field of Slack's form body, parsed; a body without one is refused. */
function readPayload(body: string): unknown {
  const raw = new URLSearchParams(body).get('payload');
  if (raw === null) throw new SignoffError('invalid_input', 'The body has no payload field.');
  try {
    return JSON.parse(raw);
  } catch {
    throw new SignoffError('invalid_input', 'The payload is not JSON.');
  }
}

/**
 * POST /integrations/slack/interactions: button clicks and modal submissions from Slack.
 * The signature is checked over the raw body before anything is read; a request is acted
 * on once. The decision commits here; message updates go through the outbox.
 */
export async function registerSlackRoutes(app: FastifyInstance, services: Services) {
  const { slack } = services;
  const secret = services.config.slackSigningSecret;
  // Slack signs the body as sent: it is kept as text, and parsed only once verified.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );

  // Slack sends the whole message back with a click, form-encoded: more than an API body.
  const schema = {
    summary: 'Approve / Reject clicks and the reject modal, from Slack',
    description:
      'Only Slack can post here: the v0 signature (X-Slack-Signature over the raw body and X-Slack-Request-Timestamp, within five minutes) is checked before anything is read, and each request is acted on once. The clicker decides through the same rules as every other channel. See docs/slack.md.',
    tags: ['integrations'],
    response: {
      200: SlackAnswer,
      ...errorResponses([
        'invalid_input',
        'unsupported_media_type',
        'body_too_large',
        'not_found',
        'invalid_signature',
        'replayed',
        'upstream_failed',
      ]),
    },
  };
  app.post('/integrations/slack/interactions', { bodyLimit: 1024 * 1024, schema }, async (request, reply) => {
    if (!slack || !secret) throw new SignoffError('not_found', 'Slack is not configured here.');
    if (typeof request.body !== 'string')
      throw new SignoffError('unsupported_media_type', 'Slack posts application/x-www-form-urlencoded.');
    const signature = header(request.headers['x-slack-signature']);
    const check = checkSlackSignature({
      secret,
      body: request.body,
      timestamp: header(request.headers['x-slack-request-timestamp']),
      signature,
      now: services.now(),
    });
    if (check !== 'ok')
      throw new SignoffError(
        'invalid_signature',
        check === 'stale'
          ? 'The request timestamp is missing or more than five minutes away.'
          : 'The Slack signature does not match.',
      );
    await acceptSlackRequestOnce(services, signature ?? '');
    const answer = await handleSlackInteraction(services, slack, readPayload(request.body));
    if (answer.notice) {
      const { notice } = answer;
      // Told after the answer: Slack wants its acknowledgement within three seconds.
      setImmediate(() => {
        slack.postEphemeral(notice).catch((error: unknown) => {
          services.logger.warn({ err: error }, 'could not tell a Slack user why nothing changed');
        });
      });
    }
    if (answer.body) return reply.code(200).send(answer.body);
    return reply.code(200).send();
  });
}
