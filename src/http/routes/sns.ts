import { readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SignoffError } from '../../core/errors.js';
import type { Route } from '../../intake/routing.js';
import { handleSnsNotification } from '../../intake/sns-notification.js';
import { checkAwsUrl, createHttpsGetter, createSnsVerifier } from '../../intake/sns-signature.js';
import type { Services } from '../../services.js';
import { errorResponses, SnsAnswer, WITH_BODY } from '../responses.js';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
// Every signed field but Message is a single line of a known form: a value with a newline
// could move text between fields without changing the signed bytes.
const Line = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '^[^\\r\\n]+$' });

const SnsEnvelopeSchema = Type.Object(
  {
    Type: Type.Union([
      Type.Literal('Notification'),
      Type.Literal('SubscriptionConfirmation'),
      Type.Literal('UnsubscribeConfirmation'),
    ]),
    MessageId: Type.String({ pattern: '^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$' }),
    TopicArn: Type.String({
      maxLength: 300,
      pattern: '^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_.-]+$',
    }),
    Message: Type.String({ maxLength: 300_000 }),
    Timestamp: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' }),
    SignatureVersion: Type.Union([Type.Literal('1'), Type.Literal('2')]),
    Signature: Text(2000),
    SigningCertURL: Line(2000),
    Subject: Type.Optional(Type.String({ maxLength: 200, pattern: '^[^\\r\\n]*$' })),
    SubscribeURL: Type.Optional(Line(2000)),
    UnsubscribeURL: Type.Optional(Text(2000)),
    Token: Type.Optional(Line(2000)),
  },
  // SNS may add fields over time; unknown ones are not signed and are ignored.
  { additionalProperties: true },
);

/**
 * POST /integrations/aws/sns: messages from allowed SNS topics, each signature verified
 * before anything is believed. Subscriptions are confirmed; notifications are handed to
 * the intake (CodePipeline, Step Functions, CloudFormation), once per MessageId.
 */
export async function registerSnsRoutes(app: FastifyInstance, services: Services, routes: readonly Route[]) {
  const { config, logger } = services;
  const get = createHttpsGetter(
    config.httpTimeoutMs,
    config.snsCaFile ? readFileSync(config.snsCaFile, 'utf8') : undefined,
  );
  const verify = createSnsVerifier({ hostPattern: config.snsCertHost, get, now: services.now });
  const topics = new Set(config.snsTopics);

  // SNS posts JSON as text/plain.
  app.addContentTypeParser(
    'text/plain',
    { parseAs: 'string', bodyLimit: 320 * 1024 },
    (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new SignoffError('invalid_input', 'The body is not an SNS message (not JSON).'), undefined);
      }
    },
  );

  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/integrations/aws/sns',
    {
      schema: {
        summary: 'Messages from Amazon SNS (CodePipeline, Step Functions, CloudFormation)',
        description:
          'Only SNS itself can post here: every message is signature-checked, and only the topics in SIGNOFF_SNS_TOPICS are taken. SNS sends JSON as text/plain.',
        tags: ['integrations'],
        body: SnsEnvelopeSchema,
        response: {
          200: SnsAnswer,
          ...errorResponses([
            ...WITH_BODY,
            'forbidden',
            'invalid_signature',
            'no_route',
            'upstream_timeout',
            'upstream_failed',
            // What creating the approval it asks for may refuse.
            'callback_not_allowed',
            'inline_policy_forbidden',
            'policy_not_allowed',
            'idempotency_conflict',
          ]),
        },
      },
      bodyLimit: 320 * 1024,
    },
    async (request) => {
      const envelope = request.body;
      // Refused before any network: a topic we do not serve cannot make us fetch anything.
      if (!topics.has(envelope.TopicArn))
        throw new SignoffError('forbidden', 'Messages from this SNS topic are not accepted.');
      await verify(envelope);
      const log = { topic: envelope.TopicArn, messageId: envelope.MessageId };

      if (envelope.Type === 'SubscriptionConfirmation') {
        const url = checkAwsUrl(envelope.SubscribeURL ?? '', config.snsCertHost, 'SubscribeURL', false);
        await get(url, 64 * 1024);
        logger.info(log, 'SNS subscription confirmed');
        return { confirmed: true };
      }
      if (envelope.Type === 'UnsubscribeConfirmation') {
        logger.warn(log, 'SNS says this endpoint was unsubscribed from the topic');
        return { received: true };
      }

      return handleSnsNotification(services, routes, envelope);
    },
  );
}
