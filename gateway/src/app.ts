// The MCP listener: a Fastify instance that never listens by itself (main.ts and tests decide that).
// It serves the MCP endpoint and nothing else; every answer the gateway makes itself is JSON-RPC shaped.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type HTTPMethods, type RouteHandlerMethod } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/options.ts';
import { authRefusalOf, type AuthGuard } from './auth/guard.ts';
import { GatewayError } from './errors.ts';
import { refuseAtEdge } from './http/exchange.ts';
import { clientErrorHandler, ConnectionCap, serverOptions, tooManyHeaders } from './http/limits.ts';
import { frontDoor } from './http/front-door.ts';
import { createMcpHandler, type McpHandlerDeps } from './http/mcp-handler.ts';
import type { McpRequest } from './http/mcp-request.ts';
import { checkOrigin, originPolicy } from './http/origin-guard.ts';
import { requestId } from './http/request-id.ts';
import { lazyRequestLogger } from './logger.ts';

/** `auth.hook` goes on every MCP route (onRequest): it verifies the token and sanitizes identity headers. */
export type AppDeps = McpHandlerDeps & { logger: Logger; auth: AuthGuard };

/** Fastify's own errors (body parsing, limits) as the gateway's error kinds. */
function fromFastifyError(err: FastifyError): GatewayError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('BODY_TOO_LARGE', 'see --max-body-bytes');
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

