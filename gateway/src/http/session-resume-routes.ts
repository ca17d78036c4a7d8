// The session route's side of --session-resume reinitialize (issue 16; routing/session-resume.ts does the
// resume itself). Where the route would answer 404 because the session's backend is gone, or refused the
// connection, or answered 404 for the session, the session is resumed and the request sent on to the new
// upstream session: nothing of it reached a server that holds the session, so sending it is safe.
// A request that was on its way when the backend broke (the connection reset, or its SSE answer cut) may
// have run: it is sent again only when the policy says a repeat is harmless (session-resume-policy.ts);
// otherwise the client gets JSON-RPC error -32010 ("may or may not have run") and the session lives on.
// The client keeps its Mcp-Session-Id: the backend sees the upstream id, the client its own.
import type { Readable } from 'node:stream';
import { identityHeadersOf } from '../auth/guard.ts';
import type { Backend } from '../backends/backend.ts';
import { GatewayError, RPC, type JsonRpcId } from '../errors.ts';
import { H } from '../mcp/headers.ts';
import { discardBody } from '../proxy/discard.ts';
import { isEventStream, type RelayOptions } from '../proxy/relay.ts';
import type { UpstreamRequest } from '../proxy/send.ts';
import { classifyUpstreamError } from '../proxy/upstream-error.ts';
import { mayResend } from '../routing/session-resume-policy.ts';
import { stateRequestOf, withStateRequest } from '../routing/session-resume-state.ts';
import { ResumeFailed, type SessionResumer } from '../routing/session-resume.ts';
import { shortId } from '../routing/session-directory.ts';
import type { SessionRecord } from '../sessions/store.ts';
import { BackendUnreachable, type Sent } from './forwarder.ts';
import { principalOf, refuseIfBackendNotYetSeen, type RouteContext } from './route-context.ts';

/** Largest JSON answer re-wrapped as an SSE event when a re-sent request continues a cut stream. */
const MAX_WRAPPED_ANSWER = 4 << 20;
/** Largest answer to a state-setting request read to see whether the backend accepted it. */
const MAX_STATE_ANSWER = 16 * 1024;
const PROBE_TIMEOUT_MS = 2000;
const PROBE_ATTEMPTS = 4;
const PROBE_RETRY_MS = 250;

/** The request as the session's backend must see it: with the upstream session id, after a resume. */
export function forBackend(upstream: UpstreamRequest, record: SessionRecord): UpstreamRequest {
  if (record.upstreamId === undefined) return upstream;
  return { ...upstream, headers: { ...upstream.headers, [H.SESSION_ID]: record.upstreamId } };
}

/**
 * Whether a failure of the session route may be answered by resuming the session. Not for a DELETE: a
 * session that ends needs no new upstream session (it is unbound, and answered 404, as without resume).
 */
export function resumable(ctx: RouteContext, record: SessionRecord): ctx is RouteContext & { d: { resumer: SessionResumer } } {
  return ctx.d.resumer !== undefined && ctx.request.method !== 'DELETE' && ctx.d.resumer.canResume(record);
}

/** A failure before the answer's headers that may have reached the backend (reset, timeout). */
export function brokenBeforeAnswer(err: unknown, ctx: RouteContext): boolean {
  return err instanceof GatewayError && (err.code === 'UPSTREAM_ERROR' || err.code === 'UPSTREAM_TIMEOUT') && isRequest(ctx);
}

/**
 * Nothing of the request reached a server holding the session (its backend is gone, refused the connection,
 * or answered 404 for it): resume the session and send the request to the new upstream session.
 */
export async function forwardResumed(ctx: RouteContext, sid: string, record: SessionRecord): Promise<void> {
  const resumed = await resumeOr404(ctx, sid, record);
  const { backend, sent } = await sendTo(ctx, resumed, true);
  if (ctx.request.method === 'POST') ctx.d.resumer?.note('replayed');
  return relayWith(ctx, sid, resumed, backend, sent);
}

