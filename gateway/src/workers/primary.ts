// The primary of `--workers N`: forks N workers of this same command (node:cluster), keeps N alive (a worker
// that dies is forked again, with a backoff while it keeps dying young), serves the admin port for all of
// them (admin.ts), and stops them all on shutdown. It serves no MCP traffic itself.
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/options.ts';
import { startWorkersAdmin, type LiveWorker } from './admin.ts';
import { isMessage, WORKER_PORT_ENV, type ReadyMessage } from './messages.ts';
import { REUSE_PORT } from './worker.ts';

export interface RunningPrimary {
  mcpPort: number;
  adminPort: number;
  /** Stops every worker (each shuts down gracefully), then the admin listener; idempotent. */
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
/** A worker that dies within this of its start is crash-looping: its replacement waits longer each time. */
const YOUNG_MS = 10_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

export async function runPrimary(config: GatewayConfig, workers: number, logger: Logger): Promise<RunningPrimary> {
  const log = logger.child({ role: 'primary' });
  const live = new Map<number, LiveWorker>();
  let port = config.port;
  let stopping = false;
  let restartDelay = RESTART_MIN_MS;

  const fork = (): Worker => {
    const worker = cluster.fork({ [WORKER_PORT_ENV]: String(port) });
    const startedAt = Date.now();
    worker.on('message', (m: unknown) => {
      if (isMessage<ReadyMessage>(m, 'mcp-gateway:ready')) live.set(worker.id, { worker, pid: worker.process.pid ?? 0, adminPort: m.adminPort, startedAt });
    });
    worker.once('exit', (code, signal) => {
      live.delete(worker.id);
      if (stopping) return;
      restartDelay = Date.now() - startedAt < YOUNG_MS ? Math.min(RESTART_MAX_MS, restartDelay * 2) : RESTART_MIN_MS;
      log.error({ worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: restartDelay }, 'worker exited: starting another');
      setTimeout(() => {
        if (!stopping) fork();
      }, restartDelay).unref();
    });
    return worker;
  };

  const ready = (worker: Worker) =>
    new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${worker.id} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`worker ${worker.id} exited (code ${code}) before it was listening; see its log lines above`));
      };
      worker.once('exit', onExit);
      worker.on('message', (m: unknown) => {
        if (!isMessage<ReadyMessage>(m, 'mcp-gateway:ready')) return;
        clearTimeout(timer);
        worker.off('exit', onExit);
        resolve(m);
      });
    });

  const stopAll = async () => {
    stopping = true;
    const graceMs = config.drainDelayMs + config.shutdownTimeoutMs + 5000;
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(async (w) => {
        if (!w || w.isDead()) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        // SIGTERM: the worker's own graceful shutdown (drain, in-flight requests, store), as in one process.
        w.process.kill('SIGTERM');
        const kill = setTimeout(() => w.process.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(kill);
      }),
    );
  };

  // The first worker binds the port (an ephemeral one when --port 0); the others then share that port.
  try {
    const first = await ready(fork());
    port = first.mcpPort;
    await Promise.all(Array.from({ length: workers - 1 }, () => ready(fork())));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const admin = await startWorkersAdmin(live, { host: config.adminHost, port: config.adminPort, isStopping: () => stopping }, log);
  const adminPort = (admin.address() as AddressInfo).port;
  log.info({ mcpPort: port, adminPort, mcpPath: config.mcpPath, workers, sharing: REUSE_PORT ? 'reuseport' : 'cluster' }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info({ workers: live.size }, 'shutting down: stopping every worker');
      await stopAll();
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      admin.closeAllConnections();
      log.info('shut down');
    })());
  return { mcpPort: port, adminPort, close };
}
