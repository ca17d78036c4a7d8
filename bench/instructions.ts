// Instructions per proxied request, counted by valgrind's callgrind, for the floor proxy (as the issue
// defines it: bodies streamed), the floor with request bodies buffered, and the gateway, side by side
// (issue 17). Small tools/call POSTs on 32 sessions, JSON or SSE answers from the fast backend, the gateway
// with the Redis store and info-level access logging, as in `npm run bench`.
//
// Why: on a shared VM, CPU time per request moves by a third between half-minutes, and two processes of the
// same build differ by 6-8% for the whole of a run; the instructions a request takes move far less (the
// floor: 243.7k and 243.4k in two runs). Instructions are not time: cache misses, and the kernel's side of
// each syscall, are not in them. This complements `npm run bench`; it does not replace it.
// Biased against the gateway: under valgrind a process runs 50-100x slower while its timers keep wall-clock
// time, so periodic work (the gateway's Redis heartbeat and backend health checks) weighs that much more.
// --top N starts the targets with --perf-basic-prof (to name JIT code), which makes V8 report every object
// its scavenger moves (Heap::OnMoveEvent): ~6.6k instructions per request more for the floor, whose requests
// leave much garbage. Compare counts from runs without --top.
//   node bench/instructions.ts [options]   (the options: USAGE below, or --help)
// Needs valgrind (scripts/system-deps.sh instructions). Takes about 1.5 minutes per target and run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { annotate, totalsOf } from './lib/callgrind.ts';
import { guardSignals, ProcessGroup, waitForHttp, waitForPort, type Proc } from './lib/procs.ts';
import { GATEWAY_MAIN, REPO, requireBuiltGateway, startBackendProc, startRedisProc } from './lib/topology.ts';
import { freePort, requireBinary } from '../test/support/redis.ts';

const USAGE = `usage: node bench/instructions.ts [options]   instructions per proxied request under callgrind (valgrind)
  --kind sse|json|both      answer kinds (default both)
  --targets LIST            floor,floor-buffered,gateway (default all three)
  --warm N                  requests before counting (default 20000)
  --measure N               requests counted (default 5000)
  --runs N                  runs per target; the report gives the least count (default 2)
  --top N                   also list the N functions with the most instructions (names JIT code; see above)
  --gateway-arg=--flag      extra gateway flag (repeatable)
  --gateway-node-flag=F     extra Node or V8 flag for the gateway process (repeatable; NODE_OPTIONS refuses most V8 flags)
  --out DIR                 results directory (default bench/results)
  --help                    this text`;

// An unknown or malformed option is answered with the usage text, not a stack trace.
const { values } = (() => {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', default: false },
        kind: { type: 'string', default: 'both' },
        targets: { type: 'string', default: 'floor,floor-buffered,gateway' },
        warm: { type: 'string', default: '20000' },
        measure: { type: 'string', default: '5000' },
        runs: { type: 'string', default: '2' },
        top: { type: 'string', default: '0' },
        'gateway-arg': { type: 'string', multiple: true, default: [] },
        'gateway-node-flag': { type: 'string', multiple: true, default: [] },
        out: { type: 'string', default: join(REPO, 'bench/results') },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const kinds = values.kind === 'both' ? (['json', 'sse'] as const) : values.kind === 'json' || values.kind === 'sse' ? [values.kind] : usage(`--kind ${values.kind}`);
const TARGETS = ['floor', 'floor-buffered', 'gateway'] as const;
type Target = (typeof TARGETS)[number];
const targets = values.targets.split(',').map((t) => (TARGETS.includes(t as Target) ? (t as Target) : usage(`--targets: ${t}`)));
const [warm, measure, runs, top] = [values.warm, values.measure, values.runs, values.top].map((v) => {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : usage(`not a count: ${v}`);
}) as [number, number, number, number];
if (measure === 0 || runs === 0) usage('--measure and --runs must be at least 1');
function usage(why: string): never {
  process.stderr.write(`${why}\n${USAGE}\n`);
  process.exit(2);
}

requireBinary('valgrind', 'install it with `scripts/system-deps.sh instructions` (apt-get install -y valgrind)');
requireBinary('callgrind_control', 'it comes with valgrind: `scripts/system-deps.sh instructions`');
if (targets.includes('gateway')) requireBuiltGateway();
const dir = mkdtempSync(join(tmpdir(), 'mcp-instructions-'));
const group = new ProcessGroup(dir);
guardSignals(group);
const SESSIONS = 32;
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"instructions","version":"1"}}}';
const CALL = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}';

