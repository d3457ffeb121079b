import type { Static, TObject } from '@sinclair/typebox';
import type { Permission, Principal } from '../auth/principal.js';
import type { Services } from '../services.js';

/** The longest one tool call waits for people: less than the timeouts of clients and proxies. */
export const MCP_WAIT_MS = 25_000;

/** Where a tool call runs: who is calling, and the endpoint's settings. */
export interface ToolContext {
  readonly services: Services;
  readonly principal: Principal;
  /** The named policy of this endpoint (`/mcp?policy=NAME`, `signoff mcp --policy NAME`). */
  readonly policy: string | undefined;
  readonly signal: AbortSignal;
}

/** A tool's answer: a sentence for the model, and the same facts as data. */
export interface ToolResult {
  readonly text: string;
  readonly structured: Record<string, unknown>;
}

export interface AgentTool<S extends TObject = TObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly input: S;
  /** MCP's hints: what calling it does to the world. */
  readonly annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean };
  readonly permission: Permission;
  run(args: Static<S>, context: ToolContext): Promise<ToolResult>;
}
