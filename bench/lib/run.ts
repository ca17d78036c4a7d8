// Runs one scenario against one target of a started topology: setup (unmeasured), the measured run under
// its budget with a progress bar, then the figures for the report (throughput, latency, errors, stickiness,
// sessions per second, store commands per request, proxy CPU and memory).
import { Budget, type RunContext } from './driver.ts';
import { Entry } from './mcp-wire.ts';
import { startProgress } from './progress.ts';
import { commandStats, storeCost, type StoreCost } from './redis-stats.ts';
import { Recorder, type LatencySummary, type TimelinePoint } from './stats.ts';
import type { Target, Topology } from './topology.ts';
import type { Scenario } from '../scenarios/scenario.ts';

export interface RunSettings {
  sessions: number;
  durationMs: number;
  maxRequests: number;
  streams: number;
  holdMs: number;
  quiet: boolean;
}

export interface ScenarioReport {
  scenario: string;
  description: string;
  target: Target;
  backend: string;
  backends: number;
  gateways: number;
  sessions: number;
  seconds: number;
  requests: number;
  throughput: number;
  latencyMs: LatencySummary;
  errorsByKind: Record<string, number>;
  expectedErrorsByKind: Record<string, number>;
  unexpectedErrors: number;
  stickinessViolations: number;
  violationExamples: Array<{ session: string; first: string; then: string }>;
  sessionsCreated: number;
  sessionsPerSecond: number;
  store: StoreCost | null;
  proxy: { processes: number; cpuPercent: number; rssKbStart: number; rssKbEnd: number; requestsPerCpuSecond: number };
  extra: Record<string, unknown>;
  timeline: TimelinePoint[];
  /** Latency samples are summarized into histogram buckets by the HTML report; kept here for it. */
  histogram: { edgesMs: number[]; counts: number[] };
}

export function histogram(samples: Float64Array, buckets = 40): { edgesMs: number[]; counts: number[] } {
  if (samples.length === 0) return { edgesMs: [], counts: [] };
  const sorted = samples.slice().sort();
  // Log-spaced buckets from the fastest to the p99.9 sample; the slowest ones go in the last bucket.
  const lo = Math.max(sorted[0] as number, 0.01);
  const hi = Math.max(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.999))] as number, lo * 1.5);
  const edges = Array.from({ length: buckets + 1 }, (_, i) => lo * (hi / lo) ** (i / buckets));
  const counts = new Array<number>(buckets).fill(0);
  for (const v of sorted) {
    const i = v <= lo ? 0 : Math.min(buckets - 1, Math.floor((Math.log(v / lo) / Math.log(hi / lo)) * buckets));
    counts[i]! += 1;
  }
  return { edgesMs: edges.map((e) => Math.round(e * 1000) / 1000), counts };
}

function entriesFor(topo: Topology, target: Target): Entry[] {
  const urls = topo.entries(target);
  const names = target === 'gateway' ? topo.gateways.map((g) => g.name) : target === 'direct' ? topo.backends.map((b) => b.name) : [target];
  return urls.map((u, i) => new Entry(names[i] ?? u, u, null));
}

export async function runScenario(topo: Topology, target: Target, scenario: Scenario, settings: RunSettings, backendKind: string): Promise<ScenarioReport> {
  const entries = entriesFor(topo, target);
  const procs = () => topo.proxyProcs(target).filter((p) => !p.exited);
  const log = (line: string) => {
    if (!settings.quiet) process.stderr.write(`${line}\n`);
  };
  const ctx: RunContext = {
    target,
    backend: backendKind as RunContext['backend'],
    entries,
    rec: new Recorder(),
    // Setup gets its own generous budget: it is not measured, only bounded.
    budget: new Budget(Number.MAX_SAFE_INTEGER, 120_000),
    sessions: settings.sessions,
    streams: settings.streams,
    holdMs: settings.holdMs,
    log,
    proxyRssKb: () => procs().reduce((a, p) => a + p.rssKb(), 0),
    killBackend: () => {
      const victim = topo.backends[topo.backends.length - 1]!;
      void victim.proc.kill();
      log(`faults: killed backend ${victim.name}`);
      return victim.name;
    },
    killGateway: () => {
      if (target !== 'gateway' || topo.gateways.length < 2) return undefined;
      const victim = topo.gateways[topo.gateways.length - 1]!;
      void victim.proc.kill();
      log(`faults: killed ${victim.name}`);
      return victim.name;
    },
  };
  try {
    const state = await scenario.setup(ctx);
    ctx.budget.stop();
    // Setup is not measured, but its failures are reported (e.g. sessions a proxy lost before the run).
    const setupErrors = ctx.rec.errors;
    ctx.rec = new Recorder();
    for (const [kind, n] of setupErrors) ctx.rec.errors.set(`setup ${kind}`, n);
    ctx.budget = new Budget(settings.maxRequests, settings.durationMs);
    const storeBefore = topo.redis && target === 'gateway' ? await commandStats(topo.redis.url) : undefined;
    const cpuBefore = procs().reduce((a, p) => a + p.cpuMs(), 0);
    const rssKbStart = ctx.proxyRssKb();
    const stopProgress = startProgress(`${scenario.name} -> ${target}`, ctx.budget, ctx.rec, settings.quiet);
    const started = performance.now();
    let extra: Record<string, unknown>;
    try {
      extra = await scenario.run(ctx, state);
    } finally {
      stopProgress();
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuMs = procs().reduce((a, p) => a + p.cpuMs(), 0) - cpuBefore;
    const rssKbEnd = ctx.proxyRssKb();
    await scenario.teardown?.(ctx, state);
    const requests = ctx.rec.count;
    const store = storeBefore && topo.redis ? storeCost(storeBefore, await commandStats(topo.redis.url), ctx.budget.used) : null;
    return {
      scenario: scenario.name,
      description: scenario.describe,
      target,
      backend: backendKind,
      backends: topo.backends.length,
      gateways: target === 'gateway' ? topo.gateways.length : target === 'direct' ? 0 : 1,
      sessions: settings.sessions,
      seconds: Math.round(seconds * 100) / 100,
      requests,
      throughput: Math.round(requests / seconds),
      latencyMs: ctx.rec.latency(),
      errorsByKind: Object.fromEntries(ctx.rec.errors),
      expectedErrorsByKind: Object.fromEntries(ctx.rec.expectedErrors),
      unexpectedErrors: ctx.rec.unexpectedErrors,
      stickinessViolations: ctx.rec.stickinessViolations,
      violationExamples: ctx.rec.violationExamples,
      sessionsCreated: ctx.rec.sessionsCreated,
      sessionsPerSecond: Math.round(ctx.rec.sessionsCreated / seconds),
      store,
      proxy: {
        processes: procs().length,
        cpuPercent: Math.round((cpuMs / (seconds * 1000)) * 1000) / 10,
        rssKbStart,
        rssKbEnd,
        requestsPerCpuSecond: cpuMs > 0 ? Math.round(ctx.budget.used / (cpuMs / 1000)) : 0,
      },
      extra,
      timeline: ctx.rec.timeline(),
      histogram: histogram(ctx.rec.samples()),
    };
  } finally {
    ctx.budget.stop();
    await Promise.allSettled(entries.map((e) => e.close()));
  }
}
