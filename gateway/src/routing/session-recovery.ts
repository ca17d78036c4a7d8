// Finds the backend of a session that no gateway replica knows any more (Redis restarted empty or was
// flushed, or the in-memory store went with a gateway restart): every live backend is asked with a JSON-RPC
// `ping` carrying the session id. `ping` has no side effects (MCP "Ping" utility); a backend that does not
// hold the session answers 404 (Streamable HTTP, "Session Management"), the one that holds it answers 200.
// Bounded: one probe round per id at a time (concurrent requests for it wait for the same round), a cap on
// rounds in flight, and negative answers cached so that made-up ids cannot make the gateway probe forever.
// With auth on (and --session-recovery-identity), the ping carries the caller's forwarded identity, and only a
// backend that checks it against the session's creator can answer 200: recovery then never hands a session
// to whoever presents its id first.
import type { Backend } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import { H } from '../mcp/headers.ts';
import { discardBody } from '../proxy/discard.ts';

export type RecoveryResult = 'recovered' | 'not_found' | 'ambiguous' | 'busy' | 'failed';

export interface RecoveryOptions {
  /** Longest wait for one backend's answer. */
  timeoutMs: number;
  /** How long an id no backend held is answered 404 without probing again. */
  negativeTtlMs: number;
  /** Probe rounds in flight at once; past it an unknown id is answered 404 at once. */
  maxInFlight: number;
}

export interface RecoveryContext {
  /** MCP-Protocol-Version of the request that missed, so the probe speaks the client's revision. */
  protocolVersion: string | undefined;
  /** Headers that identify the caller to backends (auth: the forwarded identity). */
  identityHeaders: Record<string, string>;
  /**
   * The caller's principal, when auth is on. Rounds and negative answers are per caller: a backend that
   * checks identity answers one principal 200 and another 404 for the same id.
   */
  principal?: string | undefined;
}

const PROBE_BODY = JSON.stringify({ jsonrpc: '2.0', id: 'mcp-gateway-recovery', method: 'ping' });

export class SessionRecovery {
  readonly #registry: BackendRegistry;
  readonly #o: RecoveryOptions;
  readonly #rounds = new Map<string, Promise<Backend | RecoveryResult>>();
  readonly #negative = new Map<string, number>();
  readonly #onResult: (result: RecoveryResult) => void;

  constructor(registry: BackendRegistry, options: RecoveryOptions, onResult: (result: RecoveryResult) => void) {
    this.#registry = registry;
    this.#o = options;
    this.#onResult = onResult;
  }

  /** The backend holding `id`, or why none was found. */
  async find(id: string, ctx: RecoveryContext): Promise<Backend | RecoveryResult> {
    // A principal holds no newline (an issuer URL, a space, a subject), so the key splits one way only.
    const key = ctx.principal === undefined ? id : `${ctx.principal}\n${id}`;
    const until = this.#negative.get(key);
    if (until !== undefined) {
      if (until > Date.now()) return 'not_found';
      this.#negative.delete(key);
    }
    const running = this.#rounds.get(key);
    if (running) return running;
    if (this.#rounds.size >= this.#o.maxInFlight) {
      this.#onResult('busy');
      return 'busy';
    }
    const round = this.#probeAll(id, ctx).finally(() => this.#rounds.delete(key));
    this.#rounds.set(key, round);
    const result = await round;
    const label = typeof result === 'string' ? result : 'recovered';
    this.#onResult(label);
    if (label === 'not_found') this.#rememberMiss(key);
    return result;
  }

  async #probeAll(id: string, ctx: RecoveryContext): Promise<Backend | RecoveryResult> {
    // Serving backends only: an ejected one (suspected: stalled, timing out) would hold every round up to the
    // timeout. It may hold the session, though, so a round that found nobody while one is ejected is
    // 'failed' (not remembered as a miss, and not proof: the caller answers 503, README "Reliability").
    const ejected = this.#registry.list().some((b) => b.state === 'ejected');
    const candidates = this.#registry.list().filter((b) => b.state === 'serving');
    if (candidates.length === 0) return ejected ? 'failed' : 'not_found';
    const answers = await Promise.all(candidates.map((b) => this.#probe(b, id, ctx)));
    const holders = candidates.filter((_, i) => answers[i] === 'holds');
    if (holders.length === 1) return holders[0] as Backend;
    // Two backends claiming one session means they do not track sessions (stateless servers): binding either
    // would be a guess, so the request is refused like an unknown session.
    if (holders.length > 1) return 'ambiguous';
    return ejected || answers.includes('failed') ? 'failed' : 'not_found';
  }

  async #probe(backend: Backend, id: string, ctx: RecoveryContext): Promise<'holds' | 'lacks' | 'failed'> {
    try {
      const res = await backend.pool.request({
        method: 'POST',
        path: backend.path,
        headers: {
          ...ctx.identityHeaders,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          [H.SESSION_ID]: id,
          ...(ctx.protocolVersion ? { [H.PROTOCOL_VERSION]: ctx.protocolVersion } : {}),
        },
        body: PROBE_BODY,
        headersTimeout: this.#o.timeoutMs,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      discardBody(res.body);
      if (res.statusCode >= 200 && res.statusCode < 300) return 'holds';
      return res.statusCode === 404 || (res.statusCode >= 400 && res.statusCode < 500) ? 'lacks' : 'failed';
    } catch {
      return 'failed';
    }
  }

  #rememberMiss(key: string): void {
    // Bounded: an attacker sending endless made-up ids only ever costs this many entries.
    if (this.#negative.size >= 10_000) {
      const now = Date.now();
      for (const [k, until] of this.#negative) if (until <= now) this.#negative.delete(k);
      if (this.#negative.size >= 10_000) this.#negative.delete(this.#negative.keys().next().value as string);
    }
    this.#negative.set(key, Date.now() + this.#o.negativeTtlMs);
  }
}
