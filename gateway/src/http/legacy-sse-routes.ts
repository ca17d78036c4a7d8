// The HTTP+SSE transport of 2024-11-05: `GET /sse` opens a stream that is the session, and its first event
// (`endpoint`) names the URI where the client POSTs its messages. The gateway opens the stream on the backend
// with the fewest sessions, binds the session id that URI names (so that a POST reaching any gateway replica
// finds the backend), relays the URI's path and query unchanged (mcp/legacy-endpoint.ts), and unbinds when
// the stream ends. Nothing else in the stream is parsed or rewritten.
import type { Backend } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import { EndpointEventError, LegacyEndpointFilter, readEndpoint } from '../mcp/legacy-endpoint.ts';
import { isEventStream } from '../proxy/relay.ts';
import { BackendUnreachable, type Sent } from './forwarder.ts';
import { checkBinding, newRecord, refuseIfBackendNotYetSeen, type RouteContext } from './route-context.ts';

export async function openLegacyStream(ctx: RouteContext): Promise<void> {
  const { d, ex, upstream } = ctx;
  const placement = d.placement.hold();
  try {
    const sent = await d.forwarder.sendWithRetry(placement.pick, upstream);
    ex.backend = sent.backend.id;
    if (sent.upstream.statusCode !== 200 || !isEventStream(sent.upstream.headers)) return await d.forwarder.relay(ex, sent);
    const filter = new LegacyEndpointFilter(async (uri) => {
      const advertised = await bindStream(ctx, sent, uri);
      placement.commit();
      return advertised;
    });
    // The gateway itself ends the stream when it cannot carry it: say why (before the relay cuts it, so that
    // the access line names the refusal rather than 'client-closed').
    filter.once('error', (err) => {
      ex.outcome = 'endpoint-refused';
      ctx.request.log.warn({ backend: sent.backend.id, reason: err.message }, 'ended a legacy HTTP+SSE stream: the gateway cannot carry it');
    });
    // A legacy stream cannot be resumed elsewhere (the stream is the session): on shutdown it is left to
    // finish with the in-flight requests rather than ended with the listening streams.
    await d.forwarder.relay(ex, sent, { bodyFilter: () => filter, streamKind: 'response' });
  } finally {
    placement.done();
  }
}

/** Binds the session the endpoint event names; returns the URI to advertise. Unbinds when the stream ends. */
async function bindStream({ d, request, ex }: RouteContext, sent: Sent, uri: string): Promise<string> {
  const { config } = d;
  const backend: Backend = sent.backend;
  const endpoint = readEndpoint(uri, config);
  if (!endpoint.ok) throw new EndpointEventError(endpoint.why);
  const { sessionId, advertised } = endpoint;
  const record = newRecord(request, backend, 'legacy-sse');
  const result = await d.directory.bind(sessionId, record);
  if (!result.bound && (result.existing.backend !== backend.id || result.existing.principal !== record.principal)) {
    throw new EndpointEventError('the backend named a session id that is already in use');
  }
  ex.sessionId = sessionId;
  d.metrics.sessionsCreated.inc({ backend: backend.id });
  // The binding must outlive idle periods as long as the stream is open: renew it well within the TTL.
  const renew = setInterval(() => void d.directory.lookup(sessionId).catch(() => undefined), Math.max(1000, Math.floor(config.sessionTtlMs / 3)));
  renew.unref();
  ex.onClose(() => {
    clearInterval(renew);
    // With its principal, so that the principal's index (--max-sessions-per-principal) lets go of it too.
    void d.directory.unbind(sessionId, backend.id, record.principal);
    d.placement.noteUnbound(backend.id);
  });
  return advertised;
}

/** POST to the endpoint URI: to the backend holding the stream, from any gateway replica. */
export async function routeLegacyMessage(ctx: RouteContext, sessionId: string | undefined): Promise<void> {
  const { d, request, ex, upstream } = ctx;
  if (sessionId === undefined) throw new GatewayError('BAD_REQUEST', 'the URI names no session');
  ex.sessionId = sessionId;
  const record = await d.directory.lookup(sessionId);
  const verdict = checkBinding(ctx, sessionId, record, 'legacy-sse');
  if (verdict !== 'usable' || !record) {
    if (verdict !== 'other-principal') d.metrics.sessionMisses.inc();
    throw new GatewayError('SESSION_NOT_FOUND');
  }
  ex.backend = record.backend;
  const backend = d.registry.forBinding(record);
  if (!backend) refuseIfBackendNotYetSeen(d, request, record);
  let sent: Sent | undefined;
  if (backend?.servesExisting) {
    try {
      sent = await d.forwarder.sendPinned(backend, upstream);
    } catch (err) {
      if (!(err instanceof BackendUnreachable)) throw err;
    }
  }
  if (!sent || sent.upstream.statusCode === 404) {
    // The stream's backend is gone or no longer knows the session: so is the session.
    await d.directory.unbind(sessionId, record.backend, record.principal);
    if (!sent) throw new GatewayError('SESSION_NOT_FOUND');
  }
  return d.forwarder.relay(ex, sent);
}
