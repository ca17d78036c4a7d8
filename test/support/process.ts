// Child processes for tests: started with the repo's pinned Node, their output collected line by line,
// ready when a JSON line matches, and always stopped (at the end of the test, or when the runner exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Service {
  readonly proc: ChildProcess;
  readonly lines: string[];
  /** JSON lines of stdout (pino logs, ready lines). */
  json(): Array<Record<string, unknown>>;
  /** Resolves with the first JSON line matching, waiting up to `timeoutMs`. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<number | null>;
  readonly exited: boolean;
}

const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of alive) p.kill('SIGKILL');
});

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  ready?: (line: Record<string, unknown>) => boolean;
  readyTimeoutMs?: number;
  cwd?: string;
}

export async function spawnService(command: string, args: string[], opts: SpawnOptions = {}): Promise<Service> {
  const proc = spawn(command, args, {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(proc);
  const lines: string[] = [];
  const parsed: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let exited = false;
  const exit = once(proc, 'exit').then(([code]) => {
    exited = true;
    alive.delete(proc);
    return code as number | null;
  });
  const onLine = (line: string) => {
    lines.push(line);
    if (!line.startsWith('{')) return;
    try {
      const obj = JSON.parse(line) as Record<string, unknown>;
      parsed.push(obj);
      for (const w of [...waiters]) {
        if (w.match(obj)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(obj);
        }
      }
    } catch {
      // not JSON
    }
  };
  createInterface({ input: proc.stdout! }).on('line', onLine);
  createInterface({ input: proc.stderr! }).on('line', (l) => lines.push(`[stderr] ${l}`));

  const service: Service = {
    proc,
    lines,
    json: () => parsed,
    get exited() {
      return exited;
    },
    waitFor(match, timeoutMs = 15_000) {
      const found = parsed.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${command} ${args.join(' ')}; output:\n${lines.slice(-30).join('\n')}`));
        }, timeoutMs);
        exit.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${command} ${args.join(' ')} exited (${code}) before it was ready; output:\n${lines.slice(-30).join('\n')}`));
        });
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    async stop(graceMs = 10_000) {
      if (exited) return exit;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (exited) return exit;
      proc.kill('SIGKILL');
      return exit;
    },
  };
  if (opts.ready) await service.waitFor(opts.ready, opts.readyTimeoutMs ?? 20_000);
  return service;
}
