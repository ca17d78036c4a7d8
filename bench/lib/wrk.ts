// Max throughput with wrk (C, epoll; Debian's package), driven by bench/wrk/mcp.lua: sessions are
// initialized by the script itself and then loaded with small tools/call requests. wrk is closed loop: its
// latency figures are at saturation; the latency comparison at a fixed rate is open-loop.ts.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireBinary } from '../../test/support/redis.ts';
import { treeCpuMsOf } from './procs.ts';

const SCRIPT = fileURLToPath(new URL('../wrk/mcp.lua', import.meta.url));

export interface WrkResult {
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  non200: number;
  status404: number;
  /** CPU the proxy processes used during the run: ms, % of one core, and requests per proxy CPU-second. */
  proxyCpuMs: number;
  proxyCpuPercent: number;
  requestsPerProxyCpuSecond: number;
}

export function wrkBinary(): string {
  return requireBinary('wrk', 'install it with `scripts/system-deps.sh bench` (apt-get install -y wrk)');
}

export interface WrkRun {
  connections: number;
  seconds: number;
  /** Sessions the script initializes and then spreads its tools/call requests over. */
  sessions: number;
  /** The proxy processes whose CPU the run is measured against (none: direct). */
  proxyPids: readonly number[];
  /** taskset CPU list for wrk itself. */
  cpus?: string | undefined;
  /** `Bearer …`, sent with every request. */
  authorization?: string | undefined;
}

/** One wrk run (1 thread) against `url`. */
export function runWrk(url: string, run: WrkRun): Promise<WrkResult> {
  const { connections, seconds, sessions, proxyPids, cpus, authorization } = run;
  const wrk = wrkBinary();
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', SCRIPT, url, '--', String(sessions), ...(authorization ? [authorization] : [])];
  const [cmd, argv] = cpus !== undefined ? ['taskset', ['-c', cpus, wrk, ...args]] : [wrk, args];
  const cpuBefore = proxyPids.reduce((a, p) => a + treeCpuMsOf(p), 0);
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: (seconds + 20) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stdout}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (!line) return reject(new Error(`wrk printed no WRK_JSON line:\n${stdout}\n${stderr}`));
      const j = JSON.parse(line.slice(9)) as Record<string, number>;
      const secs = (j.duration_us as number) / 1e6;
      const cpuMs = proxyPids.reduce((a, p) => a + treeCpuMsOf(p), 0) - cpuBefore;
      const ms = (us: number | undefined) => Math.round((us ?? 0) / 10) / 100;
      const requests = j.requests as number;
      resolve({
        connections,
        seconds: Math.round(secs * 100) / 100,
        requests,
        rps: Math.round(requests / secs),
        p50Ms: ms(j.p50_us),
        p90Ms: ms(j.p90_us),
        p99Ms: ms(j.p99_us),
        maxMs: ms(j.max_us),
        errors: (j.connect_errors ?? 0) + (j.read_errors ?? 0) + (j.write_errors ?? 0) + (j.timeouts ?? 0),
        non200: j.non200 ?? 0,
        status404: j.status404 ?? 0,
        proxyCpuMs: cpuMs,
        proxyCpuPercent: Math.round((cpuMs / (secs * 1000)) * 1000) / 10,
        requestsPerProxyCpuSecond: cpuMs > 0 ? Math.round(requests / (cpuMs / 1000)) : 0,
      });
    });
  });
}
