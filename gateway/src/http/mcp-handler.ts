// The handler behind every MCP route (the MCP endpoint, and the legacy HTTP+SSE pair): edge checks, one
// classification (mcp/classify.ts), and one route per request class (DESIGN.md "Request flow", step 3).
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorizeOperation, identityHeadersOf, identityOf } from '../auth/guard.ts';
import { asGatewayError, type JsonRpcId } from '../errors.ts';
import { classify, headersSuffice, type Endpoint, type RequestClass } from '../mcp/classify.ts';
import { H } from '../mcp/headers.ts';
import { ClientAbort } from '../proxy/client-abort.ts';
import { upstreamHeaders } from '../proxy/headers.ts';
import type { UpstreamRequest } from '../proxy/send.ts';
import { checkHeadersAgainstBody, checkRequest, type CheckedRequest, type RequestTarget } from './edge-checks.ts';
import { Exchange } from './exchange.ts';
import { ClientGone } from './forwarder.ts';
import { openLegacyStream, routeLegacyMessage } from './legacy-sse-routes.ts';
import type { McpRequest } from './mcp-request.ts';
import { checkBinding, principalOf, type McpHandlerDeps, type RouteContext } from './route-context.ts';
import { routeInitialize, routeSession } from './session-routes.ts';
import { routeStateless, routeTask } from './stateless-routes.ts';

export { principalOf, type McpHandlerDeps } from './route-context.ts';

/** The handler of an MCP route, for Fastify. */
export function createMcpHandler(d: McpHandlerDeps, endpoint: Endpoint = 'mcp') {
  return function mcpHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    return handleMcpRequest(d, endpoint, request, reply.raw);
  };
}

/** One request to an MCP endpoint, answered on `res` (from Fastify's route or from the front door). */
export async function handleMcpRequest(d: McpHandlerDeps, endpoint: Endpoint, request: McpRequest, res: ServerResponse): Promise<void> {
  const ex = new Exchange(request.method, request.id, res, d.accessLog, d, d.tracing.start(request.headers));
  const leave = d.lifecycle.enter();
  ex.onClose(leave);
  let checked: CheckedRequest | undefined;
  try {
    checked = checkRequest(endpoint, request.method, request.headers, request.body, targetOf(d, request));
    ex.protocolVersion = checked.protocolVersion;
    // Method and tool scopes (--auth-method-scopes): the body is read for them only when rules exist.
    const c = checked;
    authorizeOperation(request, () => c.peek(), checked.body);
    await route(d, request, ex, checked);
  } catch (err) {
    if (err instanceof ClientGone) {
      ex.outcome = 'client-closed';
      return;
    }
    const gwErr = asGatewayError(err);
    // The request's id, for the error: parsing the body is worth it now even where routing did without.
    ex.rpcId ??= gwErr.rpcId ?? (checked ? idIfParsable(checked) : undefined);
    if (gwErr.code === 'INTERNAL') request.log.error({ err: gwErr.cause }, 'unexpected failure');
    ex.fail(gwErr);
  } finally {
    if (ex.res.writableEnded || ex.res.destroyed) leave();
  }
}

/**
 * Not async: it returns the route's own promise (one promise and one resumption less per request than an
 * async function awaiting it; issue 17). What it throws, handleMcpRequest catches like a rejection.
 */
function route(d: McpHandlerDeps, request: McpRequest, ex: Exchange, checked: CheckedRequest): Promise<void> {
  const cls = classify(checked);
  checkHeadersAgainstBody(checked, request.headers);
  // Labels for metrics and logs: from Mcp-Method / Mcp-Name where they are trusted, from the body otherwise.
  if (headersSuffice(checked)) ex.setHeaderFacts(checked.mcpMethod as string, checked.mcpName);
  else {
    const peek = checked.peek();
    if (peek) ex.setPeek(peek);
  }
  ex.route = cls.path;
  const expiresAt = identityOf(request)?.expiresAt;
  if (expiresAt !== undefined) ex.credentialDeadline = expiresAt + d.config.authClockSkewMs;
  const principal = principalOf(request);
  const rate = d.quotas.checkRate(principal);
  if (rate) return rate.then(() => routeAdmitted(d, request, ex, checked, cls, principal));
  return routeAdmitted(d, request, ex, checked, cls, principal);
}

