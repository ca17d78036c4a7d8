// Median of interleaved rounds: each round measures every target for each answer kind, and the figures and
// ratios the bench reports are the medians over rounds (one noisy round on a shared machine moves nothing).
import { ratios, type Ratios, type TargetFigures } from './compare.ts';
import type { Target } from './topology.ts';

export type AnswerKind = 'json' | 'sse';

export interface KindRound {
  kind: AnswerKind;
  round: number;
  /** The order the round's proxies started in (bench.ts rotates it). */
  startOrder?: Target[];
  figures: TargetFigures[];
  ratios: Ratios;
}

export interface TargetMedian {
  rps: number;
  requestsPerProxyCpuSecond: number;
  proxyCpuPercent: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number } | undefined;
  latencyRate: number | undefined;
  errors: number;
}

export interface KindSummary {
  kind: AnswerKind;
  rounds: number;
  targets: Partial<Record<Target, TargetMedian>>;
  ratios: Ratios;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

function medianRecord(records: Array<Record<string, number>>): Record<string, number> {
  const keys = new Set(records.flatMap((r) => Object.keys(r)));
  return Object.fromEntries([...keys].map((k) => [k, r2(median(records.map((r) => r[k]).filter((v): v is number => v !== undefined)))]));
}

export function summarizeKind(kind: AnswerKind, rounds: KindRound[]): KindSummary {
  const mine = rounds.filter((r) => r.kind === kind);
  const targets: KindSummary['targets'] = {};
  for (const target of new Set(mine.flatMap((r) => r.figures.map((f) => f.target)))) {
    const fs = mine.map((r) => r.figures.find((f) => f.target === target)).filter((f): f is TargetFigures => f !== undefined);
    const lat = fs.map((f) => f.latency).filter((l) => l !== undefined);
    targets[target] = {
      rps: Math.round(median(fs.map((f) => f.max.rps))),
      requestsPerProxyCpuSecond: Math.round(median(fs.map((f) => f.max.requestsPerProxyCpuSecond))),
      proxyCpuPercent: r2(median(fs.map((f) => f.max.proxyCpuPercent))),
      latencyMs: lat.length
        ? {
            p50: r2(median(lat.map((l) => l.latencyMs.p50))),
            p90: r2(median(lat.map((l) => l.latencyMs.p90))),
            p99: r2(median(lat.map((l) => l.latencyMs.p99))),
            max: r2(median(lat.map((l) => l.latencyMs.max))),
          }
        : undefined,
      latencyRate: lat.length ? Math.round(median(lat.map((l) => l.rate))) : undefined,
      errors: fs.reduce((a, f) => a + f.max.errors + f.max.non200 + (f.latency ? f.latency.errors + f.latency.shed : 0), 0),
    };
  }
  const rs = mine.map((r) => r.ratios);
  const summary: Ratios = {
    throughput: medianRecord(rs.map((r) => r.throughput)),
    sessionsPerSecond: medianRecord(rs.map((r) => r.sessionsPerSecond)),
    efficiency: medianRecord(rs.map((r) => r.efficiency)),
    p50: medianRecord(rs.map((r) => r.p50)),
    p99: medianRecord(rs.map((r) => r.p99)),
    addedP50Ms: r2(median(rs.map((r) => r.addedP50Ms))),
    addedP99Ms: r2(median(rs.map((r) => r.addedP99Ms))),
  };
  return { kind, rounds: mine.length, targets, ratios: summary };
}

export { ratios };
