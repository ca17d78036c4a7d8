// The `mcp-gateway` command: configuration -> gateway -> signals. Exit codes: 0 after a clean shutdown,
// 1 on a failure at runtime or start, 2 on invalid configuration.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from './config/load.ts';
import { helpText } from './config/help.ts';
import { startGateway } from './gateway.ts';
import { createLogDestination, createLogger } from './logger.ts';
import { defaultWorkerCount } from './workers/count.ts';
import { runPrimary } from './workers/primary.ts';
import { runWorker } from './workers/worker.ts';

/** The package version, from package.json above this file (src/ in a checkout, dist/ when built). */
function version(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'mcp-session-gateway') return pkg.version;
    } catch {
      // not there: try one level higher
    }
  }
  return 'unknown';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function main(argv: string[]): Promise<void> {
  let request;
  try {
    request = loadConfig(argv, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mcp-gateway: ${err.message}\n`);
    process.exit(2);
  }
  if (request.kind === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (request.kind === 'version') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  const config = request.config;
  const logs = createLogDestination();
  const logger = createLogger(config.logLevel, logs);
  // --workers: a worker (forked by the primary) runs a gateway; the primary runs none (gateway/src/workers/).
  const workers = config.workers ?? (config.redisUrl ? defaultWorkerCount() : 1);
  if (config.auth === 'none' && !isLoopback(config.host) && !cluster.isWorker) {
    logger.warn({ host: config.host }, 'MCP listener is not on loopback and auth is off (--auth none): anyone who can reach it can use every backend');
  }

  let gateway: { close(): Promise<void> };
  try {
    if (cluster.isWorker) gateway = await runWorker(config, logger, version(), logs);
    else if (workers > 1) gateway = await runPrimary(config, workers, logger);
    else gateway = await startGateway(config, logger, version(), logs);
  } catch (err) {
    logger.fatal({ err }, 'gateway failed to start');
    process.exit(1);
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received');
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  if (cluster.isWorker) {
    // Ctrl-C reaches the whole process group: the primary turns it into one SIGTERM per worker. A worker
    // whose primary is gone (its IPC channel closed) shuts down as on SIGTERM.
    process.on('SIGINT', () => undefined);
    process.on('disconnect', () => onSignal('SIGTERM'));
  } else process.on('SIGINT', onSignal);
}

// Run when executed directly (node gateway/src/main.ts, or the bin script), not when imported.
const entry = process.argv[1] ? new URL(`file://${process.argv[1]}`).href : '';
if (import.meta.url === entry || process.env.MCP_GATEWAY_MAIN === '1') {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`mcp-gateway: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
