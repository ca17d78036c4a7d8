// The sessions era (2025-03-26 … 2025-11-25): `initialize` picks a backend and binds the Mcp-Session-Id it
// answers with; every later request of the session goes to that backend (DESIGN.md "Request flow", step 3).
import type { Backend } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import { H, isValidSessionId } from '../mcp/headers.ts';
import { discardBody } from '../proxy/discard.ts';
import { BackendUnreachable, type Sent } from './forwarder.ts';
import { newRecord, principalOf, type McpHandlerDeps, type RouteContext } from './route-context.ts';

export async function routeSession({ d, request, ex, upstream }: RouteContext, sid: string): Promise<void> {
  ex.sessionId = sid;
  const record = await d.directory.lookup(sid);
  if (!record || record.kind !== 'streamable') {
    d.metrics.sessionsLost.inc({ reason: 'unknown_session' });
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  if (record.principal !== undefined && record.principal !== principalOf(request)) {
    // Someone else's session: answered exactly like an unknown one, so ids cannot be probed (auth issue).
    d.metrics.sessionsLost.inc({ reason: 'principal_mismatch' });
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  const backend = d.registry.get(record.backend);
  ex.backend = record.backend;
  if (!backend || !backend.servesExisting) {
    // Its backend is gone: the session went with it. 404 tells the client to initialize again.
    d.metrics.sessionsLost.inc({ reason: backend ? 'backend_down' : 'backend_removed' });
    await d.directory.unbind(sid, record.backend);
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  let sent: Sent;
  try {
    sent = await d.forwarder.sendPinned(backend, upstream);
  } catch (err) {
    if (!(err instanceof BackendUnreachable)) throw err;
    d.metrics.sessionsLost.inc({ reason: 'backend_down' });
    await d.directory.unbind(sid, backend.id);
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  const status = sent.upstream.statusCode;
  if (request.method === 'DELETE' && status >= 200 && status < 300) {
    // Unbound before the client hears back, so no replica routes the ended session afterwards.
    await d.directory.unbind(sid, backend.id);
    d.placement.noteUnbound(backend.id);
  } else if (status === 404) {
    // The backend no longer knows the session (restarted, expired it): forget it everywhere.
    d.metrics.sessionsLost.inc({ reason: 'backend_forgot' });
    await d.directory.unbind(sid, backend.id);
    d.placement.noteUnbound(backend.id);
  }
  return d.forwarder.relay(ex, sent);
}

export async function routeInitialize(ctx: RouteContext): Promise<void> {
  const { d, ex, upstream } = ctx;
  // Every backend placement hands out is committed (bound) or released exactly once.
  let held: string | undefined;
  const pick = (exclude: ReadonlySet<string>) => {
    if (held !== undefined) d.placement.release(held);
    const b = d.placement.choose(exclude);
    held = b?.id;
    return b;
  };
  try {
    const sent = await d.forwarder.sendWithRetry(pick, upstream);
    const { backend, upstream: answer } = sent;
    ex.backend = backend.id;
    const raw = answer.headers[H.SESSION_ID];
    const sid = Array.isArray(raw) ? raw[0] : raw;
    if (sid !== undefined) {
      if (!isValidSessionId(sid)) {
        discardBody(answer.body);
        throw new GatewayError('UPSTREAM_ERROR', 'the backend answered with an invalid Mcp-Session-Id');
      }
      await bindNewSession(ctx, backend, sid, sent);
      d.placement.commit(backend.id);
      held = undefined;
    }
    return await d.forwarder.relay(ex, sent);
  } finally {
    if (held !== undefined) d.placement.release(held);
  }
}

async function bindNewSession({ d, request, ex, checked }: RouteContext, backend: Backend, sid: string, sent: Sent): Promise<void> {
  ex.sessionId = sid;
  const record = newRecord(request, backend.id, 'streamable', checked.peeked?.protocolVersion ?? checked.protocolVersion);
  try {
    const result = await d.directory.bind(sid, record);
    if (!result.bound && (result.existing.backend !== backend.id || result.existing.principal !== record.principal)) {
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