/**
 * The session's backend is marked down here, which may be suspicion only (a probe timed out during a GC
 * pause): moving a live session would split it. So the backend is asked first: it still holds the session
 * -> the request goes there; it refuses connections or answers 404 (proof of loss) -> resume; no answer ->
 * 503 + Retry-After, the binding stays.
 */
export async function forwardUnlessAlive(ctx: RouteContext, sid: string, record: SessionRecord, backend: Backend): Promise<void> {
  const verdict = await probe(ctx, backend, record.upstreamId ?? sid);
  if (verdict === 'lost') return forwardResumed(ctx, sid, record);
  if (verdict === 'unknown') throw new GatewayError('NO_BACKEND', "the session's backend does not answer");
  let sent: Sent;
  try {
    sent = await ctx.d.forwarder.sendPinned(backend, forBackend(ctx.upstream, record));
  } catch (err) {
    if (err instanceof BackendUnreachable) return forwardResumed(ctx, sid, record);
    throw err;
  }
  return relayWith(ctx, sid, record, backend, sent);
}

/** The request may have reached the backend before the connection broke: resend when safe, else -32010. */
export async function answerBrokenAttempt(ctx: RouteContext, sid: string, record: SessionRecord, backend: Backend): Promise<void> {
  const again = await resendAfterBreak(ctx, sid, record, backend);
  if (!again) return sendOutcomeUnknown(ctx);
  return relayWith(ctx, sid, again.record, again.sent.backend, again.sent);
}

/** Relays an answer of the session's backend, with what resume adds (id mapping, state recording, continuation). */
export function relayWith(ctx: RouteContext, sid: string, record: SessionRecord, backend: Backend, sent: Sent): Promise<void> {
  const { d, ex } = ctx;
  ex.backend = backend.id;
  if (!d.resumer) return d.forwarder.relay(ex, sent);
  return relayResumable(ctx, sid, record, backend, sent, d.resumer);
}

/** relayWith under --session-resume: a broken answer may be continued, and session state is recorded. */
async function relayResumable(ctx: RouteContext, sid: string, record: SessionRecord, backend: Backend, sent: Sent, resumer: SessionResumer): Promise<void> {
  const { d, ex, checked } = ctx;
  const extra: Partial<RelayOptions> = {};
  // The client keeps its id: a response naming the upstream session names the client's instead.
  if (record.upstreamId !== undefined) extra.overrideHeaders = { [H.SESSION_ID]: sid };
  if (isRequest(ctx) && resumer.canResume(record)) extra.sseContinue = () => continueCutStream(ctx, sid, record, backend);
  // A listening GET stream the backend broke answers no request: it is ended cleanly rather than cut, since
  // the session lives on. The client opens it again (MCP Streamable HTTP, "Listening for Messages from the
  // Server": the server may close it at any time), and that GET reaches the resumed session; a cut would
  // reach SDK clients as a transport error (the TypeScript SDK's onerror) for a session that is fine.
  else if (ctx.request.method === 'GET' && resumer.canResume(record)) extra.sseContinue = async () => '';
  const state = resumer.canResume(record) ? stateRequestOf(checked.body, ex.rpcMethod) : undefined;
  let answer: Buffer[] | undefined;
  if (state && sent.upstream.statusCode === 200) {
    answer = [];
    let size = 0;
    extra.bodyTap = extra.sseTap = (chunk) => {
      size += chunk.length;
      if (size <= MAX_STATE_ANSWER) answer?.push(chunk);
    };
  }
  await d.forwarder.relay(ex, sent, extra);
  if (!state || !answer) return;
  // Recorded only when the backend accepted it: a JSON-RPC result, no error.
  const text = Buffer.concat(answer).toString('utf8');
  if (!text.includes('"result"') || text.includes('"error"')) return;
  // Onto the binding as the store holds it now, and only while it still names this upstream session: a
  // resume that moved it meanwhile must not be overwritten with the old backend.
  const current = await d.directory.reread(sid).catch(() => undefined);
  if (!current || current.backend !== record.backend || current.upstreamId !== record.upstreamId) return;
  const next = withStateRequest(current, state);
  if (next) await d.directory.replace(sid, next, record.backend).catch(() => undefined);
}

