#!/usr/bin/env node
// What an agent waits for when the policy's rules decide at once: request_approval through MCP
// (Streamable HTTP, the official client), one call at a time as an agent makes them.
// Usage: npm run bench:mcp [-- --count 2000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' } } });
const COUNT = Number(values.count);
const BIN = new URL('../bin/signoff.js', import.meta.url).pathname;
const ADMIN_KEY = 'sk_bench_admin_key_0123456789abcdef';
const POLICIES = `policies:
  agent:
    stages:
      - name: harmless
        type: rule
        rules:
          - when: "has(action.tool) && action.tool in ['Read', 'Grep', 'Glob']"
            then: approve
            reason: Reading changes nothing
      - name: people
        type: human
        gates: [{ approvers: [lead@example.com] }]
`;

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'signoff-bench-mcp-'));
writeFileSync(join(dir, 'policies.yaml'), POLICIES);
const port = await freePort();
const child = spawn(process.execPath, [BIN, 'serve'], {
  env: {
    ...process.env,
    SIGNOFF_PORT: String(port),
    SIGNOFF_DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
    SIGNOFF_ADMIN_KEY: ADMIN_KEY,
    SIGNOFF_POLICIES: join(dir, 'policies.yaml'),
    SIGNOFF_LOG_LEVEL: 'error',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
const client = new Client({ name: 'bench-agent', version: '1.0.0' });
try {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp?policy=agent`), {
      requestInit: { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    }),
  );
  const ask = async (i) => {
    const result = await client.callTool({
      name: 'request_approval',
      arguments: {
        title: `Read file ${i}`,
        action: { tool: 'Read', arguments: { file_path: `src/file-${i}.ts` } },
      },
    });
    if (result.isError || result.structuredContent?.status !== 'approved')
      throw new Error(`not decided by rules: ${JSON.stringify(result)}`);
  };
  process.stderr.write(`warming up, then ${COUNT} rule-decided requests through MCP ...\n`);
  for (let i = 0; i < Math.min(200, COUNT); i++) await ask(`warm-${i}`);
  const latencies = [];
  for (let i = 0; i < COUNT; i++) {
    const started = performance.now();
    await ask(i);
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))].toFixed(2);
  console.log(`\nrequest_approval through MCP, decided by a rule, ${COUNT} calls one at a time (SQLite)`);
  console.log(`p50 ${at(0.5)} ms   p99 ${at(0.99)} ms   max ${latencies.at(-1).toFixed(2)} ms`);
} finally {
  await client.close().catch(() => {});
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