/** Starts a target under callgrind (collection off until asked), on CPU 1; its URL once it serves. */
async function startTarget(target: Target, backend: string, redis: string, run: number): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const node = [process.execPath, ...(top > 0 ? ['--perf-basic-prof'] : [])];
  const vg = ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${dir}/${target}-${run}.%p`];
  const name = `${target}-${run}`;
  // In the scratch directory: --perf-basic-prof also leaves an isolate-*-v8.log in the working directory.
  if (target === 'gateway') {
    const admin = await freePort();
    const args = [...vg, ...node, ...values['gateway-node-flag'], GATEWAY_MAIN, '--host', '127.0.0.1', '--port', String(port), '--admin-host', '127.0.0.1', '--admin-port', String(admin), '--backends', backend, '--redis-url', redis, '--log-level', 'info', ...values['gateway-arg']];
    const proc = group.spawn(name, 'valgrind', args, { cpus: '1', cwd: dir, env: { WORKERS: '1' } });
    await waitForHttp(`http://127.0.0.1:${admin}/readyz`, proc, 300_000);
    return { proc, url: `http://127.0.0.1:${port}` };
  }
  const floorArgs = ['--port', String(port), '--backends', backend, ...(target === 'floor-buffered' ? ['--buffer-request-bodies'] : [])];
  const proc = group.spawn(name, 'valgrind', [...vg, ...node, `${REPO}bench/floor-proxy.ts`, ...floorArgs], { cpus: '1', cwd: dir });
  await waitForPort(port, proc, 300_000);
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** `n` tools/call requests over the sessions, one in flight per session; throws on any answer but 200. */
async function send(pool: Pool, sessions: readonly string[], n: number): Promise<void> {
  let sent = 0;
  await Promise.all(
    sessions.map(async (sid) => {
      while (sent++ < n) {
        const r = await pool.request({ path: '/mcp', method: 'POST', headers: { ...HEADERS, 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': sid }, body: CALL });
        await r.body.text();
        if (r.statusCode !== 200) throw new Error(`tools/call answered ${r.statusCode}`);
      }
    }),
  );
}

async function measureOne(target: Target, backend: string, redis: string, run: number): Promise<{ perRequest: number; top?: [string, number][] }> {
  const { proc, url } = await startTarget(target, backend, redis, run);
  const pool = new Pool(url, { connections: SESSIONS, pipelining: 1 });
  try {
    const sessions: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const r = await pool.request({ path: '/mcp', method: 'POST', headers: HEADERS, body: INIT });
      await r.body.text();
      const sid = r.headers['mcp-session-id'];
      if (r.statusCode !== 200 || typeof sid !== 'string') throw new Error(`${target}: initialize answered ${r.statusCode}`);
      sessions.push(sid);
    }
    // Warm-up at valgrind's pace until V8 has optimized the hot path, then count `measure` requests only.
    await send(pool, sessions, warm);
    execFileSync('callgrind_control', ['--instr=on', String(proc.pid)], { stdio: 'ignore' });
    await send(pool, sessions, measure);
    execFileSync('callgrind_control', ['--instr=off', String(proc.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--dump', String(proc.pid)], { stdio: 'ignore' });
  } finally {
    await pool.close();
    await proc.stop(10_000);
  }
  // The dump asked for above is "<prefix>.<pid>.1"; the one at exit ("<prefix>.<pid>") counted nothing more.
  const file = readdirSync(dir).find((f) => f === `${target}-${run}.${proc.pid}.1`);
  if (!file) throw new Error(`${target}: callgrind wrote no dump (see ${proc.logFile})`);
  const perRequest = totalsOf(readFileSync(join(dir, file), 'utf8')) / measure;
  if (top === 0 || run !== runs - 1) return { perRequest };
  const self = [...annotate(join(dir, file), `/tmp/perf-${proc.pid}.map`, false)].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { perRequest, top: self.map(([fn, ir]) => [fn, Math.round(ir / measure)]) };
}

const report: Record<string, Record<string, { runs: number[]; min: number; top?: [string, number][] }>> = {};
try {
  const redis = await startRedisProc(group, '0');
  for (const kind of kinds) {
    const backend = await startBackendProc(group, kind === 'sse' ? 'fast-sse' : 'fast', kind, '0');
    const rows: (typeof report)[string] = {};
    for (let run = 0; run < runs; run++) {
      for (const target of targets) {
        const r = await measureOne(target, backend.url, redis.url, run);
        const row = (rows[target] ??= { runs: [], min: Number.POSITIVE_INFINITY });
        row.runs.push(Math.round(r.perRequest));
        row.min = Math.min(row.min, Math.round(r.perRequest));
        if (r.top) row.top = r.top;
        process.stderr.write(`${kind} ${target} run ${run + 1}/${runs}: ${Math.round(r.perRequest)} instructions per request\n`);
      }
    }
    report[kind] = rows;
    await backend.proc.stop();
  }
} finally {
  await group.stopAll(2000);
}

// Fewest instructions of the runs: what is left when periodic work and JIT compiles happen to fall outside
// the counted window. Ratios as in `npm run bench` (higher is better for the gateway): floor / gateway.
const lines = ['| answers | target | instructions per request (min) | runs | floor / this | floor-buffered / this |', '|---|---|---|---|---|---|'];
for (const [kind, rows] of Object.entries(report)) {
  for (const [target, row] of Object.entries(rows)) {
    const ratio = (base: string) => (rows[base] ? (rows[base].min / row.min).toFixed(2) : '-');
    lines.push(`| ${kind.toUpperCase()} | ${target} | ${row.min.toLocaleString('en-US')} | ${row.runs.map((n) => n.toLocaleString('en-US')).join(', ')} | ${ratio('floor')} | ${ratio('floor-buffered')} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
for (const [kind, rows] of Object.entries(report)) {
  for (const [target, row] of Object.entries(rows)) {
    if (!row.top) continue;
    process.stdout.write(`\n${kind} ${target}: instructions per request by function (self), top ${top}\n`);
    for (const [fn, ir] of row.top) process.stdout.write(`${String(ir).padStart(9)}  ${fn.slice(0, 140)}\n`);
  }
}
mkdirSync(values.out, { recursive: true });
const file = join(values.out, `instructions-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ warm, measure, runs, gatewayArgs: values['gateway-arg'], gatewayNodeFlags: values['gateway-node-flag'], report }, null, 2)}\n`);
process.stderr.write(`written: ${file}\n`);
process.exit(0);
