// `npm run load -- [options]`: starts a topology (backends, redis-server, gateway replicas, optional HAProxy
// and nginx baselines), runs scenarios against targets, writes a JSON and an HTML report under
// bench/results/, and stops every process it started (also on failure and on Ctrl-C).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { guardSignals, ProcessGroup } from './lib/procs.ts';
import { runScenario, type ScenarioReport } from './lib/run.ts';
import { REPO, startTopology, type BackendKind, type Target } from './lib/topology.ts';
import { renderHtml } from './report/html.ts';
import { SCENARIOS } from './scenarios/index.ts';

export const LOAD_HELP = `npm run load -- [options]       load test on loopback; bounded; cleans up after itself

  --scenario LIST      steady,interactive,churn,streams,faults or all (default steady)
                         steady       small tools/call on K live sessions (closed loop)
                         interactive  tool calls with sampling + elicitation round trips (demo backend)
                         churn        sessions created and deleted continuously
                         streams      idle GET streams held open; proxy RSS per stream
                         faults       a backend and a gateway replica killed mid-run
  --target LIST        gateway,haproxy,nginx,floor,floor-buffered,direct (default gateway); each scenario runs against each
  --backend KIND       fast | fast-sse | fast-strict | demo (default fast; interactive always uses demo)
                         fast         bench/fast-backend.ts, accepts any session id (proxy overhead)
                         fast-sse     the same, answering every request as a one-event SSE stream (as SDK servers do)
                         fast-strict  the same, but 404 for ids it did not mint (exposes lost stickiness)
                         demo         demo/backend.ts on the official MCP SDK
  --backends N         backend replicas (default 3)
  --gateways M         gateway replicas, all on one redis-server (default 2)
  --sessions K         concurrent sessions / workers (default 32)
  --duration S         seconds per measured run (default 10)
  --requests N         most requests per measured run (default 200000)
  --streams N          streams to hold open in the streams scenario (default 1000)
  --hold S             seconds to hold the streams open (default 5)
  --gateway-log-level  the gateway's --log-level (default info, its default)
  --gateway-arg ARG    extra gateway flag (repeatable), e.g. --gateway-arg=--session-ttl=10m
  --gateway-node-flag F  extra Node flag for the gateway (repeatable), e.g. --gateway-node-flag=--max-semi-space-size=32
  --proxy-cpus LIST    taskset CPU list for gateway/HAProxy/nginx (default: no pinning)
  --other-cpus LIST    taskset CPU list for backends and redis-server (default: no pinning)
  --cpu-prof           write a V8 CPU profile of each gateway to the results dir
  --out DIR            results directory (default bench/results)
  --quiet              no progress bar
  --help               this text

Environment: MCP_BENCH_GATEWAY_MAIN=path/to/main.js runs another gateway build (A/B comparisons).
Writes <out>/load-<time>.json and .html (latency histogram, timeline). Exit code 1 when a run had
unexpected errors or stickiness violations.`;

export interface LoadOptions {
  scenarios: string[];
  targets: Target[];
  backend: BackendKind;
  backends: number;
  gateways: number;
  sessions: number;
  durationMs: number;
  maxRequests: number;
  streams: number;
  holdMs: number;
  gatewayLogLevel: string;
  gatewayArgs: string[];
  gatewayNodeFlags: string[];
  proxyCpus: string | undefined;
  otherCpus: string | undefined;
  cpuProf: boolean;
  out: string;
  quiet: boolean;
}

