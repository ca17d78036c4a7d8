// Per-backend and per-era traffic over the last minute, for the status page: requests/s, errors/s and
// p50/p99 latency to response headers. Prometheus has the long view; this is the "right now" an operator
// reads while a user is on the phone. Bounded memory whatever the load: a ring of 60 one-second buckets per
// key, each bucket a fixed latency histogram (no samples kept), and a bounded number of keys.

/** Upper bounds (ms) of the latency buckets; the last bucket is open-ended. */
const BOUNDS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
const SECONDS = 60;
/** Backends come and go (pods); keys beyond this are not tracked, so a churning fleet cannot grow memory. */
const MAX_KEYS = 256;

export type Era = 'sessions' | 'stateless' | 'legacy-sse';

export interface WindowFigures {
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Milliseconds; null when there was no request in the window. Upper bound of the bucket it falls in. */
  p50Ms: number | null;
  p99Ms: number | null;
  requests: number;
  errors: number;
}

class Ring {
  readonly #second = new Float64Array(SECONDS).fill(-1);
  readonly #requests = new Uint32Array(SECONDS);
  readonly #errors = new Uint32Array(SECONDS);
  readonly #latency = new Uint32Array(SECONDS * (BOUNDS_MS.length + 1));

  add(nowSec: number, isError: boolean, latencyMs: number | undefined): void {
    const slot = nowSec % SECONDS;
    if (this.#second[slot] !== nowSec) {
      // A bucket from a minute (or more) ago: reuse it.
      this.#second[slot] = nowSec;
      this.#requests[slot] = 0;
      this.#errors[slot] = 0;
      this.#latency.fill(0, slot * (BOUNDS_MS.length + 1), (slot + 1) * (BOUNDS_MS.length + 1));
    }
    this.#requests[slot]! += 1;
    if (isError) this.#errors[slot]! += 1;
    if (latencyMs !== undefined) {
      // A plain loop, not findIndex with a closure: this runs once per request (issue 17).
      let b = 0;
      while (b < BOUNDS_MS.length && latencyMs > BOUNDS_MS[b]!) b++;
      this.#latency[slot * (BOUNDS_MS.length + 1) + b]! += 1;
    }
  }

  figures(nowSec: number): WindowFigures {
    let requests = 0;
    let errors = 0;
    const hist = new Array<number>(BOUNDS_MS.length + 1).fill(0);
    for (let slot = 0; slot < SECONDS; slot++) {
      const s = this.#second[slot]!;
      if (s < 0 || nowSec - s >= SECONDS) continue;
      requests += this.#requests[slot]!;
      errors += this.#errors[slot]!;
      for (let b = 0; b <= BOUNDS_MS.length; b++) hist[b]! += this.#latency[slot * (BOUNDS_MS.length + 1) + b]!;
    }
    return {
      requestsPerSecond: round2(requests / SECONDS),
      errorsPerSecond: round2(errors / SECONDS),
      p50Ms: quantile(hist, 0.5),
      p99Ms: quantile(hist, 0.99),
      requests,
      errors,
    };
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The upper bound of the bucket holding quantile `q` (the open last bucket reports the largest bound). */
function quantile(hist: readonly number[], q: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    seen += hist[b]!;
    if (seen >= rank) return BOUNDS_MS[Math.min(b, BOUNDS_MS.length - 1)]!;
  }
  return BOUNDS_MS[BOUNDS_MS.length - 1]!;
}

export interface ExchangeOutcome {
  /** Backend id, when the request got as far as choosing one. */
  backend: string | undefined;
  /** The classifier's path (mcp/classify.ts), when the request got that far. */
  route: string | undefined;
  /** HTTP status sent; 0 when the response never started. */
  status: number;
  /** Milliseconds from arrival to response headers. */
  latencyMs: number;
  /** The client went away first: its doing, not the backend's. */
  clientClosed?: boolean;
}

/** Which era a classified request belongs to (DESIGN.md "Protocol eras"). */
export function eraOf(route: string | undefined): Era | undefined {
  if (route === 'session' || route === 'initialize') return 'sessions';
  if (route === 'stateless' || route === 'task') return 'stateless';
  if (route === 'legacy-sse-open' || route === 'legacy-sse-message') return 'legacy-sse';
  return undefined;
}

export class TrafficWindow {
  readonly #backends = new Map<string, Ring>();
  readonly #eras = new Map<Era, Ring>();
  readonly #newSessions = new Map<Era, Ring>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * One answered request (called once per response, where it is accounted). An error is what an operator
   * calls one on a backend: a 5xx (the backend's or the gateway's 502/503/504) or no response at all, unless
   * the client left before it could come.
   */
  record(o: ExchangeOutcome): void {
    const sec = Math.floor(this.#now() / 1000);
    const isError = o.status >= 500 || (o.status === 0 && !o.clientClosed);
    if (o.backend !== undefined) this.#ring(this.#backends, o.backend)?.add(sec, isError, o.latencyMs);
    const era = eraOf(o.route);
    if (era === undefined) return;
    this.#ring(this.#eras, era)?.add(sec, isError, o.latencyMs);
    // A new session of its era: an initialize that succeeded, or a legacy stream that opened.
    if (o.status === 200 && (o.route === 'initialize' || o.route === 'legacy-sse-open')) this.#ring(this.#newSessions, era)?.add(sec, false, undefined);
  }

  backend(id: string): WindowFigures {
    return this.#figures(this.#backends.get(id));
  }

  era(era: Era): WindowFigures & { newSessionsPerMinute: number } {
    return { ...this.#figures(this.#eras.get(era)), newSessionsPerMinute: this.#figures(this.#newSessions.get(era)).requests };
  }

  /** Forgets a backend that left discovery. */
  forget(id: string): void {
    this.#backends.delete(id);
  }

  #figures(ring: Ring | undefined): WindowFigures {
    return ring ? ring.figures(Math.floor(this.#now() / 1000)) : { requestsPerSecond: 0, errorsPerSecond: 0, p50Ms: null, p99Ms: null, requests: 0, errors: 0 };
  }

  #ring<K>(map: Map<K, Ring>, key: K): Ring | undefined {
    let ring = map.get(key);
    if (!ring) {
      if (map.size >= MAX_KEYS) return undefined;
      map.set(key, (ring = new Ring()));
    }
    return ring;
  }
}
