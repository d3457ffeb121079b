#!/usr/bin/env node
import formbody from '@fastify/formbody';
// The yardstick: a bare Fastify process answering the same kinds of request as signoff
// (a JSON read, a JSON create, a form post), with no database, auth or validation behind it.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
await app.register(formbody);
const approval = {
  id: 'apr_01JBENCH0000000000000000000',
  status: 'pending',
  title: 'bench',
  approvers: ['lead@example.com'],
  createdAt: new Date(0).toISOString(),
  decisions: [],
};
app.get('/v1/approvals/:id', async (request) => ({ ...approval, id: request.params.id }));
app.post('/v1/approvals', async (request, reply) => reply.status(201).send({ ...approval, ...request.body }));
app.post('/d/:token', async (request) => ({ ...approval, status: request.body.verdict }));
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`${address}\n`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