function int(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got '${raw}'`);
  return n;
}

function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: T[]): T[] {
  if (raw === undefined) return fallback;
  const items = raw === 'all' ? [...allowed] : raw.split(',').map((s) => s.trim());
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`--${name}: '${i}' is not one of ${allowed.join(', ')}`);
  return items as T[];
}

export function parseLoadArgs(argv: string[]): LoadOptions | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      target: { type: 'string' },
      backend: { type: 'string' },
      backends: { type: 'string' },
      gateways: { type: 'string' },
      sessions: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      streams: { type: 'string' },
      hold: { type: 'string' },
      'gateway-log-level': { type: 'string' },
      'gateway-arg': { type: 'string', multiple: true },
      'gateway-node-flag': { type: 'string', multiple: true },
      'proxy-cpus': { type: 'string' },
      'other-cpus': { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      out: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (v.help) return 'help';
  const backend = (v.backend ?? 'fast') as BackendKind;
  if (!['fast', 'fast-sse', 'fast-strict', 'demo'].includes(backend)) throw new Error(`--backend: '${backend}' is not one of fast, fast-sse, fast-strict, demo`);
  return {
    scenarios: list('scenario', v.scenario, Object.keys(SCENARIOS), ['steady']),
    targets: list('target', v.target, ['gateway', 'haproxy', 'nginx', 'floor', 'floor-buffered', 'direct'] as const, ['gateway']),
    backend,
    backends: int('backends', v.backends, 3),
    gateways: int('gateways', v.gateways, 2),
    sessions: int('sessions', v.sessions, 32),
    durationMs: int('duration', v.duration, 10) * 1000,
    maxRequests: int('requests', v.requests, 200_000),
    streams: int('streams', v.streams, 1000),
    holdMs: int('hold', v.hold, 5, 0) * 1000,
    gatewayLogLevel: v['gateway-log-level'] ?? 'info',
    gatewayArgs: v['gateway-arg'] ?? [],
    gatewayNodeFlags: v['gateway-node-flag'] ?? [],
    proxyCpus: v['proxy-cpus'],
    otherCpus: v['other-cpus'],
    cpuProf: v['cpu-prof'] ?? false,
    out: v.out ?? join(REPO, 'bench/results'),
    quiet: v.quiet ?? false,
  };
}

/** Runs every scenario against every target, each on a fresh topology. */
export async function runLoad(o: LoadOptions, group: ProcessGroup): Promise<ScenarioReport[]> {
  const reports: ScenarioReport[] = [];
  for (const name of o.scenarios) {
    const scenario = SCENARIOS[name]!;
    const backend: BackendKind = scenario.needs?.backend ?? o.backend;
    for (const target of o.targets) {
      if (name === 'faults' && target !== 'gateway' && target !== 'direct' && o.backends < 2) continue;
      const topo = await startTopology(group, {
        backend,
        backends: Math.max(o.backends, scenario.needs?.backends ?? 1),
        gateways: name === 'streams' ? 1 : o.gateways,
        targets: [target],
        gatewayArgs: o.gatewayArgs,
        gatewayNodeFlags: o.gatewayNodeFlags,
        gatewayLogLevel: o.gatewayLogLevel,
        proxyCpus: o.proxyCpus,
        otherCpus: o.otherCpus,
        cpuProfDir: o.cpuProf ? o.out : undefined,
      });
      try {
        reports.push(await runScenario(topo, target, scenario, o, backend));
      } finally {
        await group.stopAll();
      }
    }
  }
  return reports;
}

export function writeReports(out: string, prefix: string, reports: ScenarioReport[], meta: Record<string, unknown>): { json: string; html: string } {
  mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = join(out, `${prefix}-${stamp}.json`);
  const html = join(out, `${prefix}-${stamp}.html`);
  writeFileSync(json, JSON.stringify({ meta, reports }, null, 2));
  writeFileSync(html, renderHtml(`mcp-session-gateway ${prefix}`, meta, reports));
  return { json, html };
}

export function summaryLine(r: ScenarioReport): string {
  const l = r.latencyMs;
  const store = r.store ? ` store ${r.store.hotPerRequest}/req (all ${r.store.allPerRequest})` : '';
  const extra = Object.entries(r.extra)
    .filter(([, v]) => typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${r.scenario.padEnd(11)} ${r.target.padEnd(8)} ${String(r.throughput).padStart(7)} req/s  p50 ${l.p50} p90 ${l.p90} p99 ${l.p99} max ${l.max} ms  errors ${r.unexpectedErrors} sticky-violations ${r.stickinessViolations} sessions/s ${r.sessionsPerSecond}${store} proxy-cpu ${r.proxy.cpuPercent}% ${extra}`;
}

async function main(): Promise<void> {
  const o = parseLoadArgs(process.argv.slice(2));
  if (o === 'help') {
    process.stdout.write(`${LOAD_HELP}\n`);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'mcp-load-'));
  const group = new ProcessGroup(tmp);
  guardSignals(group);
  let failed = false;
  try {
    const reports = await runLoad(o, group);
    const files = writeReports(o.out, 'load', reports, { command: `npm run load -- ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), options: o });
    for (const r of reports) process.stdout.write(`${summaryLine(r)}\n`);
    process.stdout.write(`report: ${files.html}\n        ${files.json}\n`);
    failed = reports.some((r) => r.unexpectedErrors > 0 || r.stickinessViolations > 0);
  } catch (err) {
    process.stderr.write(`load: ${(err as Error).message}\n(process logs in ${tmp})\n`);
    await group.stopAll();
    process.exit(1);
  }
  await group.stopAll();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`load: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
