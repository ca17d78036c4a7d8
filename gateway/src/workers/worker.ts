// One worker of `--workers N`: a whole gateway (its own store connections, caches, health checks) whose MCP
// listener shares the port with its siblings, and whose admin listener is on loopback, port 0, for the
// primary only (the primary serves the admin port: gateway/src/workers/admin.ts).
import cluster from 'node:cluster';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from '../config/options.ts';
import { startGateway, type RunningGateway } from '../gateway.ts';
import { isMessage, WORKER_PORT_ENV, type MetricsRequest, type WorkerMessage } from './messages.ts';

/** SO_REUSEPORT: each worker its own accept queue (Linux spreads connections by hash), no handle passing. */
export const REUSE_PORT = process.platform === 'linux';

export async function runWorker(config: GatewayConfig, logger: Logger, version: string, logs: DestinationStream): Promise<RunningGateway> {
  const port = Number(process.env[WORKER_PORT_ENV] ?? config.port);
  const workerConfig: GatewayConfig = { ...config, port, adminHost: '127.0.0.1', adminPort: 0, listenReusePort: REUSE_PORT };
  const gateway = await startGateway(workerConfig, logger.child({ worker: cluster.worker?.id }), version, logs);
  const send = (m: WorkerMessage) => process.send?.(m);
  process.on('message', (m: unknown) => {
    if (!isMessage<MetricsRequest>(m, 'mcp-gateway:metrics?')) return;
    gateway.metrics.registry.getMetricsAsJSON().then(
      (metrics) => send({ type: 'mcp-gateway:metrics', id: m.id, metrics }),
      () => send({ type: 'mcp-gateway:metrics', id: m.id, metrics: [] }),
    );
  });
  send({ type: 'mcp-gateway:ready', mcpPort: gateway.mcpPort, adminPort: gateway.adminPort });
  return gateway;
}