function routeAdmitted(d: McpHandlerDeps, request: McpRequest, ex: Exchange, checked: CheckedRequest, cls: RequestClass, principal: string | undefined): Promise<void> {
  if (request.method === 'GET' || ex.rpcMethod === 'subscriptions/listen') {
    // A listening stream holds a slot (and a backend connection) until it closes.
    ex.onClose(d.quotas.openStream(checked.sessionId ?? checked.legacySessionId, principal));
  }
  const ctx: RouteContext = { d, request, ex, checked, upstream: upstreamRequest(d, request, ex, checked) };
  return dispatch(ctx, cls);
}

function dispatch(ctx: RouteContext, cls: RequestClass): Promise<void> {
  switch (cls.path) {
    case 'session':
      return cls.otherwise ? routeModernWithSession(ctx, cls.sessionId, cls.otherwise) : routeSession(ctx, cls.sessionId);
    case 'initialize':
      return routeInitialize(ctx);
    case 'task':
      return routeTask(ctx, cls.taskId);
    case 'stateless':
      return routeStateless(ctx, cls.watchForTask);
    case 'legacy-sse-open':
      return openLegacyStream(ctx);
    case 'legacy-sse-message':
      return routeLegacyMessage(ctx, cls.sessionId);
  }
}

/**
 * A 2026-07-28 request naming a session: the session's route when it is the caller's; otherwise its servers
 * ignore the id, so it is routed as what it is without one, and the id stays here (it may be someone else's).
 */
async function routeModernWithSession(ctx: RouteContext, sid: string, otherwise: RequestClass): Promise<void> {
  if (await ownsSession(ctx, sid)) return routeSession(ctx, sid);
  delete ctx.upstream.headers[H.SESSION_ID];
  return dispatch(ctx, otherwise);
}

/** Whether `sid` is a session the caller may use (lookup and principal check); a store that cannot say: no. */
async function ownsSession(ctx: RouteContext, sid: string): Promise<boolean> {
  const record = await ctx.d.directory.lookup(sid).catch(() => undefined);
  return checkBinding(ctx, sid, record, 'streamable') === 'usable';
}

function upstreamRequest(d: McpHandlerDeps, request: McpRequest, ex: Exchange, checked: CheckedRequest): UpstreamRequest {
  const clientAbort = new ClientAbort();
  ex.onClose((finished) => {
    if (!finished) clientAbort.abort();
  });
  const body = checked.body;
  return {
    trace: ex.span,
    method: request.method as UpstreamRequest['method'],
    headers: upstreamHeaders(request.headers, { remoteAddress: request.socket.remoteAddress, trustProxy: d.config.trustProxy }, body?.length, identityHeadersOf(request)),
    body,
    clientAbort,
    // 2024-11-05: a POST goes to exactly the path and query the backend advertised (the gateway relayed that
    // URI unchanged: mcp/legacy-endpoint.ts); the stream to the same path as the client's.
    ...(checked.endpoint === 'mcp' ? {} : { path: request.url }),
  };
}

function targetOf(d: McpHandlerDeps, request: McpRequest): RequestTarget {
  const url = request.url;
  const q = url.indexOf('?');
  return {
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    rawHeaders: request.raw.rawHeaders,
    legacy: { ssePath: d.config.ssePath, messagesPath: d.config.messagesPath },
  };
}

function idIfParsable(checked: CheckedRequest): JsonRpcId | undefined {
  try {
    return checked.peek()?.id;
  } catch {
    return undefined;
  }
}
