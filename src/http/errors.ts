import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, SignoffError } from '../core/errors.js';

/** The one place where error codes become HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  callback_not_allowed: 400,
  unsupported_media_type: 415,
  body_too_large: 413,
  request_timeout: 408,
  unauthorized: 401,
  invalid_token: 401,
  forbidden: 403,
  invalid_signature: 403,
  not_approver: 403,
  self_approval: 403,
  inline_policy_forbidden: 403,
  policy_not_allowed: 403,
  grant_not_allowed: 403,
  not_owner: 403,
  not_found: 404,
  method_not_allowed: 405,
  link_not_found: 404,
  already_decided: 409,
  duplicate_decision: 409,
  too_early: 409,
  replayed: 409,
  idempotency_conflict: 409,
  no_route: 422,
  unknown_requester: 422,
  link_expired: 410,
  link_used: 410,
  rate_limited: 429,
  upstream_timeout: 502,
  upstream_failed: 502,
  database_unavailable: 503,
  identity_provider_unavailable: 503,
  schema_too_new: 500,
  internal: 500,
};

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_input',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_input',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_input',
  FST_ERR_VALIDATION: 'invalid_input',
};

/** The bodies a route's scope parses, as a client names them in Content-Type. */
const BODY_TYPES = [
  { type: 'application/json', what: 'JSON' },
  { type: 'application/x-www-form-urlencoded', what: 'a form' },
];

/** Why a body was refused for its type, and what to send instead, as the refusing scope takes it. */
function mediaTypeMessage(request: FastifyRequest): string {
  const sent = request.headers['content-type']?.split(';')[0]?.trim().slice(0, 100);
  const send = BODY_TYPES.filter(({ type }) => request.server.hasContentTypeParser(type))
    .map(({ type, what }) => `${what} with Content-Type: ${type}`)
    .join(', or ');
  return sent
    ? `A body of type ${sent} is not taken here: send ${send}.`
    : `The body has no Content-Type: send ${send}.`;
}

/** Maps anything thrown to a SignoffError; unknown errors become `internal`. */
export function toSignoffError(error: unknown, request?: FastifyRequest): SignoffError {
  if (error instanceof SignoffError) return error;
  const fastifyError = error as FastifyError;
  const code = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (code === 'unsupported_media_type' && request)
    return new SignoffError(code, mediaTypeMessage(request), { cause: error });
  if (code) return new SignoffError(code, fastifyError.message, { cause: error });
  if (fastifyError.validation)
    return new SignoffError('invalid_input', fastifyError.message, { cause: error });
  if (fastifyError.statusCode === 400 && error instanceof SyntaxError)
    return new SignoffError('invalid_input', 'The body is not valid JSON.', { cause: error });
  if (fastifyError.statusCode === 429)
    return new SignoffError('rate_limited', 'Too many requests; slow down.');
  // Any other refusal by Fastify itself (a malformed URL, a bad header) is the caller's input.
  if (fastifyError.code?.startsWith('FST_') && fastifyError.statusCode && fastifyError.statusCode < 500)
    return new SignoffError('invalid_input', fastifyError.message, { cause: error });
  return new SignoffError('internal', 'Something went wrong on our side.', { cause: error });
}

/**
 * The body of every JSON error answer. `requestId` is the request's id as the log line of
 * the request carries it (`reqId`), so a client's report finds the server's record.
 */
export function errorBody(error: SignoffError, requestId: string) {
  const details = error.details ? { details: error.details } : {};
  return { error: { code: error.code, message: error.message, ...details, requestId } };
}

/** Shapes the answer to an error already coded and given its status. */
export type ErrorRenderer = (
  request: FastifyRequest,
  reply: FastifyReply,
  error: SignoffError,
  status: number,
) => FastifyReply;

/** The API's answer: the error as JSON. */
export const renderJsonError: ErrorRenderer = (request, reply, error, status) =>
  reply.status(status).send(errorBody(error, request.id));

/**
 * A Fastify error handler: coded errors to their status, unknown ones to a generic 500 that
 * names the request id (details go to the log only). A scope that answers in another form
 * (decision pages) sets its own, with its own renderer.
 */
export function createErrorHandler(render: ErrorRenderer = renderJsonError) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const coded = toSignoffError(error, request);
    const status = HTTP_STATUS[coded.code];
    if (coded.code === 'internal') {
      request.log.error({ err: error }, 'unhandled error');
    } else if (status >= 500) {
      request.log.error({ err: error, code: coded.code }, coded.message);
    }
    const message =
      coded.code === 'internal' ? `Something went wrong on our side (request ${request.id}).` : coded.message;
    // What went wrong inside stays in the log; a refusal's details (every problem) go out.
    const details = coded.code === 'internal' ? undefined : coded.details;
    return render(
      request,
      reply,
      new SignoffError(coded.code, message, details ? { details } : undefined),
      status,
    );
  };
}

/** What Node's HTTP server knows of a connection: the answer in flight on it, if any. */
type ServerSocket = Socket & { _httpMessage?: { headersSent?: boolean } };

/**
 * Answers a connection Node's HTTP server gave up on before a request could be handled, in the
 * shape of every other error: a request that did not arrive within SIGNOFF_HTTP_HEADERS_TIMEOUT
 * or SIGNOFF_HTTP_REQUEST_TIMEOUT (or a connection that sent nothing) is `request_timeout`,
 * anything that is not HTTP is `invalid_input`. The connection is closed either way.
 */
export function createClientErrorHandler(newRequestId: () => string, logger: FastifyBaseLogger) {
  return (error: Error & { code?: string }, socket: ServerSocket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const requestId = newRequestId();
    const coded =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new SignoffError('request_timeout', 'The request did not arrive in time; the connection is closed.')
        : new SignoffError(
            'invalid_input',
            error.code === 'HPE_HEADER_OVERFLOW'
              ? 'The request head is larger than 16 KiB.'
              : 'The request is not valid HTTP.',
          );
    const status = HTTP_STATUS[coded.code];
    logger.info({ reqId: requestId, status, reason: error.code }, 'connection refused before a request');
    // An answer already under way on this connection must not be followed by another.
    if (socket.writable && !socket._httpMessage?.headersSent) {
      const body = JSON.stringify(errorBody(coded, requestId));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
