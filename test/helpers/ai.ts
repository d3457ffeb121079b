import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  readonly authorization: string | undefined;
  readonly body: { model: string; messages: { role: string; content: string }[]; response_format?: unknown };
}

/** What the fake model does with one request: a verdict, raw content, an HTTP error, or no answer at all. */
export type ChatAnswer =
  | { verdict: { decision: string; confidence: number; rationale: string } }
  | { content: string }
  | { status: number }
  | 'hang';

/**
 * An OpenAI-compatible chat-completions server on loopback: it speaks the real wire format
 * (POST /v1/chat/completions, `choices[0].message.content`) and answers as `script` says.
 */
export async function startChatServer(script: (request: ChatRequest) => ChatAnswer) {
  const requests: ChatRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const request: ChatRequest = {
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      };
      requests.push(request);
      const answer = script(request);
      if (answer === 'hang') {
        hanging.add(res);
        res.once('close', () => hanging.delete(res));
        return;
      }
      if ('status' in answer) {
        res
          .writeHead(answer.status, { 'content-type': 'application/json' })
          .end('{"error":{"message":"boom"}}');
        return;
      }
      const content = 'content' in answer ? answer.content : JSON.stringify(answer.verdict);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-test',
          object: 'chat.completion',
          model: request.body.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
