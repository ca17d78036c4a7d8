// Sends a checked request to a backend and streams the answer back, applying the failure policy:
//  - a connection that could not be made delivered nothing: the backend is suspected (ejected, never lost on
//    that alone) and another one is tried (for requests without affinity; DESIGN.md: "retry only when the
//    connection failed"); a session's request instead waits, within --backend-wait, for its backend's
//    next verdict: restored (sent again), lost (BackendUnreachable: the session is gone), or still
//    ejected (503 + Retry-After: the session is kept);
//  - the gateway's own failures (no port, no descriptor, its resolver) blame no backend: 503;
//  - a timeout is 504, a reset or other failure 502, both with Retry-After;
//  - a client that went away ends the exchange quietly (its upstream request was aborted).
import type { Backend } from '../backends/backend.ts';
import type { HealthChecker } from '../backends/health.ts';
import type { GatewayConfig } from '../config/options.ts';
import { GatewayError } from '../errors.ts';
import type { Lifecycle, StreamKind } from '../lifecycle.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import { TOOLS_LIST_READ_LIMIT, type ToolNames } from '../metrics/tool-names.ts';
import type { UpstreamSpan } from '../tracing/tracing.ts';
import { relayResponse, type RelayOptions } from '../proxy/relay.ts';
import { sendUpstream, type UpstreamRequest, type UpstreamResponse } from '../proxy/send.ts';
import { classifyUpstreamError, type UpstreamFailureKind } from '../proxy/upstream-error.ts';
import type { Exchange } from './exchange.ts';

export interface ForwarderDeps {
  config: GatewayConfig;
  health: HealthChecker;
  metrics: GatewayMetrics;
  lifecycle: Lifecycle;
  toolNames: ToolNames;
  /** Also sees every complete tools/list answer (session resume learns which tools are safe to resend). */
  onToolsList?: (body: string) => void;
}

/** Thrown when the client went away: nothing more to answer. */
export class ClientGone extends Error {}

/**
 * Thrown by `sendWithRetry`'s attempts when nothing reached the backend; by `sendPinned` only on proof that
 * the backend and its sessions are lost (README "Reliability").
 */
export class BackendUnreachable extends Error {}

export interface Sent {
  backend: Backend;
  upstream: UpstreamResponse;
  /** The attempt's CLIENT span, ended when the response is over. */
  span: UpstreamSpan;
}

export class Forwarder {
  readonly #d: ForwarderDeps;

  constructor(deps: ForwarderDeps) {
    this.#d = deps;
  }

  /** Sends to the backend `pick` names, trying others while connections fail. */
  async sendWithRetry(pick: (exclude: ReadonlySet<string>) => Backend | undefined, req: UpstreamRequest): Promise<Sent> {
    const exclude = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const backend = pick(exclude);
      if (!backend) throw new GatewayError('NO_BACKEND');
      try {
        return await this.#send(backend, req);
      } catch (err) {
        if (!(err instanceof BackendUnreachable)) throw err;
        exclude.add(backend.id);
        if (attempt >= this.#d.config.maxRetries) throw new GatewayError('NO_BACKEND', 'no backend could be reached');
      }
    }
  }

