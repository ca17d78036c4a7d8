// `npm run bench -- [options]`: the comparison, in one run on one machine. The same fast backend and the same
// load go direct, through the floor proxy (bench/floor-proxy.ts), the gateway (Redis store), HAProxy and
// nginx, once with JSON answers and once with SSE answers (as SDK servers give). Each proxy is pinned
// to one core (--proxy-cpus, default 1) and everything else (wrk, the Node generator, backends,
// redis-server) to the other (--other-cpus, default 0). Every target is warmed up, then their max throughput
// is measured in slices taken in turn (wrk), then latency at half of the GATEWAY's max throughput (open loop,
// same rate for every target). Prints ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assertAuthEnforced, BENCH_AUTH_MODES, startBenchAuth, type BenchAuth, type BenchAuthMode } from './lib/bench-auth.ts';
import { ratios, printComparison, type TargetFigures } from './lib/compare.ts';
import { summarizeKind, type AnswerKind, type KindRound } from './lib/median.ts';
import { Entry, initializeBody, initializedBody, send } from './lib/mcp-wire.ts';
import { openLoop } from './lib/open-loop.ts';
import { guardSignals, ProcessGroup } from './lib/procs.ts';
import { proxyStartOrder, REPO, startTopology, type BackendKind, type Target, type Topology } from './lib/topology.ts';
import { combineSlices } from './lib/slices.ts';
import { runWrk, wrkBinary, type WrkResult } from './lib/wrk.ts';
import { runLoad, summaryLine } from './load.ts';
import { summaryText, writeBenchReports } from './report/bench-report.ts';

export const BENCH_HELP = `npm run bench -- [options]      gateway vs the floor, HAProxy, nginx and direct; JSON and SSE answers; ratios

  --rounds N          interleaved rounds (default 3): each round measures every target for each answer kind,
                      and the summary is the median over rounds
  --kinds LIST        answer kinds: json (the fast backend answers JSON), sse (one-event SSE streams, as the
                      SDK servers answer by default) (default json,sse)
  --targets LIST      direct,floor,floor-buffered,gateway,haproxy,nginx (default all; gateway is always
                      measured); floor-buffered: the floor reading each request body whole before sending
                      it on, as the gateway does (the issue's floor streams it)
  --seconds S         seconds per wrk slice and per latency run (default 5)
  --slices N          max throughput is measured in N slices of --seconds per target (default 3), taken in
                      turn with the other targets' once all are warm (forwards, then backwards), and summed
  --warmup S          unmeasured wrk seconds before each Node target's measurement (direct, floor, gateway;
                      default 20; 0 = none): they keep getting faster for 20-25 s of load while V8 optimizes
                      their hot path, so a short warm-up compares them before they settle; HAProxy and nginx
                      get at most 5 s (they need none)
  --processes N       processes of each Node proxy (floor, floor-buffered, gateway) per round (default 1,
                      at most 8), each warmed and measured alone in its turn; a target's figure sums its
                      processes' requests, seconds and CPU. Two processes of the same Node proxy differ
                      by ±11% per round on this kind of VM; N processes cut that by about sqrt(N)
  --connections LIST  wrk ramp, connection counts (default 32)
  --backends N        fast backend replicas (default 1: direct then uses the same single backend)
  --proxy-cpus LIST   taskset CPUs of the proxy under test (default 1)
  --other-cpus LIST   taskset CPUs of wrk, the Node generator, backends, redis (default 0)
  --gateway-log-level the gateway's --log-level (default info)
  --gateway-arg ARG   extra gateway flag (repeatable), e.g. --gateway-arg=--workers=2
  --auth MODE         none (default) or jwt: the gateway checks a bearer JWT (ES256, JWKS on loopback) that
                      every request of every target carries; one token, so the gateway verifies it once and
                      then answers from its verified-token cache; per-principal limits off unless a
                      --gateway-arg sets them (the stickiness check stays auth-free)
  --new-sessions      also measure new sessions per second (initialize only) per target
  --no-stickiness     skip the strict-backend stickiness check
  --out DIR           results directory (default bench/results)
  --help              this text`;

const ALL_TARGETS: Target[] = ['direct', 'floor', 'floor-buffered', 'gateway', 'haproxy', 'nginx'];
/** Proxies in C: warm at once; a few seconds of load only fill their connection pools. */
const NATIVE_TARGETS: ReadonlySet<Target> = new Set(['haproxy', 'nginx']);
const NATIVE_WARMUP_S = 5;
const BACKEND_OF: Record<AnswerKind, BackendKind> = { json: 'fast', sse: 'fast-sse' };

