// `npm run bench -- [options]`: the comparison, in one run on one machine. The same fast backend and the same
// load go direct, through the gateway (Redis store), through HAProxy and through nginx. Each proxy is pinned
// to one core (--proxy-cpus, default 1) and everything else (wrk, the Node generator, backends,
// redis-server) to the other (--other-cpus, default 0). Per target: max throughput (wrk ramp), then latency
// at half of the GATEWAY's max throughput (open loop, same rate for every target). Prints ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ratios, printComparison, type TargetFigures } from './lib/compare.ts';
import { Entry, initializeBody, initializedBody, send } from './lib/mcp-wire.ts';
import { openLoop } from './lib/open-loop.ts';
import { guardSignals, ProcessGroup } from './lib/procs.ts';
import { runScenario } from './lib/run.ts';
import { REPO, startTopology, type Target, type Topology } from './lib/topology.ts';
import { maxThroughput, runWrk, wrkBinary } from './lib/wrk.ts';
import { runLoad, summaryLine, writeReports } from './load.ts';
import { steady } from './scenarios/steady.ts';

export const BENCH_HELP = `npm run bench -- [options]      gateway vs HAProxy vs nginx vs direct, one machine, ratios

  --repeat N          whole comparisons to run (default 1; report the spread of 3)
  --seconds S         seconds per wrk step and per latency run (default 5)
  --connections LIST  wrk ramp, connection counts (default 16,64)
  --backends N        fast backend replicas (default 1: direct then uses the same single backend)
  --proxy-cpus LIST   taskset CPUs of the proxy under test (default 1)
  --other-cpus LIST   taskset CPUs of wrk, the Node generator, backends, redis (default 0)
  --gateway-log-level the gateway's --log-level (default info)
  --no-stickiness     skip the strict-backend stickiness check
  --out DIR           results directory (default bench/results)
  --help              this text`;

const TARGETS: Target[] = ['direct', 'gateway', 'haproxy', 'nginx'];

async function sessionsThrough(url: string, n: number): Promise<{ entry: Entry; sids: string[] }> {
  const entry = new Entry('latency', url, null);
  const sids: string[] = [];
  for (let i = 0; i < n; i++) {
    const init = await send(entry, 'POST', initializeBody());
    if (init.status !== 200 || !init.sessionId) throw new Error(`initialize through ${url} answered ${init.status}`);
    await send(entry, 'POST', initializedBody(), { sid: init.sessionId });
    sids.push(init.sessionId);
  }
  return { entry, sids };
}

async function compareOnce(topo: Topology, o: { seconds: number; connections: number[]; otherCpus: string }): Promise<TargetFigures[]> {
  const figures: TargetFigures[] = [];
  for (const target of TARGETS) {
    const url = topo.entries(target)[0] as string;
    const pids = topo.proxyProcs(target).map((p) => p.pid);
    process.stderr.write(`max throughput (wrk) -> ${target}\n`);
    const { best, steps } = await maxThroughput(url, o.connections, o.seconds, pids, o.otherCpus);
    // New sessions per second: the same script told to want more sessions than it can ever make, so that
    // every request is an initialize (the gateway binds each in Redis).
    process.stderr.write(`new sessions per second (wrk, initialize only) -> ${target}\n`);
    const sessions = await runWrk(url, 32, o.seconds, 1_000_000_000, pids, o.otherCpus);
    figures.push({ target, max: best, ramp: steps, sessions, latency: undefined });
  }
  const rate = Math.max(50, Math.round((figures.find((f) => f.target === 'gateway')?.max.rps ?? 0) / 2));
  for (const f of figures) {
    process.stderr.write(`latency at ${rate} req/s (open loop) -> ${f.target}\n`);
    const { entry, sids } = await sessionsThrough(topo.entries(f.target)[0] as string, 64);
    try {
      f.latency = await openLoop(entry, sids, rate, o.seconds);
    } finally {
      await entry.close();
    }
  }
  return figures;
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      repeat: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '16,64' },
      backends: { type: 'string', default: '1' },
      'proxy-cpus': { type: 'string', default: '1' },
      'other-cpus': { type: 'string', default: '0' },
      'gateway-log-level': { type: 'string', default: 'info' },
      'no-stickiness': { type: 'boolean', default: false },
      out: { type: 'string', default: join(REPO, 'bench/results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(`${BENCH_HELP}\n`);
    return;
  }
  wrkBinary();
  const seconds = Math.min(60, Math.max(1, Number(v.seconds)));
  const connections = v.connections.split(',').map(Number);
  const tmp = mkdtempSync(join(tmpdir(), 'mcp-bench-'));
  const group = new ProcessGroup(tmp);
  guardSignals(group);
  const cpus = { proxyCpus: v['proxy-cpus'], otherCpus: v['other-cpus'] };
  const runs: Array<{ figures: TargetFigures[]; ratios: ReturnType<typeof ratios>; nodeGeneratorDirectRps: number }> = [];
  try {
    for (let i = 0; i < Number(v.repeat); i++) {
      const topo = await startTopology(group, {
        backend: 'fast',
        backends: Number(v.backends),
        gateways: 1,
        targets: ['gateway', 'haproxy', 'nginx'],
        gatewayArgs: [],
        gatewayLogLevel: v['gateway-log-level'],
        ...cpus,
      });
      try {
        const figures = await compareOnce(topo, { seconds, connections, otherCpus: cpus.otherCpus });
        // Is a Node generator fast enough? The same closed loop against the same backend, for comparison with wrk.
        const node = await runScenario(topo, 'direct', steady, { sessions: 64, durationMs: seconds * 1000, maxRequests: 1_000_000, streams: 0, holdMs: 0, quiet: true }, 'fast');
        const r = ratios(figures);
        runs.push({ figures, ratios: r, nodeGeneratorDirectRps: node.throughput });
        printComparison(i + 1, figures, r, node.throughput);
      } finally {
        await group.stopAll();
      }
    }
    const stickiness = v['no-stickiness']
      ? []
      : await runLoad(
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
            gatewayLogLevel: v['gateway-log-level'],
            gatewayArgs: [],
            gatewayNodeFlags: [],
            ...cpus,
            cpuProf: false,
            out: v.out,
            quiet: true,
          },
          group,
        );
    if (stickiness.length) {
      process.stdout.write('\nstickiness with a strict backend (2 replicas that 404 sessions they did not mint), Node steady 3 s:\n');
      for (const s of stickiness) process.stdout.write(`  ${summaryLine(s)}\n    errors by kind ${JSON.stringify(s.errorsByKind)}\n`);
    }
    const files = writeReports(v.out, 'bench', stickiness, { command: `npm run bench -- ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), runs });
    process.stdout.write(`\nreport: ${files.json}\n        ${files.html}\n`);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n(process logs in ${tmp})\n`);
    await group.stopAll();
    process.exit(1);
  }
  await group.stopAll();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