/** The backend broke a streamed answer: continue the client's stream with a safe resend, or end it with -32010. */
async function continueCutStream(ctx: RouteContext, sid: string, record: SessionRecord, backend: Backend): Promise<Readable | string | undefined> {
  const again = await resendAfterBreak(ctx, sid, record, backend);
  if (!again) return sseEvent(outcomeUnknownBody(ctx.ex.rpcId));
  const u = again.sent.upstream;
  again.sent.span.end(u.statusCode);
  if (u.statusCode === 200 && isEventStream(u.headers)) return u.body.readable();
  const text = await readBounded(u.body.readable(), MAX_WRAPPED_ANSWER);
  if (u.statusCode !== 200 || text === undefined) return sseEvent(outcomeUnknownBody(ctx.ex.rpcId));
  return sseEvent(text);
}

/**
 * Sends the request again, after an attempt that may have run, when a repeat is harmless: to the same
 * backend when it still holds the session, to a resumed session when the backend proved it lost (refused
 * the connection or answered 404 to a ping). Undefined when it must not or cannot be sent again.
 */
async function resendAfterBreak(ctx: RouteContext, sid: string, record: SessionRecord, backend: Backend): Promise<{ record: SessionRecord; sent: Sent } | undefined> {
  const { d, ex } = ctx;
  if (!mayResend(ex.rpcMethod, ex.tool, d.toolSafety)) {
    d.resumer?.note('not_replayed');
    return undefined;
  }
  try {
    // Proven lost meanwhile (e.g. its pod left discovery while the request was on its way: its connections
    // are closed, so a probe could not even be sent): no need to ask it.
    const verdict = backend.servesExisting ? await probe(ctx, backend, record.upstreamId ?? sid) : 'lost';
    if (verdict === 'unknown') throw new Error('the backend neither holds nor lost the session');
    const target = verdict === 'holds' ? record : await resumeOr404(ctx, sid, record);
    const { sent } = await sendTo(ctx, target, false);
    d.resumer?.note('replayed');
    return { record: target, sent };
  } catch (err) {
    ctx.request.log.warn({ session: shortId(sid), err: (err as Error).message }, 'a request cut by a lost backend could not be sent again');
    d.resumer?.note('not_replayed');
    return undefined;
  }
}

async function resumeOr404(ctx: RouteContext, sid: string, record: SessionRecord): Promise<SessionRecord> {
  const { d, request } = ctx;
  try {
    return await (d.resumer as SessionResumer).resume(sid, record, {
      identityHeaders: identityOf(ctx),
      log: request.log,
    });
  } catch (err) {
    if (!(err instanceof ResumeFailed)) throw err;
    if (!err.final) throw new GatewayError('NO_BACKEND', 'the session could not be resumed yet', { cause: err });
    // As without resume: the session went with its backend, and 404 tells the client to initialize again.
    if (await d.directory.unbind(sid, record.backend, record.principal)) d.metrics.sessionsLost.inc({ reason: 'backend_down' });
    throw new GatewayError('SESSION_NOT_FOUND');
  }
}

/** Sends the request to the backend of `record` (a resumed binding); a listening GET starts afresh. */
async function sendTo(ctx: RouteContext, record: SessionRecord, fromStart: boolean): Promise<{ backend: Backend; sent: Sent }> {
  const { d, request, upstream } = ctx;
  const backend = d.registry.forBinding(record);
  if (!backend) {
    refuseIfBackendNotYetSeen(d, request, record);
    throw new GatewayError('NO_BACKEND', 'the resumed session has no backend here');
  }
  let req = forBackend(upstream, record);
  if (fromStart && request.method === 'GET') {
    // Event ids belong to the server that sent them: the new upstream session cannot resume the old
    // stream, so its GET starts a fresh one (MCP Streamable HTTP, "Resumability and Redelivery").
    const { [H.LAST_EVENT_ID]: _dropped, ...rest } = req.headers;
    req = { ...req, headers: rest };
  }
  try {
    return { backend, sent: await d.forwarder.sendPinned(backend, req) };
  } catch (err) {
    if (err instanceof BackendUnreachable) throw new GatewayError('NO_BACKEND', 'the resumed session\'s backend cannot be reached');
    throw err;
  }
}

