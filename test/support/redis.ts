// A real redis-server per test suite, on an ephemeral loopback port, with no persistence.
import { execFileSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { spawnService, type Service } from './process.ts';

export function requireBinary(name: string, howToGet: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: ${howToGet}`);
  }
}

// Ports this process handed out lately. The kernel may give the same ephemeral port to two bind(0) calls
// in a row once the first listener is closed, and callers often ask for two ports (say --port and
// --admin-port) before either is bound by the process they start: remembering the recent ones keeps the
// answers distinct within one test process.
const recentlyHandedOut: number[] = [];
const RECENT_LIMIT = 512;

function listenOnce(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A free TCP port on 127.0.0.1 (bound then released; fine for processes started right after), never one
 *  this process handed out recently. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce();
    if (recentlyHandedOut.includes(port)) continue;
    recentlyHandedOut.push(port);
    if (recentlyHandedOut.length > RECENT_LIMIT) recentlyHandedOut.shift();
    return port;
  }
  throw new Error('freePort: the kernel kept handing out ports this process already gave away');
}

export interface RedisServer {
  port: number;
  url: string;
  /** Stops the server; its data is gone (no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  readonly running: boolean;
}

export async function startRedis(): Promise<RedisServer> {
  const bin = requireBinary('redis-server', 'install it with `apt-get install -y redis-server` (or run .ci/run, which does)');
  const port = await freePort();
  let svc: Service | undefined;
  const start = async () => {
    svc = await spawnService(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {});
    // redis-server logs as text; poll with a connection attempt instead.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.end();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`redis-server did not start on ${port}:\n${svc.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return svc !== undefined && !svc.exited;
    },
    async stop() {
      await svc?.kill();
    },
    start,
  };
}