/**
 * The order the round's proxies start in: the Node proxies (the gateway and the floors) rotated by `turn`,
 * then HAProxy and nginx. In bench/ab.ts runs a Node process started later served more per CPU-second (six
 * processes of one build: the last three 5% and 16% ahead of the first three); the gateway used to start
 * first in every round, before the floor it is measured against.
 */
export function rotatedStartOrder(targets: readonly Target[], turn: number): Target[] {
  const node = NODE_PROXIES.filter((t) => targets.includes(t));
  const shift = node.length === 0 ? 0 : turn % node.length;
  return proxyStartOrder(targets, [...node.slice(shift), ...node.slice(0, shift)]);
}
const NODE_PROXIES: readonly Target[] = ['gateway', 'floor', 'floor-buffered'];

async function sessionsThrough(url: string, n: number, authorization: string | undefined): Promise<{ entry: Entry; sids: string[] }> {
  const entry = new Entry('latency', url, null, authorization);
  const sids: string[] = [];
  for (let i = 0; i < n; i++) {
    const init = await send(entry, 'POST', initializeBody());
    if (init.status !== 200 || !init.sessionId) throw new Error(`initialize through ${url} answered ${init.status}`);
    await send(entry, 'POST', initializedBody(), { sid: init.sessionId });
    sids.push(init.sessionId);
  }
  return { entry, sids };
}

interface CompareOptions {
  seconds: number;
  connections: number[];
  otherCpus: string;
  targets: Target[];
  newSessions: boolean;
  warmup: number;
  /** Max-throughput slices per target and connection count, taken in turn with the other targets'. */
  slices: number;
  /** `Bearer …` for every request (--auth jwt). */
  authorization: string | undefined;
}

async function compareOnce(topo: Topology, o: CompareOptions): Promise<TargetFigures[]> {
  // One entry per process of the target (--processes), each measured alone, with its own CPU; direct has one.
  const instances = (target: Target) => {
    const urls = topo.entries(target);
    const procs = topo.proxyProcs(target);
    return procs.length === 0 ? [{ url: urls[0] as string, pids: [] as number[] }] : procs.map((p, i) => ({ url: urls[i] as string, pids: [p.pid] }));
  };
  for (const target of o.targets) {
    // Unmeasured warm-up, long for the Node targets: measured per 5 s from their start (2026-12-02, JSON
    // answers), the floor went 3,566 -> 4,442 -> 4,807 -> 5,045 -> 5,317 requests per CPU-second and the
    // gateway 3,077 -> 3,392 -> 3,319 -> 4,508 -> 4,390; after 5 s the floor was often still in its slow
    // phase and sometimes not, which made gateway/floor jump between rounds (README "Figures").
    const warmup = NATIVE_TARGETS.has(target) ? Math.min(o.warmup, NATIVE_WARMUP_S) : o.warmup;
    for (const { url, pids } of instances(target)) {
      process.stderr.write(`warm-up (wrk, ${warmup} s) -> ${target} ${url}\n`);
      if (warmup > 0) await runWrk(url, { connections: o.connections[0] ?? 32, seconds: warmup, sessions: 32, proxyPids: pids, cpus: o.otherCpus, authorization: o.authorization });
    }
  }
  // Max throughput: every target warm, then measured in slices taken in turn (forwards, then backwards, …),
  // so that the gateway and the floor are measured seconds apart, not a minute apart: single runs on this
  // kind of shared VM vary by a third from one half-minute to the next (README "Figures"). A target's
  // processes each get a slice in its turn; their slices add up to the target's figure.
  const slices = new Map<Target, WrkResult[][]>(o.targets.map((t) => [t, o.connections.map(() => [])]));
  // The same slices per process (by URL), for the report's per-process figures.
  const byProcess = new Map<string, WrkResult[][]>();
  for (const [step, c] of o.connections.entries()) {
    for (let s = 0; s < o.slices; s++) {
      for (const target of s % 2 === 0 ? o.targets : [...o.targets].reverse()) {
        for (const { url, pids } of instances(target)) {
          process.stderr.write(`max throughput (wrk, ${c} connections, slice ${s + 1}/${o.slices}) -> ${target} ${url}\n`);
          const slice = await runWrk(url, { connections: c, seconds: o.seconds, sessions: Math.min(c, 64), proxyPids: pids, cpus: o.otherCpus, authorization: o.authorization });
          slices.get(target)?.[step]?.push(slice);
          if (!byProcess.has(url)) byProcess.set(url, o.connections.map(() => []));
          byProcess.get(url)?.[step]?.push(slice);
        }
      }
    }
  }
  const where = (target: Target) => instances(target)[0] as { url: string; pids: number[] };
  const figures: TargetFigures[] = [];
  for (const target of o.targets) {
    const steps = (slices.get(target) ?? []).map(combineSlices);
    const best = steps.reduce((a, b) => (b.rps > a.rps ? b : a));
    const bestStep = steps.indexOf(best);
    const mine = instances(target);
    const processes =
      mine.length > 1
        ? mine.map(({ url }) => {
            const r = combineSlices(byProcess.get(url)?.[bestStep] ?? []);
            return { url, rps: r.rps, requestsPerProxyCpuSecond: r.requestsPerProxyCpuSecond };
          })
        : undefined;
    // New sessions per second: the same script told to want more sessions than it can ever make, so that
    // every request is an initialize (the gateway binds each in Redis).
    const { url, pids } = where(target);
    const sessions = o.newSessions ? await runWrk(url, { connections: 32, seconds: o.seconds, sessions: 1_000_000_000, proxyPids: pids, cpus: o.otherCpus, authorization: o.authorization }) : undefined;
    figures.push({ target, max: best, ramp: steps, sessions, latency: undefined, ...(processes ? { processes } : {}) });
  }
  const rate = Math.max(50, Math.round((figures.find((f) => f.target === 'gateway')?.max.rps ?? 0) / 2));
  for (const f of figures) {
    process.stderr.write(`latency at ${rate} req/s (open loop) -> ${f.target}\n`);
    const { entry, sids } = await sessionsThrough(topo.entries(f.target)[0] as string, 64, o.authorization);
    try {
      // One unmeasured second at the same rate first: a fresh generator pool opens its connections as requests
      // pile up, and a stall of the generator itself (it shares CPU 0 with the backend) opened up to 2,000 at
      // once; the target measured then paid for that storm (one round: +75 ms at p50, +2.8 s at p99, SSE).
      await openLoop(entry, sids, rate, 1);
      f.latency = await openLoop(entry, sids, rate, o.seconds);
    } finally {
      await entry.close();
    }
  }
  return figures;
}

