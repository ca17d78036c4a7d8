// mcp_gateway_request_duration_seconds, kept by hand: one observation per response is a bucket search and
// three additions here, where prom-client's Histogram builds a closure, validates the labels and hashes
// them on every call (about 2% of a proxied request's CPU, issue 17). It registers with a prom-client
// Registry like any metric and exports exactly what a prom-client Histogram with the same buckets and one
// label would (cumulative `_bucket` series with `le`, `+Inf`, `_sum`, `_count`; summed across --workers).
import type { Metric, Registry } from 'prom-client';

interface Series {
  /** Observations per bucket (not cumulative); index i counts values <= bounds[i] and > bounds[i-1]. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

export class DurationHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #label: L;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(o: { name: string; help: string; label: L; buckets: readonly number[]; registry: Registry }) {
    this.name = o.name;
    this.help = o.help;
    this.#label = o.label;
    this.#bounds = [...o.buckets].sort((a, b) => a - b);
    // The registry only asks a metric for get() (and reset()): this class answers both as prom-client's do.
    o.registry.registerMetric(this as unknown as Metric);
  }

  observe(labelValue: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let s = this.#series.get(labelValue);
    if (!s) {
      s = { counts: new Float64Array(this.#bounds.length), sum: 0, count: 0 };
      this.#series.set(labelValue, s);
    }
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (s.counts[i] as number)++;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [labelValue, s] of this.#series) {
      let acc = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: this.#bounds[i] as number, [this.#label]: labelValue }, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', [this.#label]: labelValue }, value: s.count, metricName: bucket });
      values.push({ labels: { [this.#label]: labelValue }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { [this.#label]: labelValue }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.clear();
  }
}
