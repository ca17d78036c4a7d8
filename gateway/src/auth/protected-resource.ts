// OAuth 2.0 Protected Resource Metadata (RFC 9728), which MCP servers MUST serve (MCP authorization spec,
// "Authorization Server Location"). The well-known URL is the resource URL with
// /.well-known/oauth-protected-resource inserted between host and path (RFC 9728 §3.1); the MCP spec has
// clients fall back to the root form, so both answer, on the MCP port, without a token.
import type { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';

export interface SimpleRoute {
  method: HTTPMethods[];
  url: string;
  handler: (request: FastifyRequest, reply: FastifyReply) => FastifyReply;
}

export const PRM_PATH = '/.well-known/oauth-protected-resource';

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
}

export function protectedResourceMetadata(o: { resource: string; issuer: string | undefined; scopes: readonly string[] }): ProtectedResourceMetadata {
  return {
    // RFC 9728 §3.3: identical to the resource identifier the metadata URL was built from.
    resource: o.resource,
    // The MCP spec: at least one authorization server (absent only for API keys, which have none).
    ...(o.issuer !== undefined ? { authorization_servers: [o.issuer] } : {}),
    // The MCP spec's "Scope Selection Strategy": the minimal scopes for basic use; step-up adds the rest.
    ...(o.scopes.length > 0 ? { scopes_supported: [...o.scopes] } : {}),
    // RFC 6750 §2.1 only: tokens in a form body or the query are refused.
    bearer_methods_supported: ['header'],
  };
}

/** The path-suffixed well-known path of a resource URL: /.well-known/oauth-protected-resource/mcp. */
export function suffixedMetadataPath(resourceUrl: string): string {
  const path = new URL(resourceUrl).pathname;
  return path === '/' || path === '' ? PRM_PATH : `${PRM_PATH}${path.replace(/\/$/, '')}`;
}

/** What the 401's resource_metadata names: the path-suffixed URL, whose `resource` is exactly ours. */
export function metadataUrl(resourceUrl: string): string {
  return new URL(suffixedMetadataPath(resourceUrl), new URL(resourceUrl).origin).href;
}

export function metadataRoutes(o: { resourceUrl: string; mcpPath: string; document: ProtectedResourceMetadata }): SimpleRoute[] {
  const body = JSON.stringify(o.document);
  const paths = new Set([PRM_PATH, suffixedMetadataPath(o.resourceUrl)]);
  // Behind a proxy that maps another public path onto --mcp-path, clients may also ask with the local path.
  if (o.mcpPath !== '/') paths.add(`${PRM_PATH}${o.mcpPath}`);
  return [...paths].map((url) => ({
    method: ['GET', 'OPTIONS'] as HTTPMethods[],
    url,
    handler: (request: FastifyRequest, reply: FastifyReply) => {
      // Public, and read by browser-based clients from other origins.
      reply.header('access-control-allow-origin', '*');
      if (request.method === 'OPTIONS') {
        return reply.code(204).header('access-control-allow-methods', 'GET, OPTIONS').header('access-control-allow-headers', '*').send();
      }
      return reply.code(200).header('content-type', 'application/json').header('cache-control', 'public, max-age=300').send(body);
    },
  }));
}
