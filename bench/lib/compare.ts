// The figures of one comparison and their ratios (gateway / floor, gateway / HAProxy, gateway / nginx, gateway / direct):
// absolute numbers on a shared machine are noise, ratios measured side by side in the same run are not.
import type { OpenLoopResult } from './open-loop.ts';
import type { Target } from './topology.ts';
import type { WrkResult } from './wrk.ts';

export interface TargetFigures {
  target: Target;
  max: WrkResult;
  ramp: WrkResult[];
  /** initialize only: new sessions per second (measured with --new-sessions). */
  sessions: WrkResult | undefined;
  latency: OpenLoopResult | undefined;
  /**
   * Each process's own max-throughput figure (bench --processes N, N > 1; at the best connection count):
   * which process ran slow, which the summed `max` does not show.
   */
  processes?: Array<{ url: string; rps: number; requestsPerProxyCpuSecond: number }>;
}

export interface Ratios {
  throughput: Record<string, number>;
  sessionsPerSecond: Record<string, number>;
  /** Requests per CPU-second of the proxy process (how much work each request costs the proxy). */
  efficiency: Record<string, number>;
  p50: Record<string, number>;
  p99: Record<string, number>;
  /** Gateway p99 minus direct p99 at the same rate, ms: the latency the gateway adds. */
  addedP99Ms: number;
  addedP50Ms: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export function ratios(figures: TargetFigures[]): Ratios {
  const by = (t: Target) => figures.find((f) => f.target === t);
  const gw = by('gateway') as TargetFigures;
  const out: Ratios = { throughput: {}, sessionsPerSecond: {}, efficiency: {}, p50: {}, p99: {}, addedP99Ms: 0, addedP50Ms: 0 };
  for (const other of ['floor', 'floor-buffered', 'haproxy', 'nginx', 'direct'] as const) {
    const o = by(other);
    if (!o) continue;
    out.throughput[`gateway/${other}`] = r2(gw.max.rps / Math.max(1, o.max.rps));
    if (gw.sessions && o.sessions) out.sessionsPerSecond[`gateway/${other}`] = r2(gw.sessions.rps / Math.max(1, o.sessions.rps));
    if (other !== 'direct') out.efficiency[`gateway/${other}`] = r2(gw.max.requestsPerProxyCpuSecond / Math.max(1, o.max.requestsPerProxyCpuSecond));
    if (gw.latency && o.latency) {
      out.p50[`gateway/${other}`] = r2(gw.latency.latencyMs.p50 / Math.max(0.001, o.latency.latencyMs.p50));
      out.p99[`gateway/${other}`] = r2(gw.latency.latencyMs.p99 / Math.max(0.001, o.latency.latencyMs.p99));
    }
  }
  const direct = by('direct')?.latency;
  if (gw.latency && direct) {
    out.addedP99Ms = r2(gw.latency.latencyMs.p99 - direct.latencyMs.p99);
    out.addedP50Ms = r2(gw.latency.latencyMs.p50 - direct.latencyMs.p50);
  }
  return out;
}

export function printComparison(run: number | string, figures: TargetFigures[], r: Ratios, nodeGeneratorRps: number): void {
  const w = (s: string | number, n: number) => String(s).padStart(n);
  const lines = [
    '',
    `${run}: max throughput (wrk, closed loop)                       | latency at a fixed rate (open loop)`,
    `target         ${w('req/s', 8)} ${w('sessions/s', 10)} ${w('proxy CPU%', 11)} ${w('req/CPU-s', 10)} ${w('conns', 6)} ${w('non-200', 8)} | ${w('rate', 6)} ${w('p50', 7)} ${w('p90', 7)} ${w('p99', 7)} ${w('max', 7)} ms ${w('errors', 6)}`,
  ];
  for (const f of figures) {
    const l = f.latency;
    if (f.processes) lines.push(`  ${f.target} per process, req/CPU-s: ${f.processes.map((p) => p.requestsPerProxyCpuSecond).join(' ')}`);
    lines.push(
      `${f.target.padEnd(14)} ${w(f.max.rps, 8)} ${w(f.sessions?.rps ?? '-', 10)} ${w(f.max.proxyCpuPercent, 11)} ${w(f.max.requestsPerProxyCpuSecond || '-', 10)} ${w(f.max.connections, 6)} ${w(f.max.non200 + f.max.errors, 8)} | ` +
        (l ? `${w(l.rate, 6)} ${w(l.latencyMs.p50, 7)} ${w(l.latencyMs.p90, 7)} ${w(l.latencyMs.p99, 7)} ${w(l.latencyMs.max, 7)}    ${w(l.errors + l.shed, 6)}` : ''),
    );
  }
  lines.push(
    `ratios: throughput ${JSON.stringify(r.throughput)}`,
    `        new sessions per second ${JSON.stringify(r.sessionsPerSecond)} (sessions/s: initialize only, proxy CPU of the req/s run)`,
    `        requests per proxy CPU-second ${JSON.stringify(r.efficiency)}`,
    `        p50 ${JSON.stringify(r.p50)}  p99 ${JSON.stringify(r.p99)}`,
    `        gateway: ${figures.find((f) => f.target === 'gateway')?.sessions?.requestsPerProxyCpuSecond ?? '-'} new sessions per gateway CPU-second`,
    `        gateway adds ${r.addedP50Ms} ms at p50 and ${r.addedP99Ms} ms at p99 over direct`,
    ...(nodeGeneratorRps > 0 ? [`generator: wrk direct ${figures.find((f) => f.target === 'direct')?.max.rps} req/s vs the Node generator (64 sessions, closed loop) ${nodeGeneratorRps} req/s`] : []),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