export function parseBenchArgs(argv: string[]) {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      kinds: { type: 'string', default: 'json,sse' },
      targets: { type: 'string', default: ALL_TARGETS.join(',') },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '20' },
      slices: { type: 'string', default: '3' },
      processes: { type: 'string', default: '1' },
      connections: { type: 'string', default: '32' },
      backends: { type: 'string', default: '1' },
      'proxy-cpus': { type: 'string', default: '1' },
      'other-cpus': { type: 'string', default: '0' },
      'gateway-log-level': { type: 'string', default: 'info' },
      'gateway-arg': { type: 'string', multiple: true, default: [] },
      auth: { type: 'string', default: 'none' },
      'new-sessions': { type: 'boolean', default: false },
      'no-stickiness': { type: 'boolean', default: false },
      out: { type: 'string', default: join(REPO, 'bench/results') },
      help: { type: 'boolean', default: false },
    },
  });
  const kinds = v.kinds.split(',').filter(Boolean) as AnswerKind[];
  for (const k of kinds) if (!(k in BACKEND_OF)) throw new UsageError(`--kinds: '${k}' is not one of json, sse`);
  if (!(BENCH_AUTH_MODES as readonly string[]).includes(v.auth)) throw new UsageError(`--auth: '${v.auth}' is not one of ${BENCH_AUTH_MODES.join(', ')}`);
  const targets = v.targets.split(',').filter(Boolean) as Target[];
  for (const t of targets) if (!ALL_TARGETS.includes(t)) throw new UsageError(`--targets: '${t}' is not one of ${ALL_TARGETS.join(', ')}`);
  return {
    help: v.help,
    rounds: wholeNumber('rounds', v.rounds, 1, 100),
    kinds,
    // In the order of ALL_TARGETS, the gateway always among them (every ratio is the gateway's).
    targets: ALL_TARGETS.filter((t) => t === 'gateway' || targets.includes(t)),
    seconds: wholeNumber('seconds', v.seconds, 1, 60),
    warmup: wholeNumber('warmup', v.warmup, 0, 120),
    slices: wholeNumber('slices', v.slices, 1, 20),
    processes: wholeNumber('processes', v.processes, 1, 8),
    connections: v.connections.split(',').map((c) => wholeNumber('connections', c, 1, 10_000)),
    backends: wholeNumber('backends', v.backends, 1, 16),
    proxyCpus: v['proxy-cpus'],
    otherCpus: v['other-cpus'],
    gatewayLogLevel: v['gateway-log-level'],
    gatewayArgs: v['gateway-arg'],
    auth: v.auth as BenchAuthMode,
    newSessions: v['new-sessions'],
    stickiness: !v['no-stickiness'],
    out: v.out,
  };
}

