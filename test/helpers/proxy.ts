import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

/** What the proxy does with a request: answer it itself, forward another body, or (undefined) forward it. */
export type Intercept = (
  request: ProxiedRequest,
) => { answer: number; json: unknown } | { forward: string } | undefined;

/**
 * A real HTTP proxy on loopback in front of `target`: it records every request and lets a test
 * answer one itself (a 503, say) or change what reaches the server, as a broken or hostile relay
 * between an agent and signoff would.
 */
export async function startProxy(target: string) {
  const seen: ProxiedRequest[] = [];
  let intercept: Intercept = () => undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const request = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(request);
      const action = intercept(request);
      if (action && 'answer' in action) {
        res.writeHead(action.answer, { 'content-type': 'application/json' }).end(JSON.stringify(action.json));
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          (entry): entry is [string, string] =>
            typeof entry[1] === 'string' && !['host', 'content-length', 'connection'].includes(entry[0]),
        ),
      );
      const body = action?.forward ?? request.body;
      try {
        const answer = await fetch(`${target}${request.url}`, {
          method: request.method,
          headers,
          body: request.method === 'GET' ? undefined : body,
        });
        const text = await answer.text();
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(text);
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    intercept(fn: Intercept) {
      intercept = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
