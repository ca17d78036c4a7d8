// Paired A/B of gateway builds (issue 17): is build B cheaper per request than build A? One floor proxy and
// P processes of each build run side by side, every proxy pinned to the same core (--proxy-cpus) and wrk,
// the fast backend and redis-server to the other (--other-cpus), as in `npm run bench`. Each process is
// warmed, then gets --seconds of wrk in turn, every round forwards then backwards, --rounds times. A process's
// figure is the median over rounds of its requests per CPU-second over the floor's in the same round; builds
// are compared process against process (bench/lib/ab-summary.ts). Why: processes of one build differ by up to
// ~10% on this VM, more than most single changes, so one process per build (or fresh ones per round, as
// `npm run bench` has) cannot tell a 3% step from noise (README "Figures").
//   node bench/ab.ts --ref main --ref HEAD            two commits, 3 processes each, SSE answers
//   node bench/ab.ts --main /tmp/a/gateway/src/main.js --main dist/gateway/src/main.js --kind json
// A --ref is exported with `git archive` into .cache/ab/<commit>/ and built there with this checkout's
// node_modules (a commit whose dependencies differ from the checkout's is not measured as it would run).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startOrder, summarizeAb, type AbSummary } from './lib/ab-summary.ts';
import { guardSignals, ProcessGroup } from './lib/procs.ts';
import { REPO, startBackendProc, startFloorProc, startGatewayProc, startRedisProc } from './lib/topology.ts';
import { runWrk } from './lib/wrk.ts';

export const AB_HELP = `node bench/ab.ts [options]      paired A/B of gateway builds, in requests per CPU-second over the floor's
  --ref REF           a commit to build and measure (repeatable; the first is the baseline)
  --main PATH         a built gateway's main.js to measure (repeatable; after the --ref builds)
  --processes N       processes per build (default 3)
  --kind KIND         sse (default) or json: how the fast backend answers
  --rounds N          rounds of wrk per process (default 6)
  --seconds S         seconds of wrk per process and round (default 4)
  --warmup S          unmeasured wrk seconds per process first (default 20)
  --gateway-arg ARG   extra gateway flag for every build (repeatable)
  --proxy-cpus LIST   taskset CPUs of the proxies (default 1)
  --other-cpus LIST   taskset CPUs of wrk, the backend and redis-server (default 0)
  --out DIR           where the JSON result goes (default bench/results)
Every build runs with the Redis store, --log-level info and metrics on, as in npm run bench.`;

const CONNECTIONS = 32;
const SESSIONS = 32;

export interface AbOptions {
  refs: string[];
  mains: string[];
  processes: number;
  kind: 'sse' | 'json';
  rounds: number;
  seconds: number;
  warmup: number;
  gatewayArgs: string[];
  proxyCpus: string;
  otherCpus: string;
  out: string;
}

