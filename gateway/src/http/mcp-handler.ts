// The MCP endpoint (POST, GET, DELETE): edge checks, classification, and one path per request class
// (DESIGN.md "Request flow", step 3).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { authorizeOperation } from '../auth/guard.ts';
import type { Backend } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import type { GatewayConfig } from '../config/options.ts';
import { asGatewayError, GatewayError } from '../errors.ts';
import type { Lifecycle } from '../lifecycle.ts';
import { classify } from '../mcp/classify.ts';
import { H, isValidSessionId } from '../mcp/headers.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { ToolNames } from '../metrics/tool-names.ts';
import { upstreamHeaders } from '../proxy/headers.ts';
import type { UpstreamRequest } from '../proxy/send.ts';
import type { Placement } from '../routing/placement.ts';
import { shortId, type SessionDirectory } from '../routing/session-directory.ts';
import type { SessionRecovery } from '../routing/session-recovery.ts';
import type { Quotas } from './quotas.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { RequestTracing } from '../tracing/tracing.ts';
import { checkRequest, type CheckedRequest } from './edge-checks.ts';
import { Exchange } from './exchange.ts';
import { BackendUnreachable, ClientGone, type Forwarder, type Sent } from './forwarder.ts';
import { discardBody } from '../proxy/discard.ts';

export interface McpHandlerDeps {
  config: GatewayConfig;
  registry: BackendRegistry;
  directory: SessionDirectory;
  placement: Placement;
  forwarder: Forwarder;
  metrics: GatewayMetrics;
  toolNames: ToolNames;
  lifecycle: Lifecycle;
  tracing: RequestTracing;
  /** Writes the one line per request (no redaction pass: the line never carries secrets). */
  accessLog: Logger;
  quotas: Quotas;
  /** Looks for sessions nobody knows on the backends; absent when --session-recovery is off. */
  recovery: SessionRecovery | undefined;
}

/** The principal the auth layer verified for this request (absent when auth is off). */
export function principalOf(request: FastifyRequest): string | undefined {
  return (request as FastifyRequest & { principal?: string }).principal;
}

export function createMcpHandler(d: McpHandlerDeps) {
  return async function mcpHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const ex = new Exchange(request.method, request.id, reply.raw, d.accessLog, d, d.tracing.start(request.headers));
    const leave = d.lifecycle.enter();
    ex.onClose(leave);
    try {
      const checked = checkRequest(request.method, request.headers, request.body);
      ex.protocolVersion = checked.protocolVersion;
      if (checked.peek) ex.setPeek(checked.peek);
      // Method and tool scopes (--auth-method-scopes): known only now that the body has been read.
      authorizeOperation(request, checked.peek, checked.body);
      await route(d, request, ex, checked);
    } catch (err) {
      if (err instanceof ClientGone) {
        ex.outcome = 'client-closed';
        return;
      }
      const gwErr = asGatewayError(err);
      ex.rpcId ??= gwErr.rpcId;
      if (gwErr.code === 'INTERNAL') request.log.error({ err: gwErr.cause }, 'unexpected failure');
      ex.fail(gwErr);
    } finally {
      if (ex.res.writableEnded || ex.res.destroyed) leave();
    }
  };
}

async function route(d: McpHandlerDeps, request: FastifyRequest, ex: Exchange, checked: CheckedRequest): Promise<void> {
  const principal = principalOf(request);
  await d.quotas.checkRate(principal);
  if (request.method === 'GET' || checked.peek?.method === 'subscriptions/listen') {
    // A listening stream holds a slot (and a backend connection) until it closes.
    ex.onClose(d.quotas.openStream(checked.sessionId, principal));
  }
  const upstream = upstreamRequest(d, request, ex, checked.body);
  const cls = classify({
    httpMethod: request.method,
    sessionId: checked.sessionId,
    protocolVersion: checked.protocolVersion,
    peek: checked.peek,
  });
  ex.route = cls.path;
  switch (cls.path) {
    case 'session':
      ex.sessionId = cls.sessionId;
      return routeSession(d, request, ex, cls.sessionId, upstream, checked.protocolVersion);
    case 'initialize':
      return routeInitialize(d, request, ex, checked, upstream);
    case 'stateless': {
      const sent = await d.forwarder.sendWithRetry((exclude) => d.registry.nextLive(exclude), upstream);
      ex.backend = sent.backend.id;
      return d.forwarder.relay(ex, sent);
    }
  }
}

function upstreamRequest(d: McpHandlerDeps, request: FastifyRequest, ex: Exchange, body: Buffer | undefined): UpstreamRequest {
  const ac = new AbortController();
  ex.onClose((finished) => {
    if (!finished) ac.abort();
  });
  return {
    trace: ex.span,
    method: request.method as UpstreamRequest['method'],
    headers: upstreamHeaders(request.headers, { remoteAddress: request.socket.remoteAddress, trustProxy: d.config.trustProxy }, body?.length),
    body,
    signal: ac.signal,
  };
}