  /**
   * Sends to one given backend (a session's). While the backend is ejected, or when a connection to it
   * fails, waits for its next verdict, within --backend-wait in all: BackendUnreachable once it is lost,
   * 503 BACKEND_EJECTED when the wait runs out (never 404 on suspicion: the client keeps its session).
   */
  sendPinned(backend: Backend, req: UpstreamRequest): Promise<Sent> {
    const started = Date.now();
    if (backend.state === 'ejected') return this.#sendPinnedWaiting(backend, req, started, 0);
    // The common case, with one promise less (issue 17): a serving backend, sent to at once.
    return this.#send(backend, req, true).catch((err: unknown) => {
      if (!(err instanceof BackendUnreachable)) throw err;
      return this.#afterPinnedFailure(err, backend, req, started, 0);
    });
  }

  async #sendPinnedWaiting(backend: Backend, req: UpstreamRequest, started: number, first: number): Promise<Sent> {
    const deadline = started + this.#d.config.backendWaitMs;
    for (let attempt = first; ; attempt++) {
      if (backend.state === 'ejected') {
        // Woken by every change of the backend's state (a re-ejection with another cause too): wait on until
        // it is serving, proven lost, or the deadline passes.
        let state = await this.#d.health.waitForVerdict(backend, deadline - Date.now(), req.clientAbort.signal);
        while (state === 'ejected' && Date.now() < deadline && !req.clientAbort.aborted) {
          state = await this.#d.health.waitForVerdict(backend, deadline - Date.now(), req.clientAbort.signal);
        }
        if (req.clientAbort.aborted) throw new ClientGone();
        if (state === 'lost') throw new BackendUnreachable(backend.stateCause);
        if (state === 'ejected') throw new GatewayError('BACKEND_EJECTED', undefined, { retryAfter: retryAfterFor(backend) });
      }
      try {
        return await this.#send(backend, req, true);
      } catch (err) {
        if (!(err instanceof BackendUnreachable)) throw err;
        return this.#afterPinnedFailure(err, backend, req, started, attempt);
      }
    }
  }

  /** The connection failed and the backend is now ejected (or was lost): wait for it once more. */
  #afterPinnedFailure(err: BackendUnreachable, backend: Backend, req: UpstreamRequest, started: number, attempt: number): Promise<Sent> {
    // Proof handed down while this request was under way; a lost verdict older than the request is not
    // proof against it (its session was bound after it, by a replica that saw the backend answer).
    if (backend.state === 'lost' && backend.stateSince >= started) throw err;
    if (attempt >= 1 || backend.state !== 'ejected') throw new GatewayError('BACKEND_EJECTED', undefined, { retryAfter: 1 });
    return this.#sendPinnedWaiting(backend, req, started, attempt + 1);
  }

  /**
   * Streams the upstream response to the client; records failures mid-stream. `streamKind` says how a
   * graceful shutdown treats an SSE answer (default: GET streams and subscriptions/listen are 'listen').
   */
  async relay(ex: Exchange, sent: Sent, extra: Partial<RelayOptions> & { streamKind?: StreamKind } = NO_EXTRA): Promise<void> {
    const { metrics, lifecycle, config } = this.#d;
    const streamKind = extra.streamKind;
    ex.markHeaders();
    let leaveStream: (() => void) | undefined;
    let expiry: NodeJS.Timeout | undefined;
    let credentialExpired = false;
    const learn = ex.rpcMethod === 'tools/list' && sent.upstream.statusCode === 200 ? new BodyCollector(TOOLS_LIST_READ_LIMIT) : undefined;
    const opts: RelayOptions = {
      sseKeepAliveMs: config.sseKeepAliveMs,
      bodyIdleTimeoutMs: config.upstreamBodyTimeoutMs,
      // The relay's close handling rides on the exchange's one 'close' listener.
      onResponseClose: (fn) => ex.onClose(fn),
      onStreamOpen: (stop) => {
        metrics.streamOpened();
        // On shutdown the stream is ended cleanly; the client reconnects to another replica.
        const listen = ex.httpMethod === 'GET' || ex.rpcMethod === 'subscriptions/listen';
        const kind = streamKind ?? (listen ? 'listen' : 'response');
        leaveStream = lifecycle.addStream(stop, kind);
        // A listening stream is one request that could otherwise outlive its token by hours: it ends cleanly
        // when the token would no longer validate, and the client reconnects with a fresh one (resuming with
        // Last-Event-ID). MCP authorization: tokens are validated on every request. Answers to a request
        // (a tool call streaming its result) and legacy HTTP+SSE streams (the stream is the session; each of
        // its POSTs is checked) are left to finish.
        const deadline = ex.credentialDeadline;
        if (kind === 'listen' && deadline !== undefined && deadline - Date.now() <= MAX_TIMER_MS) {
          expiry = setTimeout(() => {
            credentialExpired = true;
            ex.outcome = 'credential-expired'; // before stop(): the access log line is written as the response ends
            metrics.streamsCredentialExpired.inc();
            stop();
          }, Math.max(0, deadline - Date.now()));
        }
      },
      onStreamClose: () => {
        clearTimeout(expiry);
        metrics.streamClosed();
        leaveStream?.();
      },
    };
    if (learn) opts.bodyTap = opts.sseTap = learn.tap;
    // The routes' additions (session resume), without a rest/spread copy per request when there are none;
    // a `streamKind` among them is not a relay option and is ignored there.
    if (extra !== NO_EXTRA) Object.assign(opts, extra);
    const outcome = await relayResponse(sent.upstream, ex.res, opts);
    ex.outcome = credentialExpired ? 'credential-expired' : outcome.result;
    if (outcome.result === 'upstream-failed' && !lifecycle.stopping) {
      const { kind, code } = classifyUpstreamError(outcome.error);
      this.#countFailure(sent.backend, kind);
      if (kind === 'reset') this.#d.health.resetSeen(sent.backend, code);
      ex.errorCode = `UPSTREAM_${kind.toUpperCase()}`;
      sent.span.end(sent.upstream.statusCode, ex.errorCode);
    } else {
      sent.span.end(sent.upstream.statusCode);
    }
    if (learn?.complete) {
      const text = learn.text();
      this.#d.toolNames.learnFromToolsList(text);
      this.#d.onToolsList?.(text);
    }
  }

  #send(backend: Backend, req: UpstreamRequest, pinned = false): Promise<Sent> {
    const span = req.trace?.upstreamStart(req.method, backend.id, backend.url, req.headers) ?? NO_SPAN;
    return sendUpstream(backend, req, this.#d.config.upstreamTimeoutMs).then(
      (upstream) => {
        this.#d.health.succeeded(backend);
        return { backend, upstream, span };
      },
      (err: unknown) => this.#failed(backend, req, pinned, span, err),
    );
  }

  /** Why a send failed, as what the caller acts on (ClientGone, BackendUnreachable, a GatewayError). */
  #failed(backend: Backend, req: UpstreamRequest, pinned: boolean, span: UpstreamSpan, err: unknown): never {
    const { kind, code } = classifyUpstreamError(err);
    span.end(undefined, kind);
    if (kind === 'aborted' || req.clientAbort.aborted) throw new ClientGone();
    this.#countFailure(backend, kind);
    if (kind === 'local') {
      // Nothing was sent, and the backend is not to blame: another backend may do (sendWithRetry); a
      // session's request has no other, and must not lose its session over our own shortage.
      if (pinned) throw new GatewayError('LOCAL_RESOURCES', code, { cause: err });
      throw new BackendUnreachable(code);
    }
    if (kind === 'connect') {
      this.#d.health.connectFailed(backend, code);
      throw new BackendUnreachable(code);
    }
    if (kind === 'reset') this.#d.health.resetSeen(backend, code);
    throw new GatewayError(kind === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_ERROR', code, { cause: err });
  }

  #countFailure(backend: Backend, kind: UpstreamFailureKind): void {
    const label = kind === 'connect' || kind === 'timeout' || kind === 'reset' || kind === 'local' ? kind : 'other';
    this.#d.metrics.upstreamErrors.inc({ backend: backend.id, kind: label });
  }
}

const NO_SPAN: UpstreamSpan = { end: () => undefined };
const NO_EXTRA: Partial<RelayOptions> & { streamKind?: StreamKind } = Object.freeze({});

/** Retry-After (seconds) for a session whose backend is ejected: when its ejection time is over, 1 to 30. */
function retryAfterFor(backend: Backend): number {
  return Math.min(30, Math.max(1, Math.ceil((backend.ejectedUntil - Date.now()) / 1000)));
}
/** setTimeout's longest delay (about 24.8 days); a credential valid longer gets no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Keeps the first `limit` bytes of a body that passes through; `complete` is false if it was cut. */
class BodyCollector {
  readonly #chunks: Buffer[] = [];
  readonly #limit: number;
  #size = 0;
  complete = true;
  constructor(limit: number) {
    this.#limit = limit;
  }
  readonly tap = (chunk: Buffer): void => {
    if (!this.complete) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.complete = false;
      this.#chunks.length = 0;
      return;
    }
    this.#chunks.push(chunk);
  };
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