/** Fastify's defaults for what its own server factory sets (its keep-alive timeout, no socket timeout). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export function buildApp(config: GatewayConfig, deps: AppDeps) {
  // The MCP endpoint's common requests go through the front door (http/front-door.ts); the rest to Fastify.
  // Set once the parts it shares with the Fastify routes exist (below); the server is made first.
  const front: { serve?: (req: IncomingMessage, res: ServerResponse) => boolean } = {};
  const app = Fastify({
    loggerInstance: deps.logger,
    // One line per request comes from http/exchange.ts instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: config.maxBodyBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: false, // answered below, JSON-RPC shaped
    requestIdHeader: false,
    genReqId: requestId,
    exposeHeadRoutes: false,
    routerOptions: { ignoreTrailingSlash: true },
    serverFactory: (fastifyHandler) => {
      const server = createServer(serverOptions(config), (req, res) => {
        if (!front.serve?.(req, res)) fastifyHandler(req, res);
      });
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.requestTimeout = config.requestTimeoutMs;
      server.setTimeout(0);
      return server;
    },
    requestTimeout: config.requestTimeoutMs,
    clientErrorHandler: clientErrorHandler(deps.metrics, config.maxHeaderCount),
  });
  // One more than the limit, so that going over it is visible: Node before 26 only truncates past
  // maxHeadersCount; Node 26 rejects the request (clientErrorHandler counts it).
  app.server.maxHeadersCount = config.maxHeaderCount + 1;
  const cap = new ConnectionCap(app.server, config.maxConnections);

  // POST bodies are read as bytes: they are checked (edge-checks.ts) and forwarded unchanged.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  /** Refusals before anything else, for every request of the port (shutdown, connection cap, header count). */
  const edgeRefusal = (request: Pick<McpRequest, 'socket' | 'raw'>): GatewayError | undefined => {
    if (deps.lifecycle.stopping) return new GatewayError('SHUTTING_DOWN');
    if (cap.isShed(request.socket)) {
      deps.metrics.limitRejections.inc({ limit: 'connections' });
      return new GatewayError('TOO_MANY_CONNECTIONS');
    }
    if (tooManyHeaders(request.raw.rawHeaders, config.maxHeaderCount)) {
      deps.metrics.limitRejections.inc({ limit: 'header_count' });
      return new GatewayError('HEADERS_TOO_LARGE', `more than ${config.maxHeaderCount} header fields`);
    }
    return undefined;
  };
  // Hooks take a callback, not a promise: every request passes them, and a promise each costs a microtask turn.
  app.addHook('onRequest', (request, reply, done) => {
    const refusal = edgeRefusal(request);
    if (refusal) {
      reply.hijack();
      reply.raw.setHeader('connection', 'close');
      refuseAtEdge(deps, request, reply.raw, refusal);
    }
    done();
  });

  // Origin and auth refusals (thrown by the hooks below) and Fastify's own body errors (413, 415, 400).
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const gwErr = err instanceof GatewayError ? err : fromFastifyError(err);
    if (gwErr.code === 'BODY_TOO_LARGE') deps.metrics.limitRejections.inc({ limit: 'body_bytes' });
    if (gwErr.code === 'INTERNAL') request.log.error({ err }, 'unexpected failure');
    reply.hijack();
    refuseAtEdge(deps, request, reply.raw, gwErr, authRefusalOf(request));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.hijack();
    refuseAtEdge(deps, request, reply.raw, new GatewayError('NOT_FOUND', `no MCP endpoint at ${request.url.split('?')[0]?.slice(0, 200)}`));
  });

  // RFC 9728 metadata on the MCP port, without a token (only when auth is on).
  for (const r of deps.auth.routes()) app.route(r);

  // Every MCP route lives in this one encapsulated scope, so that one hook guards all of them alike (auth: it
  // verifies the token and sets `request.principal`): the MCP endpoint and the legacy HTTP+SSE pair.
  const origins = originPolicy(config.host, config.allowedHosts, config.allowedOrigins);
  const originRefusal = (request: Pick<McpRequest, 'headers'>): GatewayError | undefined => {
    try {
      checkOrigin(origins, request.headers);
      return undefined;
    } catch (err) {
      deps.metrics.limitRejections.inc({ limit: 'origin' });
      return err as GatewayError;
    }
  };
  front.serve = frontDoor(config, { ...deps, edgeRefusal, originRefusal, requestId });
  app.register(async (scope) => {
    // DNS rebinding first: a foreign Host or Origin never gets as far as auth or a backend.
    scope.addHook('onRequest', (request, _reply, done) => done(originRefusal(request)));
    scope.addHook('onRequest', deps.auth.hook);
    mcpRoute(scope, config.mcpPath, ['GET', 'POST', 'DELETE', 'OPTIONS'], createMcpHandler(deps, 'mcp'), deps);
    if (config.legacySse) {
      // 2024-11-05: the stream, and POSTs at every URI a backend may advertise (mcp/legacy-endpoint.ts): the
      // stream's own path (the Go SDK's layout), the messages path, and any path under it (`/messages/<id>`).
      const open = createMcpHandler(deps, 'legacy-sse');
      const message = createMcpHandler(deps, 'legacy-messages');
      mcpRoute(
        scope,
        config.ssePath,
        ['GET', 'POST'],
        function legacyStreamOrMessage(request, reply) {
          return (request.method === 'GET' ? open : message).call(this, request, reply);
        },
        deps,
      );
      const base = config.messagesPath.endsWith('/') ? config.messagesPath.slice(0, -1) : config.messagesPath;
      if (base !== '') mcpRoute(scope, base, ['POST'], message, deps);
      mcpRoute(scope, `${base}/*`, ['POST'], message, deps);
    }
  });
  return app;
}

const ALL_METHODS: HTTPMethods[] = ['GET', 'POST', 'DELETE', 'OPTIONS', 'PUT', 'PATCH', 'HEAD'];

/**
 * One MCP route: `methods` go to `handler` (OPTIONS included where listed: CORS preflights are the backend's to
 * answer); every other method gets 405 with Allow, JSON-RPC shaped.
 */
function mcpRoute(scope: FastifyInstance, url: string, methods: HTTPMethods[], handler: RouteHandlerMethod, deps: AppDeps): void {
  scope.route({ method: methods, url, handler });
  const allow = methods.filter((m) => m !== 'OPTIONS').join(', ');
  scope.route({
    method: ALL_METHODS.filter((m) => !methods.includes(m)),
    url,
    handler: (request, reply) => {
      reply.hijack();
      refuseAtEdge(deps, request, reply.raw, new GatewayError('METHOD_NOT_ALLOWED', undefined, { headers: { allow } }));
    },
  });
}