/** A bad flag value: reported as its message alone. */
class UsageError extends Error {}

/** A whole number within [min, max], or an error naming the flag (a typo must not become a NaN-second run). */
function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag}: expected a whole number from ${min} to ${max}, got '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const o = parseBenchArgs(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(`${BENCH_HELP}\n`);
    return;
  }
  wrkBinary();
  const tmp = mkdtempSync(join(tmpdir(), 'mcp-bench-'));
  const group = new ProcessGroup(tmp);
  guardSignals(group);
  const cpus = { proxyCpus: o.proxyCpus, otherCpus: o.otherCpus };
  const rounds: KindRound[] = [];
  let auth: BenchAuth | undefined;
  try {
    if (o.auth === 'jwt') {
      auth = await startBenchAuth();
      process.stdout.write('gateway auth: jwt (one ES256 token on every request of every target; verified once, then cached)\n');
    }
    // Interleaved: round 1 json then sse, round 2 json then sse, … so that a slow minute of the shared
    // machine lands on both kinds and every target, not on one of them.
    for (let round = 1; round <= o.rounds; round++) {
      for (const [k, kind] of o.kinds.entries()) {
        const startOrder = rotatedStartOrder(o.targets, round - 1 + k);
        process.stderr.write(`round ${round}, ${kind} answers: proxies start in the order ${startOrder.join(', ')}\n`);
        const topo = await startTopology(group, {
          startOrder,
          backend: BACKEND_OF[kind],
          backends: o.backends,
          gateways: o.processes,
          floorProcesses: o.processes,
          targets: o.targets.filter((t) => t !== 'direct'),
          gatewayArgs: [...(auth?.gatewayArgs ?? []), ...o.gatewayArgs],
          gatewayLogLevel: o.gatewayLogLevel,
          ...cpus,
        });
        try {
          if (auth) await assertAuthEnforced(topo.entries('gateway')[0] as string);
          const figures = await compareOnce(topo, { seconds: o.seconds, connections: o.connections, otherCpus: o.otherCpus, targets: o.targets, newSessions: o.newSessions, warmup: o.warmup, slices: o.slices, authorization: auth?.authorization });
          const r = ratios(figures);
          rounds.push({ kind, round, startOrder, figures, ratios: r });
          printComparison(`round ${round}, ${kind} answers (started: ${startOrder.join(', ')})`, figures, r, 0);
        } finally {
          await group.stopAll();
        }
      }
    }
    const summaries = o.kinds.map((k) => summarizeKind(k, rounds));
    process.stdout.write(`\n${summaryText(summaries)}\n`);
    const stickiness = o.stickiness
      ? await runLoad(
          {
            scenarios: ['steady'],
            targets: ['gateway', 'haproxy', 'nginx'],
            backend: 'fast-strict',
            backends: 2,
            gateways: 1,
            sessions: 16,
            durationMs: 3000,
            maxRequests: 50_000,
            streams: 0,
            holdMs: 0,
            gatewayLogLevel: o.gatewayLogLevel,
            gatewayArgs: o.gatewayArgs,
            gatewayNodeFlags: [],
            ...cpus,
            cpuProf: false,
            out: o.out,
            quiet: true,
          },
          group,
        )
      : [];
    if (stickiness.length) {
      process.stdout.write('\nstickiness with a strict backend (2 replicas that 404 sessions they did not mint), Node steady 3 s:\n');
      for (const s of stickiness) process.stdout.write(`  ${summaryLine(s)}\n    errors by kind ${JSON.stringify(s.errorsByKind)}\n`);
    }
    const meta = { command: `npm run bench -- ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), cpus: availableParallelism(), node: process.version, processesPerNodeProxy: o.processes };
    const files = writeBenchReports(o.out, { meta, summaries, rounds, stickiness });
    process.stdout.write(`\nreport: ${files.json}\n        ${files.html}\n`);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n(process logs in ${tmp})\n`);
    await group.stopAll();
    await auth?.close();
    process.exit(1);
  }
  await group.stopAll();
  await auth?.close();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    // A usage error is one line saying what to fix; anything else keeps its stack.
    const usage = err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`${usage ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  });
}
