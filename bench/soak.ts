// `npm run soak -- [options]`: hours of life in minutes. Two gateway replicas on Redis in front of three
// strict backends (they answer 404 to a session they do not hold), a steady open-loop request rate with
// churn (sessions created, used, deleted; GET streams opened and closed), one backend restarted every few
// minutes, one backend stalled (SIGSTOP past the probe timeout, then SIGCONT: a long GC pause, CPU
// throttling) every few minutes, and Redis restarted once, empty. It reports the slope of each gateway's
// heap, RSS and file descriptors, errors by kind, and sessions lost: a session may see 404 only after its own
// backend restarted (then exactly once, and it re-initializes); any other 404, a stalled backend's included,
// is a lost session and fails the run (README "Reliability": a stall is suspicion, never proof of loss).
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, requireBinary } from '../test/support/redis.ts';
import { guardSignals, ProcessGroup, waitForPort, type Proc } from './lib/procs.ts';
import { Entry, initializeBody, initializedBody, send, toolCallBody } from './lib/mcp-wire.ts';
import { REPO, startBackendProc, startGatewayProc, type GatewayReplica, type Replica } from './lib/topology.ts';

const HELP = `npm run soak -- [options]     long run with churn and restarts; bounded; cleans up after itself
  --minutes N            run length (default 20)
  --rate R               requests per second, all clients together (default 200: about half of what
                         npm run bench measured for one gateway here; set it from your own bench run)
  --sessions K           live sessions at a time (default 60)
  --session-life N       requests a session makes before it is deleted and replaced (default 200)
  --streams S            GET streams kept open at a time, each held 1-10 s (default 20)
  --restart-every M      minutes between backend restarts (default 4)
  --stall-every M        minutes between backend stalls, the first at a quarter of the run (default 5)
  --stall-seconds S      how long a stalled backend stays SIGSTOPped (default 12: past the probe timeout,
                         well below --backend-lost-after)
  --out DIR              results directory (default bench/results)`;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    rate: { type: 'string', default: '200' },
    sessions: { type: 'string', default: '60' },
    'session-life': { type: 'string', default: '200' },
    streams: { type: 'string', default: '20' },
    'restart-every': { type: 'string', default: '4' },
    'stall-every': { type: 'string', default: '5' },
    'stall-seconds': { type: 'string', default: '12' },
    out: { type: 'string', default: join(REPO, 'bench/results') },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const num = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got '${v}'`);
  return n;
};
const runMs = num('minutes', values.minutes) * 60_000;
const rate = num('rate', values.rate);
const liveSessions = num('sessions', values.sessions);
const sessionLife = num('session-life', values['session-life']);
const streamCount = num('streams', values.streams);
const restartEveryMs = num('restart-every', values['restart-every']) * 60_000;
const stallEveryMs = num('stall-every', values['stall-every']) * 60_000;
const stallMs = num('stall-seconds', values['stall-seconds']) * 1000;

interface Session {
  sid: string;
  home: string | undefined;
  used: number;
  /** When it last succeeded (or was created): a 404 is expected only if its backend restarted since. */
  okAt: number;
  /** Deleted by this client: a request that raced the DELETE may see 404. */
  deleted: boolean;
}

const errors = new Map<string, number>();
/** When each backend was last restarted. */
const restartedAt = new Map<string, number>();
const startedAt = Date.now();
const count = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1);
let requests = 0;
let lost = 0;
let expected404 = 0;
let created = 0;
let deleted = 0;

const group = new ProcessGroup(mkdtempSync(join(tmpdir(), 'mcp-soak-')));
guardSignals(group);

async function main(): Promise<void> {
  const redisBin = requireBinary('redis-server', 'scripts/system-deps.sh bench');
  const redisPort = await freePort();
  const startRedis = async () => {
    const p = group.spawn('redis', redisBin, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await waitForPort(redisPort, p);
    return p;
  };
  let redis: Proc = await startRedis();
  const backends: Replica[] = [];
  for (const name of ['a', 'b', 'c']) backends.push(await startBackendProc(group, 'fast-strict', name));
  const urls = backends.map((b) => b.url);
  const gateways: GatewayReplica[] = [];
  for (let i = 0; i < 2; i++) {
    gateways.push(await startGatewayProc(group, `gateway-${i + 1}`, urls, `redis://127.0.0.1:${redisPort}`, { gatewayArgs: [], gatewayLogLevel: process.env.SOAK_GATEWAY_LOG_LEVEL ?? 'warn' }));
  }
  const entries = gateways.map((g, i) => new Entry(`gateway-${i + 1}`, g.url, null));
  let turn = 0;
  const entry = () => entries[turn++ % entries.length] as Entry;

  const open = async (): Promise<Session | undefined> => {
    const r = await send(entry(), 'POST', initializeBody());
    requests++;
    if (r.status !== 200 || !r.sessionId) return void count(`initialize ${r.status || r.networkError}`);
    await send(entry(), 'POST', initializedBody(), { sid: r.sessionId });
    requests++;
    created++;
    return { sid: r.sessionId, home: r.replica, used: 0, okAt: Date.now(), deleted: false };
  };
  const pool: Session[] = [];
  while (pool.length < liveSessions) {
    const s = await open();
    if (s) pool.push(s);
  }

  // Samples of each gateway's heap, RSS and open file descriptors.
  const samples: Array<{ t: number; gw: number; heap: number; rssKb: number; fds: number }> = [];
  const sample = async () => {
    for (const [i, g] of gateways.entries()) {
      const text = await fetch(`${g.adminUrl}/metrics`).then((r) => r.text(), () => '');
      const heap = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
      let fds = NaN;
      try {
        fds = readdirSync(`/proc/${g.proc.pid}/fd`).length;
      } catch {
        // gone
      }
      samples.push({ t: Date.now(), gw: i, heap, rssKb: g.proc.rssKb(), fds });
    }
  };

  const started = Date.now();
  const end = started + runMs;
  const timers: NodeJS.Timeout[] = [];
  timers.push(setInterval(() => void sample(), 10_000));
  let restarts = 0;
  const restartBackend = async () => {
    const victim = backends[restarts % backends.length] as Replica;
    restarts++;
    restartedAt.set(victim.name, Date.now());
    await victim.proc.kill();
    const port = Number(new URL(victim.url).port);
    const proc = group.spawn(`backend-${victim.name}-${restarts}`, process.execPath, [`${REPO}bench/fast-backend.ts`, '--port', String(port), '--name', victim.name, '--strict']);
    await waitForPort(port, proc);
    victim.proc = proc;
  };
  timers.push(setInterval(() => void restartBackend(), restartEveryMs));
  // Stalls: the backend after the next one to restart, so that no restart lands on a stopped process.
  let stalls = 0;
  const stallBackend = async () => {
    const victim = backends[(restarts + 1 + stalls) % backends.length] as Replica;
    stalls++;
    const pid = victim.proc.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, Math.min(stallMs, Math.max(0, end - Date.now()))));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  };
  timers.push(
    setTimeout(() => {
      void stallBackend();
      timers.push(setInterval(() => void stallBackend(), stallEveryMs));
    }, runMs / 4),
  );
  let redisRestarted = false;
  timers.push(
    setTimeout(async () => {
      await redis.kill();
      redis = await startRedis();
      redisRestarted = true;
    }, runMs / 2),
  );

  // Streams: each held 1-10 s on a random session, then closed.
  const streamLoop = async () => {
    while (Date.now() < end) {
      const s = pool[Math.floor(Math.random() * pool.length)];
      if (!s) continue;
      const ac = new AbortController();
      const hold = 1000 + Math.random() * 9000;
      const e = entry();
      try {
        const res = await fetch(e.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': s.sid, 'mcp-protocol-version': '2025-11-25' }, signal: ac.signal });
        if (res.status !== 200 && res.status !== 404) count(`stream ${res.status}`);
        setTimeout(() => ac.abort(), hold);
        await res.text().catch(() => undefined);
      } catch {
        // aborted: the intended end of the stream
      }
    }
  };

  // Requests: open loop at `rate`, each on a random session.
  const requestOne = async () => {
    const i = Math.floor(Math.random() * pool.length);
    const s = pool[i];
    if (!s) return;
    const sentAt = Date.now();
    const r = await send(entry(), 'POST', toolCallBody('whoami'), { sid: s.sid });
    requests++;
    if (r.status === 200) {
      // When it was sent, not answered: a restart between the two may already have ended the session.
      s.okAt = Math.max(s.okAt, sentAt);
      s.home ??= r.replica;
      if (r.replica && s.home !== r.replica) count('stickiness violation');
      if (++s.used >= sessionLife) {
        pool[i] = (await open()) ?? s;
        if (pool[i] !== s && !s.deleted) {
          s.deleted = true;
          await send(entry(), 'DELETE', undefined, { sid: s.sid });
          deleted++;
        }
      }
      return;
    }
    if (r.status === 404) {
      if (s.deleted) return; // raced our own DELETE
      if ((restartedAt.get(s.home ?? '') ?? 0) >= s.okAt - 50) expected404++;
      else {
        lost++;
        process.stderr.write(`\n  lost session ${s.sid.slice(0, 12)}… (home ${s.home}, last ok ${Date.now() - s.okAt} ms ago, at ${new Date().toISOString()}, its backend restarted at ${(restartedAt.get(s.home ?? "") ?? startedAt) - startedAt} ms)\n`);
      }
      if (pool[i] === s) pool[i] = (await open()) ?? s;
      return;
    }
    count(r.networkError ? `network ${r.networkError}` : `status ${r.status}`);
  };
  const interval = 1000 / rate;
  const inflight = new Set<Promise<void>>();
  const streams = Array.from({ length: streamCount }, () => streamLoop());
  let next = performance.now();
  while (Date.now() < end) {
    next += interval;
    const p = requestOne().catch(() => {
      count('client error');
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inflight.size > 5000) await Promise.race(inflight); // the gateway fell far behind: do not pile up
    const elapsed = Date.now() - started;
    if (process.stderr.isTTY && requests % 500 === 0) {
      process.stderr.write(`\r  soak ${(elapsed / 60_000).toFixed(1)}/${(runMs / 60_000).toFixed(0)} min, ${requests} requests, ${lost} lost, ${restarts} backend restarts   `);
    }
  }
  for (const t of timers) clearInterval(t);
  await Promise.allSettled([...inflight, ...streams]);
  await sample();
  await Promise.all(entries.map((e) => e.close()));
  await group.stopAll();

  const report = summarize(samples, { started, restarts, stalls, redisRestarted });
  mkdirSync(values.out, { recursive: true });
  const file = join(values.out, `soak-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  process.stdout.write(`\n${JSON.stringify(report.summary, null, 2)}\nreport: ${file}\n`);
  process.exitCode = lost > 0 || report.summary.stickinessViolations > 0 ? 1 : 0;
}

/** Least-squares slope of y over minutes. */
function slopePerMinute(points: Array<[number, number]>): number {
  const pts = points.filter(([, y]) => Number.isFinite(y));
  if (pts.length < 2) return NaN;
  const n = pts.length;
  const mx = pts.reduce((a, [x]) => a + x, 0) / n;
  const my = pts.reduce((a, [, y]) => a + y, 0) / n;
  const num = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function summarize(
  samples: Array<{ t: number; gw: number; heap: number; rssKb: number; fds: number }>,
  run: { started: number; restarts: number; stalls: number; redisRestarted: boolean },
) {
  // Slopes over the second half only: the first half includes warm-up (caches, JIT, pools filling).
  const half = run.started + runMs / 2;
  const perGateway = [0, 1].map((gw) => {
    const mine = samples.filter((s) => s.gw === gw && s.t >= half);
    const x = (s: { t: number }) => (s.t - run.started) / 60_000;
    return {
      gateway: gw + 1,
      heapKbPerMinute: +(slopePerMinute(mine.map((s) => [x(s), s.heap / 1024])) || 0).toFixed(1),
      rssKbPerMinute: +(slopePerMinute(mine.map((s) => [x(s), s.rssKb])) || 0).toFixed(1),
      fdsPerMinute: +(slopePerMinute(mine.map((s) => [x(s), s.fds])) || 0).toFixed(2),
      lastHeapMb: +((mine.at(-1)?.heap ?? NaN) / 1e6).toFixed(1),
      lastRssMb: +((mine.at(-1)?.rssKb ?? NaN) / 1024).toFixed(1),
      lastFds: mine.at(-1)?.fds ?? NaN,
    };
  });
  return {
    summary: {
      minutes: runMs / 60_000,
      ratePerSecond: rate,
      requests,
      sessionsCreated: created,
      sessionsDeleted: deleted,
      backendRestarts: run.restarts,
      backendStalls: run.stalls,
      stallSeconds: stallMs / 1000,
      redisRestartedEmpty: run.redisRestarted,
      sessionsLost: lost,
      expected404AfterOwnBackendRestart: expected404,
      stickinessViolations: errors.get('stickiness violation') ?? 0,
      errorsByKind: Object.fromEntries(errors),
      gateways: perGateway,
    },
    samples,
  };
}

main().catch(async (err: unknown) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
  await group.stopAll();
  process.exit(1);
});
