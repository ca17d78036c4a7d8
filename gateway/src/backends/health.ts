// Health of backends, observed two ways and judged by backends/verdicts.ts:
//  - active: a probe per backend on an interval, faster while it is ejected or lost, so that a backend that
//    died without traffic is noticed, one that came back is used again, and a refused address is watched
//    closely for the grace that turns suspicion into proof;
//  - passive: the proxy reports connections that could not be made and resets mid-response (three in a
//    row), both mere suspicion, and answers, which count like an answered probe.
// A probe is a GET on the MCP endpoint that is cut as soon as headers arrive: any answer below 500 means an
// HTTP server is there (sessionful servers answer 400 without a session, modern ones 405).
import type { Logger } from 'pino';
import type { Backend, BackendState } from './backend.ts';
import type { BackendRegistry } from './registry.ts';
import { causeOf, Verdicts, type Observation, type VerdictOptions } from './verdicts.ts';
import { discardBody } from '../proxy/discard.ts';
import { classifyUpstreamError } from '../proxy/upstream-error.ts';

export interface HealthOptions extends Partial<VerdictOptions> {
  intervalMs: number;
  timeoutMs: number;
  /** Resets in a row before a backend is ejected. */
  resetThreshold?: number;
}

/** Defaults of the verdict options (the flags' defaults live in config/options.ts). */
export function verdictDefaults(intervalMs: number): VerdictOptions {
  const fast = fastInterval(intervalMs);
  return { refusedGraceMs: 5_000, lostAfterMs: 60_000, ejectionBaseMs: fast, ejectionMaxMs: 30_000 };
}

/** Ejected and lost backends are probed at a fifth of the interval (at least every 100 ms apart). */
function fastInterval(intervalMs: number): number {
  return Math.max(Math.floor(intervalMs / 5), 100);
}

export class HealthChecker {
  readonly #registry: BackendRegistry;
  readonly #opts: HealthOptions & { resetThreshold: number };
  readonly #verdicts: Verdicts;
  readonly #log: Logger;
  readonly #nextProbe = new WeakMap<Backend, number>();
  readonly #inFlight = new WeakSet<Backend>();
  #timer: NodeJS.Timeout | undefined;

  constructor(registry: BackendRegistry, options: HealthOptions, logger: Logger) {
    this.#registry = registry;
    this.#opts = { resetThreshold: 3, ...options };
    const defaults = verdictDefaults(options.intervalMs);
    const v: VerdictOptions = {
      refusedGraceMs: options.refusedGraceMs ?? defaults.refusedGraceMs,
      lostAfterMs: options.lostAfterMs ?? defaults.lostAfterMs,
      ejectionBaseMs: options.ejectionBaseMs ?? defaults.ejectionBaseMs,
      ejectionMaxMs: options.ejectionMaxMs ?? defaults.ejectionMaxMs,
    };
    // An ejection never outlasts the bound that gives the backend up.
    v.ejectionMaxMs = Math.min(v.ejectionMaxMs, v.lostAfterMs);
    this.#verdicts = new Verdicts(registry, v);
    this.#log = logger;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), fastInterval(this.#opts.intervalMs));
    this.#timer.unref();
  }

  /** Probes every backend once, concurrently; used at start so readiness reflects reality. */
  async probeAll(): Promise<void> {
    await Promise.all(this.#registry.list().map((b) => this.probe(b)));
  }

  /** One probe; hands what it saw to the verdicts. Resolves true when the backend answered. */
  async probe(backend: Backend): Promise<boolean> {
    if (this.#inFlight.has(backend)) return backend.healthy;
    this.#inFlight.add(backend);
    let seen: Observation;
    try {
      seen = await this.#probeOnce(backend);
      this.#verdicts.observe(backend, seen);
      if (seen.kind === 'local') this.#log.warn({ backend: backend.id, error: seen.detail }, 'health probe failed on the gateway side: no verdict');
      return seen.kind === 'answered';
    } finally {
      this.#inFlight.delete(backend);
      const every = backend.state === 'serving' ? this.#opts.intervalMs : fastInterval(this.#opts.intervalMs);
      this.#nextProbe.set(backend, Date.now() + every);
    }
  }

  /** Passive check: the connection could not be made (nothing was delivered). */
  connectFailed(backend: Backend, code: string): void {
    const cause = causeOf('connect', code) ?? 'unreachable';
    this.#verdicts.observe(backend, { kind: 'failed', cause, detail: code });
    this.#nextProbe.set(backend, 0); // probe soon: it may have been a blip, or the start of the refused grace
  }

  /** Passive check: the connection broke after the request was sent. */
  resetSeen(backend: Backend, code: string): void {
    backend.consecutiveResets++;
    if (backend.consecutiveResets >= this.#opts.resetThreshold) {
      this.#log.warn({ backend: backend.id, resets: backend.consecutiveResets }, 'backend keeps resetting connections');
      this.#verdicts.observe(backend, { kind: 'failed', cause: 'reset', detail: code });
      this.#nextProbe.set(backend, 0);
    }
  }

  /** Passive check: a request went through, so the backend answers (whatever the last probe said). */
  succeeded(backend: Backend): void {
    backend.consecutiveResets = 0;
    if (backend.state !== 'serving') this.#verdicts.observe(backend, { kind: 'answered' });
  }

  /** Waits (bounded) for an ejected backend to be restored or lost; see BackendRegistry.waitForVerdict. */
  waitForVerdict(backend: Backend, ms: number, signal?: AbortSignal): Promise<BackendState> {
    if (backend.state === 'ejected') this.#nextProbe.set(backend, Math.min(this.#nextProbe.get(backend) ?? 0, Date.now()));
    return this.#registry.waitForVerdict(backend, ms, signal);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #probeOnce(backend: Backend): Promise<Observation> {
    const signal = AbortSignal.timeout(this.#opts.timeoutMs);
    try {
      const res = await backend.pool.request({
        method: 'GET',
        path: backend.path,
        headers: { accept: 'text/event-stream', 'user-agent': 'mcp-gateway-health' },
        headersTimeout: this.#opts.timeoutMs,
        signal,
      });
      discardBody(res.body);
      return res.statusCode < 500 ? { kind: 'answered' } : { kind: 'failed', cause: '5xx', detail: `probe answered ${res.statusCode}` };
    } catch (err) {
      // Our own deadline fired: the backend did not answer in time (a stall, a blackhole).
      if (signal.aborted) return { kind: 'failed', cause: 'probe-timeout', detail: 'probe timed out' };
      const { kind, code } = classifyUpstreamError(err);
      const cause = causeOf(kind, code);
      return cause ? { kind: 'failed', cause, detail: code } : { kind: 'local', detail: code };
    }
  }

  #tick(): void {
    const now = Date.now();
    for (const b of this.#registry.list()) {
      this.#verdicts.check(b, now);
      if ((this.#nextProbe.get(b) ?? 0) <= now && !this.#inFlight.has(b)) {
        void this.probe(b).catch((err: Error) => this.#log.error({ err }, 'health probe crashed'));
      }
    }
  }
}
