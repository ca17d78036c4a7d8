// Composition root: builds every part from the configuration, wires their events, starts the listeners,
// and owns the one shutdown path that closes everything in order.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildAdminApp } from './admin.ts';
import { buildApp } from './app.ts';
import { HealthChecker } from './backends/health.ts';
import { BackendRegistry } from './backends/registry.ts';
import { createDiscovery } from './backends/discovery.ts';
import type { GatewayConfig } from './config/options.ts';
import { Forwarder } from './http/forwarder.ts';
import { Lifecycle } from './lifecycle.ts';
import { maskUrl } from './logger.ts';
import { BoundedLabel } from './metrics/labels.ts';
import { createMetrics, type GatewayMetrics } from './metrics/metrics.ts';
import { Placement } from './routing/placement.ts';
import { SessionDirectory } from './routing/session-directory.ts';
import { StoreGuard } from './sessions/guard.ts';
import { MemorySessionStore } from './sessions/memory.ts';
import { RedisSessionStore } from './sessions/redis.ts';
import type { SessionStore } from './sessions/store.ts';

export interface RunningGateway {
  mcpPort: number;
  adminPort: number;
  instanceId: string;
  metrics: GatewayMetrics;
  lifecycle: Lifecycle;
  /** Graceful shutdown; idempotent. */
  close(): Promise<void>;
}

const PLACEMENT_REFRESH_MS = 1000;
const STORE_PING_MS = 2000;
/** Distinct tool names the `tool` metric label keeps before filing the rest under `other`. */
const TOOL_LABEL_LIMIT = 200;

export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const instanceId = randomUUID().slice(0, 8);
  const log = logger.child({ instance: instanceId });
  const metrics = createMetrics();
  const lifecycle = new Lifecycle();

  const store: SessionStore = config.redisUrl
    ? new RedisSessionStore({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, ttlMs: config.sessionTtlMs, instanceId, logger: log })
    : new MemorySessionStore({ ttlMs: config.sessionTtlMs, maxSessions: config.maxSessions });
  const storeGuard = new StoreGuard(metrics, config.storeTimeoutMs);
  const registry = new BackendRegistry({ connectTimeoutMs: config.upstreamConnectTimeoutMs, headersTimeoutMs: config.upstreamTimeoutMs }, log);
  const health = new HealthChecker(registry, { intervalMs: config.healthIntervalMs, timeoutMs: config.healthTimeoutMs }, log);
  const directory = new SessionDirectory(store, storeGuard, { ttlMs: config.sessionTtlMs, cacheSize: config.sessionCacheSize, instanceId }, log);
  const placement = new Placement(registry, store, storeGuard, PLACEMENT_REFRESH_MS, log);
  const forwarder = new Forwarder({ config, health, metrics, lifecycle });

  // Series start at 0 for backends new to this replica only: discovery reports changes often (every pod
  // state flip), and restarting a live backend's session gauge at 0 would show a false dip until the recount.
  const withSeries = new Set<string>();
  registry.on('changed', () => {
    for (const b of registry.list()) {
      if (!withSeries.has(b.id)) metrics.addBackend(b.id);
      withSeries.add(b.id);
      metrics.backendUp.set({ backend: b.id }, b.healthy ? 1 : 0);
    }
  });
  registry.on('up', (b) => metrics.backendUp.set({ backend: b.id }, 1));
  registry.on('lost', (b, reason) => {
    if (reason === 'removed') {
      metrics.removeBackend(b.id);
      withSeries.delete(b.id);
    } else metrics.backendUp.set({ backend: b.id }, 0);
    void directory.unbindBackend(b.id).then((n) => {
      metrics.sessionsLost.inc({ reason: reason === 'down' ? 'backend_down' : 'backend_removed' }, n);
      placement.noteUnbound(b.id, n);
      if (n > 0) log.warn({ backend: b.id, sessions: n, reason }, 'sessions of a lost backend unbound');
    });
  });

  const discovery = await createDiscovery(config, (specs) => registry.update(specs), log);
  try {
    await discovery.start();
  } catch (err) {
    await discovery.close();
    throw err;
  }
  await health.probeAll();
  health.start();

  const pingStore = () => storeGuard.run('ping', () => store.ping()).catch(() => undefined);
  await pingStore();
  const refreshCounts = async () => {
    await placement.refresh();
    for (const b of registry.list()) metrics.sessionsActive.set({ backend: b.id }, placement.counts.get(b.id) ?? 0);
  };
  await refreshCounts();
  const timers = [setInterval(() => void pingStore(), STORE_PING_MS), setInterval(() => void refreshCounts(), PLACEMENT_REFRESH_MS)];
  for (const t of timers) t.unref();

  const toolLabel = new BoundedLabel(TOOL_LABEL_LIMIT);
  const app = buildApp(config, { config, registry, directory, placement, forwarder, metrics, toolLabel, lifecycle, logger: log });
  const admin = buildAdminApp({ logger: log, lifecycle, registry, discovery, placement, store, storeGuard, metrics });
  await app.listen({ host: config.host, port: config.port });
  await admin.listen({ host: config.adminHost, port: config.adminPort });
  const mcpPort = (app.server.address() as AddressInfo).port;
  const adminPort = (admin.server.address() as AddressInfo).port;
  lifecycle.phase = 'ready';
  log.info(
    {
      mcpPort,
      adminPort,
      mcpPath: config.mcpPath,
      store: config.redisUrl ? maskUrl(config.redisUrl) : 'memory',
      discovery: config.discovery,
      backends: registry.list().map((b) => ({ id: b.id, healthy: b.healthy })),
    },
    'gateway listening',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      lifecycle.phase = 'draining';
      log.info({ drainDelayMs: config.drainDelayMs }, 'shutting down: not ready any more');
      if (config.drainDelayMs > 0) await new Promise((r) => setTimeout(r, config.drainDelayMs));
      lifecycle.phase = 'stopping';
      const appClosed = app.close();
      // Listening streams end now (clients reconnect to another replica and resume); requests, including
      // those answered on a stream, may finish until the shutdown timeout.
      const streams = lifecycle.closeStreams('listen');
      const idle = await lifecycle.waitIdle(config.shutdownTimeoutMs);
      if (!idle) {
        log.warn({ inFlight: lifecycle.inFlight }, 'shutdown timeout: ending what is still in flight');
        lifecycle.closeStreams();
        await lifecycle.waitIdle(1000);
      }
      app.server.closeAllConnections();
      await appClosed;
      for (const t of timers) clearInterval(t);
      await discovery.close();
      health.stop();
      await directory.close();
      await store.close();
      await registry.close();
      lifecycle.phase = 'stopped';
      log.info({ streamsEnded: streams }, 'shut down');
      await admin.close();
    })());

  return { mcpPort, adminPort, instanceId, metrics, lifecycle, close };
}
