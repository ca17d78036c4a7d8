// The one shutdown path (DESIGN.md: every long-lived resource has an idempotent close(), all awaited from one
// place). Two halves: the drain (readiness off, listening streams ended, requests in flight given until the
// shutdown timeout) and the release of resources. Each release step settles on its own: one that fails is
// logged and the rest still run, so a failing tracing exporter never leaves Redis connections or backend pools
// open. The same release runs when start-up fails half way (a port in use), so the process holds nothing.
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.ts';

export interface ReleaseStep {
  /** For the log line when it fails. */
  name: string;
  close(): unknown;
}

/** Runs every step in order, each settled on its own; returns the names of those that failed (logged). */
export async function releaseAll(steps: readonly ReleaseStep[], log: Logger): Promise<string[]> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      await step.close();
    } catch (err) {
      failed.push(step.name);
      log.error({ err, step: step.name }, 'shutdown step failed; the others still run');
    }
  }
  return failed;
}

export interface GracefulShutdown {
  log: Logger;
  lifecycle: Lifecycle;
  /** The MCP listener (Fastify): drained first. */
  app: { close(): PromiseLike<unknown>; server: { closeAllConnections(): void } };
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  /** Everything else, in order; the admin listener last (metrics and probes answer until the end). */
  release: readonly ReleaseStep[];
}

/**
 * The gateway's close(): idempotent. Resolves once everything is released; rejects (after every step ran)
 * when a step failed, so that the process exits non-zero.
 */
export function gracefulShutdown(g: GracefulShutdown): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= run(g));
}

async function run({ log, lifecycle, app, drainDelayMs, shutdownTimeoutMs, release }: GracefulShutdown): Promise<void> {
  lifecycle.phase = 'draining';
  log.info({ drainDelayMs }, 'shutting down: not ready any more');
  if (drainDelayMs > 0) await new Promise((r) => setTimeout(r, drainDelayMs));
  lifecycle.phase = 'stopping';
  const appClosed = app.close();
  // Listening streams end now (clients reconnect to another replica and resume); requests, including
  // those answered on a stream, may finish until the shutdown timeout.
  const streams = lifecycle.closeStreams('listen');
  const idle = await lifecycle.waitIdle(shutdownTimeoutMs);
  if (!idle) {
    log.warn({ inFlight: lifecycle.inFlight }, 'shutdown timeout: ending what is still in flight');
    lifecycle.closeStreams();
    await lifecycle.waitIdle(1000);
  }
  app.server.closeAllConnections();
  const failed = await releaseAll([{ name: 'mcp listener', close: () => appClosed }, ...release], log);
  lifecycle.phase = 'stopped';
  log.info({ streamsEnded: streams, ...(failed.length > 0 ? { failed } : {}) }, 'shut down');
  if (failed.length > 0) throw new Error(`shutdown steps failed: ${failed.join(', ')}`);
}