/**
 * Does `backend` still hold the upstream session? A ping says (MCP "Ping"; 404 = unknown session). Asked
 * right after the break, a dying process may still reset a connection it accepted: such an answer is asked
 * again, a few times, before it counts as "unknown".
 */
async function probe(ctx: RouteContext, backend: Backend, upstreamId: string): Promise<'holds' | 'lost' | 'unknown'> {
  for (let attempt = 1; ; attempt++) {
    const verdict = await probeOnce(ctx, backend, upstreamId);
    if (verdict !== 'retry') return verdict;
    if (attempt >= PROBE_ATTEMPTS) return 'unknown';
    await new Promise((r) => setTimeout(r, PROBE_RETRY_MS));
  }
}

async function probeOnce(ctx: RouteContext, backend: Backend, upstreamId: string): Promise<'holds' | 'lost' | 'unknown' | 'retry'> {
  try {
    const res = await backend.pool.request({
      method: 'POST',
      path: backend.path,
      headers: {
        ...identityOf(ctx),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        [H.SESSION_ID]: upstreamId,
        ...(ctx.checked.protocolVersion ? { [H.PROTOCOL_VERSION]: ctx.checked.protocolVersion } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'mcp-gateway-resume-probe', method: 'ping' }),
      headersTimeout: PROBE_TIMEOUT_MS,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    discardBody(res.body);
    if (res.statusCode === 404) return 'lost';
    return res.statusCode >= 200 && res.statusCode < 300 ? 'holds' : 'unknown';
  } catch (err) {
    const { kind } = classifyUpstreamError(err);
    // Nothing listens at its address any more (the process died): proof the session went with it.
    if (kind === 'connect') return 'lost';
    return kind === 'timeout' ? 'unknown' : 'retry';
  }
}

function isRequest(ctx: RouteContext): boolean {
  return ctx.request.method === 'POST' && ctx.ex.rpcMethod !== undefined && ctx.ex.rpcId !== undefined && ctx.ex.rpcId !== null;
}

/** The JSON-RPC error for a request that may or may not have run (errors.ts RPC.OUTCOME_UNKNOWN). */
function outcomeUnknownBody(id: JsonRpcId | undefined): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: id ?? null,
    error: {
      code: RPC.OUTCOME_UNKNOWN,
      message: "The session's backend was lost while this request was in flight; the request may or may not have run, and was not sent again. The session goes on: later requests work.",
      data: { reason: 'outcome_unknown' },
    },
  });
}

/** Answers the request itself with -32010 (HTTP 200: a JSON-RPC response; the session is fine). */
function sendOutcomeUnknown(ctx: RouteContext): void {
  const body = outcomeUnknownBody(ctx.ex.rpcId);
  ctx.ex.errorCode = 'OUTCOME_UNKNOWN';
  ctx.ex.markHeaders();
  ctx.ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  ctx.ex.res.end(body);
}

/** One SSE event carrying a JSON-RPC message (each line of it a data line). */
function sseEvent(json: string): string {
  return `event: message\n${json
    .split(/\r?\n/)
    .map((l) => `data: ${l}`)
    .join('\n')}\n\n`;
}

async function readBounded(body: Readable, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        discardBody(body);
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The caller's identity headers as the backend sees them on this request (auth on), for the new session. */
function identityOf(ctx: RouteContext): Record<string, string> {
  return principalOf(ctx.request) === undefined ? {} : { ...identityHeadersOf(ctx.request) };
}
