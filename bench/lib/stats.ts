// What a run records: every completed request (time and latency, kept exactly: runs are bounded in request
// count), errors by kind (expected ones apart, e.g. the sessions of a replica the faults scenario killed),
// sticky-session violations (one session answered by two replicas), and sessions created.

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface TimelinePoint {
  /** Seconds since the start of the measurement. */
  t: number;
  requests: number;
  errors: number;
  p99: number;
}

export class Recorder {
  #t = new Float64Array(1 << 16);
  #ms = new Float64Array(1 << 16);
  #n = 0;
  readonly #start = performance.now();
  readonly errors = new Map<string, number>();
  readonly expectedErrors = new Map<string, number>();
  /** Error times, for the timeline. */
  readonly #errorTimes: number[] = [];
  readonly #replicaOf = new Map<string, string>();
  stickinessViolations = 0;
  readonly violationExamples: Array<{ session: string; first: string; then: string }> = [];
  sessionsCreated = 0;
  sessionsDeleted = 0;

  get count(): number {
    return this.#n;
  }

  get elapsedS(): number {
    return (performance.now() - this.#start) / 1000;
  }

  ok(ms: number): void {
    if (this.#n === this.#t.length) {
      this.#t = grow(this.#t);
      this.#ms = grow(this.#ms);
    }
    this.#t[this.#n] = (performance.now() - this.#start) / 1000;
    this.#ms[this.#n] = ms;
    this.#n++;
  }

  error(kind: string, expected = false): void {
    const map = expected ? this.expectedErrors : this.errors;
    map.set(kind, (map.get(kind) ?? 0) + 1);
    if (!expected) this.#errorTimes.push((performance.now() - this.#start) / 1000);
  }

  get unexpectedErrors(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  /** Notes which replica served a session; counts a violation when it changes. */
  served(session: string, replica: string | undefined): void {
    if (replica === undefined) return;
    const first = this.#replicaOf.get(session);
    if (first === undefined) this.#replicaOf.set(session, replica);
    else if (first !== replica) {
      this.stickinessViolations++;
      if (this.violationExamples.length < 5) this.violationExamples.push({ session, first, then: replica });
    }
  }

  forget(session: string): void {
    this.#replicaOf.delete(session);
  }

  replicaOf(session: string): string | undefined {
    return this.#replicaOf.get(session);
  }

  latency(): LatencySummary {
    const sorted = this.#ms.slice(0, this.#n).sort();
    return summarize(sorted);
  }

  /** Latency samples (ms), for the histogram. */
  samples(): Float64Array {
    return this.#ms.slice(0, this.#n);
  }

  timeline(): TimelinePoint[] {
    const seconds = Math.ceil(this.elapsedS);
    const perSecond: number[][] = Array.from({ length: Math.max(seconds, 1) }, () => []);
    for (let i = 0; i < this.#n; i++) perSecond[Math.min(Math.floor(this.#t[i] as number), perSecond.length - 1)]?.push(this.#ms[i] as number);
    const errors = new Array<number>(perSecond.length).fill(0);
    for (const t of this.#errorTimes) errors[Math.min(Math.floor(t), errors.length - 1)]! += 1;
    return perSecond.map((lat, t) => {
      const s = Float64Array.from(lat).sort();
      return { t, requests: lat.length, errors: errors[t] ?? 0, p99: s.length ? (quantile(s, 0.99) as number) : 0 };
    });
  }
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export function summarize(sorted: Float64Array): LatencySummary {
  let sum = 0;
  for (const v of sorted) sum += v;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    count: sorted.length,
    p50: r(quantile(sorted, 0.5)),
    p90: r(quantile(sorted, 0.9)),
    p99: r(quantile(sorted, 0.99)),
    max: r(sorted.length ? (sorted[sorted.length - 1] as number) : 0),
    mean: r(sorted.length ? sum / sorted.length : 0),
  };
}

/** Kind of a failed exchange, for "errors by kind". */
export function errorKind(status: number, networkError: string | undefined): string {
  if (networkError !== undefined) return `network:${networkError}`;
  return `http:${status}`;
}
