// Every process a load run starts goes through one ProcessGroup, which stops them all: at the end of the
// run, on failure, and on Ctrl-C / SIGTERM (installed by `guardSignals`). Output goes to a log file per
// process in the run's temp dir (reading a busy gateway's log lines would cost the load generator's core).
// Processes may be pinned to CPUs with `taskset` so that a proxy and the load generator do not share a core.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Resident set size in KiB (VmRSS), 0 once gone. */
  rssKb(): number;
  /** User + system CPU time consumed so far by the process and its live descendants, in ms. */
  cpuMs(): number;
}

export interface SpawnOptions {
  /** CPU list for taskset (e.g. "0"); absent = no pinning. */
  cpus?: string | undefined;
  env?: Record<string, string>;
  cwd?: string;
}

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s

export function rssKbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** The pids of a process and of all its descendants (a gateway with --workers forks its workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (children) out.push(...children.split(' ').map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU time of a process and its live descendants, ms (a worker that exits takes its share with it). */
export function treeCpuMsOf(pid: number): number {
  return processTree(pid).reduce((a, p) => a + cpuMsOf(p), 0);
}

export class ProcessGroup {
  readonly #dir: string;
  readonly #procs = new Set<{ child: ChildProcess; proc: Proc }>();

  constructor(logDir: string) {
    this.#dir = logDir;
    process.on('exit', () => {
      for (const { child } of this.#procs) child.kill('SIGKILL');
    });
  }

  get logDir(): string {
    return this.#dir;
  }

  spawn(name: string, command: string, args: string[], opts: SpawnOptions = {}): Proc {
    const logFile = join(this.#dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const [cmd, argv] = opts.cpus !== undefined ? ['taskset', ['-c', opts.cpus, command, ...args]] : [command, args];
    const child = spawn(cmd, argv, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const pid = child.pid;
    let exited = false;
    const exit = once(child, 'exit').then(() => {
      exited = true;
    });
    const entry = {
      child,
      proc: {
        name,
        pid,
        logFile,
        get exited() {
          return exited;
        },
        stop: async (graceMs = 5000) => {
          if (exited) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exit;
          clearTimeout(t);
        },
        kill: async () => {
          if (exited) return;
          child.kill('SIGKILL');
          await exit;
        },
        rssKb: () => (exited ? 0 : rssKbOf(pid)),
        cpuMs: () => (exited ? 0 : treeCpuMsOf(pid)),
      } satisfies Proc,
    };
    this.#procs.add(entry);
    void exit.then(() => this.#procs.delete(entry));
    return entry.proc;
  }

  /** Stops every process still running, the most recently started first (gateways before backends). */
  async stopAll(graceMs = 5000): Promise<void> {
    const all = [...this.#procs].reverse().map((e) => e.proc);
    await Promise.allSettled(all.map((p) => p.stop(graceMs)));
  }
}

/** Resolves once a TCP connection to 127.0.0.1:`port` succeeds; fails with the log's tail otherwise. */
export async function waitForPort(port: number, proc: Proc, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited) throw new Error(`${proc.name} exited before listening; log:\n${tail(proc.logFile)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} did not listen on ${port} within ${timeoutMs} ms; log:\n${tail(proc.logFile)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once GET `url` answers 200. */
export async function waitForHttp(url: string, proc: Proc, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited) throw new Error(`${proc.name} exited before it was ready; log:\n${tail(proc.logFile)}`);
    const ok = await fetch(url).then(
      (r) => r.body?.cancel().then(() => r.status === 200) ?? r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready at ${url} within ${timeoutMs} ms; log:\n${tail(proc.logFile)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Ctrl-C and SIGTERM stop every process of the group before this process exits (130 / 143); a second
 * signal exits at once (the 'exit' hook still SIGKILLs what is left).
 */
export function guardSignals(group: ProcessGroup, onStop?: () => void): void {
  let stopping = false;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(code);
      stopping = true;
      onStop?.();
      process.stderr.write(`\n${signal}: stopping every process of the run…\n`);
      void group.stopAll(2000).finally(() => process.exit(code));
    });
  }
}
