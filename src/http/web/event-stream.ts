import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Streams a `change` event (server-sent events) whenever `listen` calls the `send` it is
 * given (fed by the change notifications long-polls wait on), until the browser leaves;
 * `listen` answers how to stop listening. `open` holds the streams so that shutting down
 * can end them.
 */
export function streamChanges(
  open: Set<FastifyReply>,
  request: FastifyRequest,
  reply: FastifyReply,
  listen: (send: () => void) => () => void,
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
  const stop = listen(send);
  // A comment now and then keeps proxies from closing an idle stream.
  const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 25_000);
  open.add(reply);
  const close = () => {
    clearInterval(keepAlive);
    stop();
    open.delete(reply);
  };
  request.raw.once('close', close);
  raw.once('close', close);
  // A browser that left while the stream was looked up closed it before anyone listened:
  // no close will come, and the stream would be held for good.
  if (request.raw.destroyed || raw.destroyed) close();
}
