// The MCP listener: a Fastify instance that never listens by itself (main.ts and tests decide that).
// It serves the MCP endpoint and nothing else; every answer the gateway makes itself is JSON-RPC shaped.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type HTTPMethods, type RouteHandlerMethod } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/options.ts';
import { GatewayError, sendGatewayError } from './errors.ts';
import { createMcpHandler, type McpHandlerDeps } from './http/mcp-handler.ts';

export type AppDeps = McpHandlerDeps & { logger: Logger };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's own errors (body parsing, limits) as the gateway's error kinds. */
function fromFastifyError(err: FastifyError): GatewayError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatewayError('PARSE_ERROR');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_CHARSET':
      return new GatewayError('BAD_REQUEST', err.message);
    default:
      if (err.statusCode === 413) return new GatewayError('BODY_TOO_LARGE');
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new GatewayError('BAD_REQUEST');
      return new GatewayError('INTERNAL', undefined, { cause: err });
  }
}

export function buildApp(config: GatewayConfig, deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    // One line per request comes from http/exchange.ts instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: false, // answered below, JSON-RPC shaped
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    exposeHeadRoutes: false,
    routerOptions: { ignoreTrailingSlash: true },
  });

  // POST bodies are read as bytes: they are checked (edge-checks.ts) and forwarded unchanged.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    if (deps.lifecycle.stopping) {
      reply.hijack();
      reply.raw.setHeader('connection', 'close');
      sendGatewayError(reply.raw, new GatewayError('SHUTTING_DOWN'));
    }
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const gwErr = err instanceof GatewayError ? err : fromFastifyError(err);
    if (gwErr.code === 'INTERNAL') request.log.error({ err }, 'unexpected failure');
    reply.hijack();
    sendGatewayError(reply.raw, gwErr);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.hijack();
    sendGatewayError(reply.raw, new GatewayError('NOT_FOUND', `no MCP endpoint at ${request.url.split('?')[0]?.slice(0, 200)}`));
  });

  // Every MCP route lives in this one encapsulated scope, so that a hook added to it guards all of them alike
  // (auth: an onRequest hook that sets `request.principal`): the MCP endpoint and the legacy HTTP+SSE pair.
  app.register(async (scope) => {
    mcpRoute(scope, config.mcpPath, ['GET', 'POST', 'DELETE', 'OPTIONS'], createMcpHandler(deps, 'mcp'));
    if (config.legacySse) {
      mcpRoute(scope, config.ssePath, ['GET'], createMcpHandler(deps, 'legacy-sse'));
      mcpRoute(scope, config.messagesPath, ['POST'], createMcpHandler(deps, 'legacy-messages'));
    }
  });
  return app;
}

const ALL_METHODS: HTTPMethods[] = ['GET', 'POST', 'DELETE', 'OPTIONS', 'PUT', 'PATCH', 'HEAD'];

/**
 * One MCP route: `methods` go to `handler` (OPTIONS included where listed: CORS preflights are the backend's to
 * answer); every other method gets 405 with Allow, JSON-RPC shaped.
 */
function mcpRoute(scope: FastifyInstance, url: string, methods: HTTPMethods[], handler: RouteHandlerMethod): void {
  scope.route({ method: methods, url, handler });
  const allow = methods.filter((m) => m !== 'OPTIONS').join(', ');
  scope.route({
    method: ALL_METHODS.filter((m) => !methods.includes(m)),
    url,
    handler: (_request, reply) => {
      reply.hijack();
      sendGatewayError(reply.raw, new GatewayError('METHOD_NOT_ALLOWED', undefined, { headers: { allow } }));
    },
  });
}
