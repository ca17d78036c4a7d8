// Health of backends, from two sources:
//  - passive: the proxy reports connection failures (a refused or timed-out connect marks the backend down
//    at once: nothing can reach it) and resets mid-response (three in a row mark it down);
//  - active: a probe per backend on an interval, faster while it is down, so that a backend that died
//    without traffic is noticed and one that came back is used again.
// A probe is a GET on the MCP endpoint that is cut as soon as headers arrive: any answer below 500 means an
// HTTP server is there (sessionful servers answer 400 without a session, modern ones 405).
import type { Logger } from 'pino';
import type { Backend } from './backend.ts';
import type { BackendRegistry } from './registry.ts';
import { discardBody } from '../proxy/discard.ts';

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Resets in a row before a backend is marked down. */
  resetThreshold?: number;
}

export class HealthChecker {
  readonly #registry: BackendRegistry;
  readonly #opts: Required<HealthOptions>;
  readonly #log: Logger;
  readonly #nextProbe = new WeakMap<Backend, number>();
  readonly #inFlight = new WeakSet<Backend>();
  #timer: NodeJS.Timeout | undefined;

  constructor(registry: BackendRegistry, options: HealthOptions, logger: Logger) {
    this.#registry = registry;
    this.#opts = { resetThreshold: 3, ...options };
    this.#log = logger;
  }

  start(): void {
    if (this.#timer) return;
    const tick = Math.max(Math.floor(this.#opts.intervalMs / 5), 100);
    this.#timer = setInterval(() => this.#tick(), tick);
    this.#timer.unref();
  }

  /** Probes every backend once, concurrently; used at start so readiness reflects reality. */
  async probeAll(): Promise<void> {
    await Promise.all(this.#registry.list().map((b) => this.probe(b)));
  }

  /** One probe; updates the backend's health. Resolves true when healthy. */
  async probe(backend: Backend): Promise<boolean> {
    if (this.#inFlight.has(backend)) return backend.healthy;
    this.#inFlight.add(backend);
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
      const ok = res.statusCode < 500;
      if (ok) this.#registry.markUp(backend);
      else this.#registry.markDown(backend, `probe answered ${res.statusCode}`);
      return ok;
    } catch (err) {
      this.#registry.markDown(backend, `probe failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return false;
    } finally {
      this.#inFlight.delete(backend);
      const every = backend.healthy ? this.#opts.intervalMs : Math.max(this.#opts.intervalMs / 5, 100);
      this.#nextProbe.set(backend, Date.now() + every);
    }
  }

  /** Passive check: the connection could not be made; nothing was delivered. */
  connectFailed(backend: Backend, cause: string): void {
    this.#registry.markDown(backend, cause);
    this.#nextProbe.set(backend, 0); // probe soon: it may have been a blip
  }

  /** Passive check: the connection broke after the request was sent. */
  resetSeen(backend: Backend, cause: string): void {
    backend.consecutiveResets++;
    if (backend.consecutiveResets >= this.#opts.resetThreshold) {
      this.#log.warn({ backend: backend.id, resets: backend.consecutiveResets }, 'backend keeps resetting connections');
      this.connectFailed(backend, cause);
    }
  }

  /** Passive check: a request went through, so the backend is up (whatever the last probe said). */
  succeeded(backend: Backend): void {
    backend.consecutiveResets = 0;
    if (!backend.healthy) this.#registry.markUp(backend);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = Date.now();
    for (const b of this.#registry.list()) {
      if ((this.#nextProbe.get(b) ?? 0) <= now && !this.#inFlight.has(b)) {
        void this.probe(b).catch((err: Error) => this.#log.error({ err }, 'health probe crashed'));
      }
    }
  }
}