async function routeSession(
  d: McpHandlerDeps,
  request: FastifyRequest,
  ex: Exchange,
  sid: string,
  req: UpstreamRequest,
  protocolVersion: string | undefined,
): Promise<void> {
  let record: SessionRecord | undefined;
  try {
    record = (await d.directory.lookup(sid)) ?? (await recover(d, request, sid, protocolVersion));
  } catch (err) {
    // The store cannot be asked: the backends still can (the binding is written back when the store returns).
    if (!(err instanceof GatewayError) || err.code !== 'STORE_UNAVAILABLE') throw err;
    record = await recover(d, request, sid, protocolVersion);
    if (!record) throw err;
  }
  if (!record) {
    d.metrics.sessionMisses.inc();
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  if (record.principal !== undefined && record.principal !== principalOf(request)) {
    // Someone else's session: answered exactly like an unknown one, so ids cannot be probed (auth issue).
    d.metrics.sessionsLost.inc({ reason: 'principal_mismatch' });
    request.log.warn({ session: shortId(sid) }, 'session presented by another principal: answered as unknown');
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  const backend = d.registry.get(record.backend);
  ex.backend = record.backend;
  // Its backend is gone, or went down with the session on it: the session went with it, and 404 tells the
  // client to initialize again. A session bound after this replica's down verdict was bound by a replica
  // that saw the backend up (it restarted): it is tried, and a success marks the backend up here too.
  const lostWithBackend = backend !== undefined && !backend.servesExisting && record.createdAt < backend.downSince;
  if (!backend || lostWithBackend) {
    await d.directory.unbind(sid, record.backend, record.principal);
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  let sent: Sent;
  try {
    sent = await d.forwarder.sendPinned(backend, req);
  } catch (err) {
    if (!(err instanceof BackendUnreachable)) throw err;
    await d.directory.unbind(sid, backend.id, record.principal);
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  const status = sent.upstream.statusCode;
  if (request.method === 'DELETE' && status >= 200 && status < 300) {
    // Unbound before the client hears back, so no replica routes the ended session afterwards.
    await d.directory.unbind(sid, backend.id, record.principal);
    d.placement.noteUnbound(backend.id);
  } else if (status === 404) {
    // The backend no longer knows the session (restarted, expired it): forget it everywhere.
    d.metrics.sessionsLost.inc({ reason: 'backend_forgot' });
    await d.directory.unbind(sid, backend.id, record.principal);
    d.placement.noteUnbound(backend.id);
  }
  return d.forwarder.relay(ex, sent);
}

/** A session no replica knows may still live on a backend (store emptied, gateway restarted): ask them. */
async function recover(d: McpHandlerDeps, request: FastifyRequest, sid: string, protocolVersion: string | undefined): Promise<SessionRecord | undefined> {
  // With auth on, a session whose principal nobody recorded is never handed to whoever presents it first.
  if (!d.recovery || principalOf(request) !== undefined) return undefined;
  const found = await d.recovery.find(sid, { protocolVersion, identityHeaders: {} });
  if (typeof found === 'string') return undefined;
  const record: SessionRecord = { backend: found.id, kind: 'streamable', createdAt: Date.now() };
  const result = await d.directory.bind(sid, record);
  request.log.info({ backend: found.id }, 'session recovered from its backend');
  return result.bound ? record : result.existing;
}

async function routeInitialize(d: McpHandlerDeps, request: FastifyRequest, ex: Exchange, checked: CheckedRequest, req: UpstreamRequest): Promise<void> {
  await d.quotas.checkNewSession(principalOf(request));
  // Every backend placement hands out is committed (bound) or released exactly once.
  let held: string | undefined;
  const pick = (exclude: ReadonlySet<string>) => {
    if (held !== undefined) d.placement.release(held);
    const b = d.placement.choose(exclude);
    held = b?.id;
    return b;
  };
  try {
    const sent = await d.forwarder.sendWithRetry(pick, req);
    const { backend, upstream } = sent;
    ex.backend = backend.id;
    const raw = upstream.headers[H.SESSION_ID];
    const sid = Array.isArray(raw) ? raw[0] : raw;
    if (sid !== undefined) {
      if (!isValidSessionId(sid)) {
        discardBody(upstream.body);
        throw new GatewayError('UPSTREAM_ERROR', 'the backend answered with an invalid Mcp-Session-Id');
      }
      await bindNewSession(d, request, ex, backend, sid, checked, sent);
      d.placement.commit(backend.id);
      held = undefined;
    }
    return await d.forwarder.relay(ex, sent);
  } finally {
    if (held !== undefined) d.placement.release(held);
  }
}

async function bindNewSession(
  d: McpHandlerDeps,
  request: FastifyRequest,
  ex: Exchange,
  backend: Backend,
  sid: string,
  checked: CheckedRequest,
  sent: Sent,
): Promise<void> {
  ex.sessionId = sid;
  const principal = principalOf(request);
  const record = {
    backend: backend.id,
    kind: 'streamable' as const,
    createdAt: Date.now(),
    ...(principal !== undefined ? { principal } : {}),
    ...(checked.peek?.protocolVersion !== undefined ? { protocolVersion: checked.peek.protocolVersion } : {}),
  };
  try {
    const result = await d.directory.bind(sid, record);
    if (!result.bound && (result.existing.backend !== backend.id || result.existing.principal !== principal)) {
      throw new GatewayError('UPSTREAM_ERROR', 'the backend answered with a session id that is already in use');
    }
  } catch (err) {
    // The client will never learn this session: release it on the backend rather than leak it there.
    discardBody(sent.upstream.body);
    void releaseSession(d, backend, sid);
    throw err;
  }
  d.metrics.sessionsCreated.inc({ backend: backend.id });
}

async function releaseSession(d: McpHandlerDeps, backend: Backend, sid: string): Promise<void> {
  try {
    const res = await backend.pool.request({
      method: 'DELETE',
      path: backend.path,
      headers: { [H.SESSION_ID]: sid },
      headersTimeout: d.config.upstreamConnectTimeoutMs,
    });
    res.body.resume();
  } catch {
    // Best effort: the backend's own session timeout ends it otherwise.
  }
}