export function parseAbArgs(argv: string[]): AbOptions | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      ref: { type: 'string', multiple: true, default: [] },
      main: { type: 'string', multiple: true, default: [] },
      processes: { type: 'string', default: '3' },
      kind: { type: 'string', default: 'sse' },
      rounds: { type: 'string', default: '6' },
      seconds: { type: 'string', default: '4' },
      warmup: { type: 'string', default: '20' },
      'gateway-arg': { type: 'string', multiple: true, default: [] },
      'proxy-cpus': { type: 'string', default: '1' },
      'other-cpus': { type: 'string', default: '0' },
      out: { type: 'string', default: join(REPO, 'bench/results') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return 'help';
  const count = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${value}`);
    return n;
  };
  if (v.kind !== 'sse' && v.kind !== 'json') throw new Error(`--kind must be sse or json, got ${v.kind}`);
  if (v.ref.length + v.main.length === 0) throw new Error('name at least one build: --ref REF or --main PATH (see --help)');
  return {
    refs: v.ref,
    mains: v.main,
    processes: count('processes', v.processes, 1),
    kind: v.kind,
    rounds: count('rounds', v.rounds, 1),
    seconds: count('seconds', v.seconds, 1),
    warmup: count('warmup', v.warmup, 0),
    gatewayArgs: v['gateway-arg'],
    proxyCpus: v['proxy-cpus'],
    otherCpus: v['other-cpus'],
    out: v.out,
  };
}

/** The built main.js of a commit: exported and built once into .cache/ab/<commit>/. */
export function buildRef(ref: string): string {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO, encoding: 'utf8' }).trim();
  const dir = join(REPO, '.cache/ab', sha.slice(0, 12));
  const main = join(dir, 'dist/gateway/src/main.js');
  if (existsSync(main)) return main;
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', sha, 'gateway/src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'], { cwd: REPO, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (!existsSync(main)) throw new Error(`building ${ref} (${sha}) made no ${main}`);
  return main;
}

export async function runAb(o: AbOptions, group: ProcessGroup, say: (line: string) => void = () => undefined): Promise<AbSummary & { floorPerCpu: number[] }> {
  const builds = [...o.refs.map((ref) => ({ name: ref, main: buildRef(ref) })), ...o.mains.map((main) => ({ name: main, main }))];
  const names = builds.map((b) => b.name);
  if (new Set(names).size !== names.length) throw new Error(`a build is named twice: ${names.join(', ')}`);
  const redis = await startRedisProc(group, o.otherCpus);
  const backend = await startBackendProc(group, o.kind === 'sse' ? 'fast-sse' : 'fast', 'a', o.otherCpus);
  const floor = await startFloorProc(group, [backend.url], o.proxyCpus);
  const targets = [{ name: 'floor', build: 'floor', url: floor.url, pid: floor.proc.pid }];
  let i = 0;
  for (const name of startOrder(names, o.processes)) {
    const build = builds.find((b) => b.name === name) as (typeof builds)[number];
    const g = await startGatewayProc(group, `gw${i++}`, [backend.url], redis.url, { main: build.main, gatewayArgs: o.gatewayArgs, gatewayLogLevel: 'info', proxyCpus: o.proxyCpus });
    targets.push({ name: g.name, build: name, url: g.url, pid: g.proc.pid });
  }
  say(`warming ${targets.length} proxies, ${o.warmup} s each`);
  for (const t of targets) if (o.warmup > 0) await runWrk(t.url, { connections: CONNECTIONS, seconds: o.warmup, sessions: SESSIONS, proxyPids: [t.pid], cpus: o.otherCpus });
  const perCpu = new Map(targets.map((t) => [t.name, [] as number[]]));
  for (let r = 0; r < o.rounds; r++) {
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const w = await runWrk(t.url, { connections: CONNECTIONS, seconds: o.seconds, sessions: SESSIONS, proxyPids: [t.pid], cpus: o.otherCpus });
      if (w.errors > 0 || w.non200 > 0) throw new Error(`${t.name} (${t.build}): ${w.errors} socket errors, ${w.non200} non-200 answers in round ${r + 1}`);
      perCpu.get(t.name)?.push(w.requestsPerProxyCpuSecond);
    }
    say(`round ${r + 1}/${o.rounds} done`);
  }
  const floorPerCpu = perCpu.get('floor') as number[];
  const summary = summarizeAb(
    floorPerCpu,
    targets.slice(1).map((t) => ({ build: t.build, perCpu: perCpu.get(t.name) as number[] })),
  );
  return { ...summary, floorPerCpu };
}

export function formatAb(s: AbSummary & { floorPerCpu: number[] }): string {
  const lines = [`floor: ${s.floorPerCpu.join(' ')} requests per CPU-second by round`];
  s.processes.forEach((p, i) => lines.push(`gw${i} ${p.build}: ${p.ofFloor} of the floor (rounds ${p.perRound.join(' ')})`));
  for (const b of s.builds) lines.push(`build ${b.build}: mean ${b.meanOfFloor} of the floor over ${b.processes} processes (${b.minOfFloor}-${b.maxOfFloor})`);
  for (const c of s.comparisons) lines.push(`${c.build} / ${s.builds[0]?.build}: ${c.ratio}; ahead in ${c.wins} of ${c.pairs} process pairs`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = parseAbArgs(process.argv.slice(2));
  if (o === 'help') {
    process.stdout.write(`${AB_HELP}\n`);
    process.exit(0);
  }
  const group = new ProcessGroup(mkdtempSync(join(tmpdir(), 'bench-ab-')));
  guardSignals(group);
  try {
    const result = await runAb(o, group, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${formatAb(result)}\n`);
    mkdirSync(o.out, { recursive: true });
    const file = join(o.out, `ab-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ command: `node bench/ab.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), cpus: availableParallelism(), node: process.version, options: o, ...result }, null, 2)}\n`);
    process.stdout.write(`written: ${file}\n`);
  } finally {
    await group.stopAll();
  }
  process.exit(0);
}
