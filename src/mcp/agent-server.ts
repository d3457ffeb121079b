import { createRequire } from 'node:module';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../auth/principal.js';
import { SignoffError } from '../core/errors.js';
import type { Services } from '../services.js';
import { AGENT_TOOLS, runTool } from './tools.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const INSTRUCTIONS =
  'signoff asks people to approve what you are about to do. Before a risky action, call request_approval with the exact action; act only once its status is approved, and only with the action whose hash was approved. You cannot approve anything yourself: people decide, on their own devices.';

/** A tool's failure as MCP reports it to the model: the code and what to do, never internals. */
function failure(error: unknown, services: Services): CallToolResult {
  const known = error instanceof SignoffError;
  if (!known) services.logger.error({ err: error }, 'MCP tool failed');
  const code = known ? error.code : 'internal';
  const message = known ? error.message : 'signoff could not do that; try again shortly.';
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    structuredContent: {
      error: { code, message, ...(known && error.details ? { details: error.details } : {}) },
    },
  };
}

/**
 * The MCP server one caller talks to: the agent tools, run as that caller. It lists no tool
 * that decides, and none of its tools reaches a decision, whatever the credential holds.
 */
export function createAgentServer(
  services: Services,
  principal: Principal,
  policy: string | undefined,
): Server {
  const server = new Server(
    { name: 'signoff', version },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: AGENT_TOOLS.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: JSON.parse(JSON.stringify(tool.input)),
      annotations: { title: tool.title, openWorldHint: false, ...tool.annotations },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    try {
      const result = await runTool(request.params.name, request.params.arguments, {
        services,
        principal,
        policy,
        signal: extra.signal,
      });
      return { content: [{ type: 'text', text: result.text }], structuredContent: result.structured };
    } catch (error) {
      return failure(error, services);
    }
  });
  return server;
}
