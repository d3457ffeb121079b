import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * `signoff mcp`: an MCP server on stdio that passes every message to a signoff server's /mcp
 * with SIGNOFF_TOKEN, and its answers back. The tools, their rules and the credential's
 * permissions are the server's: this process only carries messages.
 */
export async function runMcpBridge(options: {
  url: string;
  token: string;
  policy?: string | undefined;
  log: (line: string) => void;
}): Promise<void> {
  const endpoint = new URL('/mcp', `${options.url.replace(/\/+$/, '')}/`);
  if (options.policy) endpoint.searchParams.set('policy', options.policy);
  const remote = new StreamableHTTPClientTransport(endpoint, {
    requestInit: { headers: { authorization: `Bearer ${options.token}` } },
  });
  const local = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    local.onclose = () => {
      void remote.close();
      resolve();
    };
  });
  remote.onmessage = (message) => {
    // Later requests name the protocol version the two sides agreed on, as a client's would.
    const agreed = (message as { result?: { protocolVersion?: unknown } }).result?.protocolVersion;
    if (typeof agreed === 'string') remote.setProtocolVersion(agreed);
    void local.send(message);
  };
  remote.onerror = (error) => options.log(`signoff mcp: ${error.message}`);
  local.onmessage = (message: JSONRPCMessage) => {
    remote.send(message).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      options.log(`signoff mcp: ${endpoint.origin} did not take a message: ${reason}`);
      // A request must be answered, or the client waits for ever.
      if (isJSONRPCRequest(message))
        void local.send({
          jsonrpc: '2.0',
          id: message.id,
          error: {
            code: -32000,
            message: `signoff at ${endpoint.origin} could not be reached or refused: ${reason}`,
          },
        });
    });
  };
  await remote.start();
  await local.start();
  await closed;
}
