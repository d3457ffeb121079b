import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApprovalChanges } from '../../changes.js';

/**
 * Streams a `change` event (server-sent events) whenever one of these approvals changes,
 * fed by the change notifications long-polls wait on, until the browser leaves. `open`
 * holds the streams so that shutting down can end them.
 */
export function streamChanges(
  changes: ApprovalChanges,
  open: Set<FastifyReply>,
  request: FastifyRequest,
  reply: FastifyReply,
  ids: readonly string[],
): void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  raw.write('retry: 3000\n\n');
  const send = () => raw.write('event: change\ndata: {}\n\n');
  const stops = ids.map((id) => changes.subscribe(id, send));
  // A comment now and then keeps proxies from closing an idle stream.
  const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 25_000);
  open.add(reply);
  const close = () => {
    clearInterval(keepAlive);
    for (const stop of stops) stop();
    open.delete(reply);
  };
  request.raw.once('close', close);
  raw.once('close', close);
  // A browser that left while the stream was looked up closed it before anyone listened:
  // no close will come, and the stream would be held for good.
  if (request.raw.destroyed || raw.destroyed) close();
}
