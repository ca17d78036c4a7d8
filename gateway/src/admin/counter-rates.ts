// Totals for the status page: counters read from the gateway's own metrics registry, as totals since start
// and over the last minute. A sample every few seconds, a minute and a bit kept: bounded, and cheap next to
// a Prometheus scrape.
import type { Registry } from 'prom-client';

const SAMPLE_MS = 5000;
const KEEP = Math.ceil(60_000 / SAMPLE_MS) + 1;

/** The counters the page totals. A name the registry lacks reads as 0 (a feature another branch adds). */
export const TOTALED = {
  resumes: 'mcp_gateway_sessions_resumed_total',
  limitRejections: 'mcp_gateway_limit_rejections_total',
  authFailures: 'mcp_gateway_auth_failures_total',
  sessionsLost: 'mcp_gateway_sessions_lost_total',
} as const;
export type Totaled = keyof typeof TOTALED;

export interface CounterTotal {
  total: number;
  lastMinute: number;
}

async function sumOf(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.reduce((n, v) => n + v.value, 0);
}

export class CounterRates {
  readonly #registry: Registry;
  readonly #samples: Array<{ at: number; totals: Record<Totaled, number> }> = [];
  readonly #timer: NodeJS.Timeout;

  constructor(registry: Registry) {
    this.#registry = registry;
    void this.#sample();
    this.#timer = setInterval(() => void this.#sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  async read(): Promise<Record<Totaled, CounterTotal>> {
    const now = await this.#totals();
    const oldest = this.#samples[0]?.totals;
    const out = {} as Record<Totaled, CounterTotal>;
    for (const k of Object.keys(TOTALED) as Totaled[]) out[k] = { total: now[k], lastMinute: now[k] - (oldest?.[k] ?? 0) };
    return out;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #totals(): Promise<Record<Totaled, number>> {
    const out = {} as Record<Totaled, number>;
    for (const [k, name] of Object.entries(TOTALED) as Array<[Totaled, string]>) out[k] = await sumOf(this.#registry, name);
    return out;
  }

  async #sample(): Promise<void> {
    this.#samples.push({ at: Date.now(), totals: await this.#totals() });
    while (this.#samples.length > KEEP) this.#samples.shift();
  }
}
