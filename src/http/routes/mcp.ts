import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PermissionDocument } from '../../auth/permission-document.js';
import type { Authenticator } from '../../auth/principal.js';
import { SignoffError } from '../../core/errors.js';
import { PolicyName } from '../../policies/spec.js';
import type { Services } from '../../services.js';
import { principalOf, requirePermission } from '../auth.js';

const METADATA_PATH = '/.well-known/oauth-protected-resource';

const McpQuery = Type.Object({ policy: Type.Optional(PolicyName) }, { additionalProperties: false });

/**
 * OAuth protected-resource metadata (RFC 9728) for the MCP endpoint: the identity providers
 * whose people may sign in to it, so an MCP client that does OAuth finds the company's own.
 */
function resourceMetadata(services: Services, permissions: PermissionDocument) {
  const issuers = permissions.issuers
    .filter((issuer) => issuer.people !== false)
    .map((issuer) => issuer.issuer);
  const scopes = new Set(permissions.rules.flatMap((rule) => rule.scopes ?? []));
  return {
    resource: `${services.config.publicUrl}/mcp`,
    authorization_servers: issuers,
    scopes_supported: [...scopes],
    bearer_methods_supported: ['header'],
    resource_name: 'signoff',
    resource_documentation: `${services.config.publicUrl}/docs`,
  };
}

/**
 * What answers MCP, loaded by the first MCP request rather than at start: most signoffs never
 * see an agent, and the MCP SDK was the largest part of loading the server (a quarter of it).
 */
async function loadMcp() {
  const [{ StreamableHTTPServerTransport }, { createAgentServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('../../mcp/agent-server.js'),
  ]);
  return { StreamableHTTPServerTransport, createAgentServer };
}

/**
 * The MCP endpoint (Streamable HTTP, stateless, JSON answers): each POST is authenticated
 * exactly as the API is and served by a server of its own, run as that credential.
 */
export function registerMcpRoutes(
  app: FastifyInstance,
  services: Services,
  authenticators: readonly Authenticator[],
  permissions: PermissionDocument,
): void {
  const metadata = resourceMetadata(services, permissions);
  const challenge = `resource_metadata="${services.config.publicUrl}${METADATA_PATH}/mcp"`;
  for (const path of [METADATA_PATH, `${METADATA_PATH}/mcp`])
    app.get(path, { schema: { hide: true } }, async () => metadata);

  const handle = async (
    request: FastifyRequest<{ Querystring: { policy?: string } }>,
    reply: FastifyReply,
  ) => {
    const principal = principalOf(request);
    const { policy } = request.query;
    if (policy !== undefined && !services.policies.get(policy))
      throw new SignoffError('invalid_input', `There is no policy named "${policy}".`);
    const { StreamableHTTPServerTransport, createAgentServer } = await loadMcp();
    const server = createAgentServer(services, principal, policy);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request.raw, reply.raw, request.body);
  };
  app.post<{ Querystring: { policy?: string } }>(
    '/mcp',
    {
      schema: { hide: true, querystring: McpQuery },
      preValidation: requirePermission(authenticators, ['approvals:create', 'approvals:read'], challenge),
    },
    handle,
  );
  const onlyPost = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.header('allow', 'POST');
    throw new SignoffError('method_not_allowed', 'signoff answers MCP requests at once: POST them to /mcp.');
  };
  app.get('/mcp', { schema: { hide: true } }, onlyPost);
  app.delete('/mcp', { schema: { hide: true } }, onlyPost);
}
