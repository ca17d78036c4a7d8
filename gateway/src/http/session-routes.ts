// The sessions era (2025-03-26 … 2025-11-25): `initialize` picks a backend and binds the Mcp-Session-Id it
// answers with; every later request of the session goes to that backend (DESIGN.md "Request flow", step 3).
import type { Backend } from '../backends/backend.ts';
import { identityHeadersOf } from '../auth/guard.ts';
import { GatewayError } from '../errors.ts';
import { H, isValidSessionId } from '../mcp/headers.ts';
import { discardBody } from '../proxy/discard.ts';
import type { SessionRecord } from '../sessions/store.ts';
import { BackendUnreachable, type Sent } from './forwarder.ts';
import { answerBrokenAttempt, brokenBeforeAnswer, forBackend, forwardResumed, forwardUnlessAlive, relayWith, resumable } from './session-resume-routes.ts';
import { initParamsOf } from '../routing/session-resume-state.ts';
import { checkBinding, newRecord, principalOf, refuseIfBackendNotYetSeen, type McpHandlerDeps, type RouteContext } from './route-context.ts';

export async function routeSession(ctx: RouteContext, sid: string): Promise<void> {
  const { d, request, ex, upstream } = ctx;
  ex.sessionId = sid;
  const record = d.directory.cached(sid) ?? (await findSession(ctx, sid));
  const verdict = checkBinding(ctx, sid, record, 'streamable');
  if (verdict !== 'usable' || !record) {
    if (verdict !== 'other-principal') d.metrics.sessionMisses.inc();
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  const backend = d.registry.forBinding(record);
  ex.backend = record.backend;
  // Its backend is gone, or was proven lost with the session on it: the session went with it, and 404 tells
  // the client to initialize again. A session bound after this replica's lost verdict was bound by a replica
  // that saw the backend answer (it restarted): it is tried, and a success restores the backend here too.
  // An ejected backend (mere suspicion) keeps its sessions: sendPinned waits for it, then 503 at worst.
  const lostWithBackend = backend !== undefined && !backend.servesExisting && record.createdAt < backend.lostSince;
  if (!backend) refuseIfBackendNotYetSeen(d, request, record);
  if (!backend || lostWithBackend) {
    // --session-resume reinitialize: the session goes on elsewhere (session-resume-routes.ts).
    if (resumable(ctx, record)) return backend ? forwardUnlessAlive(ctx, sid, record, backend) : forwardResumed(ctx, sid, record);
    await forget(ctx, sid, record, backend ? 'backend_down' : 'backend_removed');
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  let sent: Sent;
  try {
    sent = await d.forwarder.sendPinned(backend, forBackend(upstream, record));
  } catch (err) {
    // Thrown only on proof that the backend is lost (http/forwarder.ts).
    if (resumable(ctx, record) && brokenBeforeAnswer(err, ctx)) return answerBrokenAttempt(ctx, sid, record, backend);
    if (!(err instanceof BackendUnreachable)) throw err;
    if (resumable(ctx, record)) return forwardResumed(ctx, sid, record);
    await forget(ctx, sid, record, 'backend_down');
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  const status = sent.upstream.statusCode;
  if (request.method === 'DELETE' && status >= 200 && status < 300) {
    // Unbound before the client hears back, so no replica routes the ended session afterwards.
    await d.directory.unbind(sid, backend.id, record.principal);
    d.placement.noteUnbound(backend.id);
  } else if (status === 404 && request.method !== 'DELETE' && resumable(ctx, record)) {
    // The backend no longer knows the session, so it ran nothing of this request: resume and send it on.
    discardBody(sent.upstream.body);
    sent.span.end(status);
    return forwardResumed(ctx, sid, record);
  } else if (status === 404) {
    // The backend no longer knows the session (restarted, expired it): forget it everywhere.
    await forget(ctx, sid, record, 'backend_forgot');
  }
  await relayWith(ctx, sid, record, backend, sent);
}

/** Unbinds a session that ended without a DELETE; counted once, by whichever replica removed it. */
async function forget({ d }: RouteContext, sid: string, record: SessionRecord, reason: 'backend_down' | 'backend_removed' | 'backend_forgot'): Promise<void> {
  if (await d.directory.unbind(sid, record.backend, record.principal)) d.metrics.sessionsLost.inc({ reason });
  d.placement.noteUnbound(record.backend);
}

/**
 * The session's binding: from the directory, or, when no replica knows it (store emptied, gateway
 * restarted) or the store cannot be asked, from its backend, found with a ping (routing/session-recovery.ts).
 */
async function findSession({ d, request, checked }: RouteContext, sid: string): Promise<SessionRecord | undefined> {
  try {
    return (await d.directory.lookup(sid)) ?? (await recover(d, request, sid, checked.protocolVersion));
  } catch (err) {
    if (!(err instanceof GatewayError) || err.code !== 'STORE_UNAVAILABLE') throw err;
    const found = await recover(d, request, sid, checked.protocolVersion);
    if (!found) throw err;
    return found;
  }
}

async function recover(d: McpHandlerDeps, request: RouteContext['request'], sid: string, protocolVersion: string | undefined): Promise<SessionRecord | undefined> {
  const principal = principalOf(request);
  // With auth on, a session whose principal nobody recorded is never handed to whoever presents it first:
  // only to a caller its backend confirms (the ping carries the caller's identity), and only when the
  // operator says the backends make that check.
  if (!d.recovery || (principal !== undefined && !d.config.sessionRecoveryIdentity)) return undefined;
  const identityHeaders = principal === undefined ? {} : { ...identityHeadersOf(request) };
  const found = await d.recovery.find(sid, { protocolVersion, identityHeaders, principal });
  // A backend that may hold the session could not answer (ejected, or failing): no proof it is gone, so the
  // client keeps it and retries (README "Reliability": never 404 on suspicion).
  if (found === 'failed') throw new GatewayError('BACKEND_EJECTED', 'a backend that may hold the session is not answering');
  if (typeof found === 'string') return undefined;
  const record: SessionRecord = {
    backend: found.id,
    ...(found.instance !== undefined ? { instance: found.instance } : {}),
    ...(principal !== undefined ? { principal } : {}),
    kind: 'streamable',
    createdAt: Date.now(),
  };
  const result = await d.directory.bind(sid, record);
  request.log.info({ backend: found.id }, 'session recovered from its backend');
  return result.bound ? record : result.existing;
}

export async function routeInitialize(ctx: RouteContext): Promise<void> {
  const { d, ex, upstream } = ctx;
  await d.quotas.checkNewSession(principalOf(ctx.request));
  const placement = d.placement.hold();
  try {
    const sent = await d.forwarder.sendWithRetry(placement.pick, upstream);
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
      placement.commit();
    }
    return await d.forwarder.relay(ex, sent);
  } finally {
    placement.done();
  }
}

async function bindNewSession({ d, request, ex, checked }: RouteContext, backend: Backend, sid: string, sent: Sent): Promise<void> {
  ex.sessionId = sid;
  const record = newRecord(request, backend, 'streamable', checked.peeked?.protocolVersion ?? checked.protocolVersion);
  if (d.resumer) {
    // --session-resume: what a new upstream session needs, kept with the binding so any replica can resume it.
    const init = initParamsOf(checked.body);
    if (init !== undefined) record.init = init;
  }
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
