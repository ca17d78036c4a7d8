// One target's measurement made of slices: short wrk runs taken in turn with the other targets' (bench.ts),
// so that a slow half-minute of a shared machine falls on every target instead of on whichever one was being
// measured then. The slices add up to one result: requests, seconds and proxy CPU summed (throughput and
// requests per CPU-second are then ratios of sums, not an average of ratios), latency percentiles the
// median of the slices' (wrk reports no histogram to merge), max the worst.
import { median } from './median.ts';
import type { WrkResult } from './wrk.ts';

export function combineSlices(slices: readonly WrkResult[]): WrkResult {
  const first = slices[0];
  if (!first) throw new Error('combineSlices: no slice to combine');
  if (slices.length === 1) return first;
  const sum = (pick: (r: WrkResult) => number) => slices.reduce((a, r) => a + pick(r), 0);
  const med = (pick: (r: WrkResult) => number) => Math.round(median(slices.map(pick)) * 100) / 100;
  const requests = sum((r) => r.requests);
  const seconds = sum((r) => r.seconds);
  const cpuMs = sum((r) => r.proxyCpuMs);
  return {
    connections: first.connections,
    seconds: Math.round(seconds * 100) / 100,
    requests,
    rps: seconds > 0 ? Math.round(requests / seconds) : 0,
    p50Ms: med((r) => r.p50Ms),
    p90Ms: med((r) => r.p90Ms),
    p99Ms: med((r) => r.p99Ms),
    maxMs: Math.max(...slices.map((r) => r.maxMs)),
    errors: sum((r) => r.errors),
    non200: sum((r) => r.non200),
    status404: sum((r) => r.status404),
    proxyCpuMs: cpuMs,
    proxyCpuPercent: seconds > 0 ? Math.round((cpuMs / (seconds * 1000)) * 1000) / 10 : 0,
    requestsPerProxyCpuSecond: cpuMs > 0 ? Math.round(requests / (cpuMs / 1000)) : 0,
  };
}
