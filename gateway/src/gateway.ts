// Composition root: builds every part from the configuration, wires their events, starts the listeners,
// and hands the resources to the one shutdown path (shutdown.ts), also when start-up fails half way.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import { buildAdminApp } from './admin.ts';
import { CounterRates } from './admin/counter-rates.ts';
import { ReplicaHeartbeats } from './admin/replica-heartbeat.ts';
import { statusPolicy } from './admin/status-policy.ts';
import { TrafficWindow } from './admin/traffic-window.ts';
import { buildApp } from './app.ts';
import { createAuthGuard } from './auth/create.ts';
import type { AuthGuard } from './auth/guard.ts';
import { HealthChecker } from './backends/health.ts';
import { BackendRegistry } from './backends/registry.ts';
import { createDiscovery, type Discovery } from './backends/discovery.ts';
import { restoreFastPrototypes } from './fast-prototypes.ts';
import type { GatewayConfig } from './config/options.ts';
import { AccessLog } from './http/access-log.ts';
import { Forwarder } from './http/forwarder.ts';
import { Quotas } from './http/quotas.ts';
import { Lifecycle } from './lifecycle.ts';
import { maskUrl } from './logger.ts';
import { createMetrics, type GatewayMetrics } from './metrics/metrics.ts';
import { ToolNames } from './metrics/tool-names.ts';
import { Placement } from './routing/placement.ts';
import { SessionDirectory } from './routing/session-directory.ts';
import { SessionRecovery } from './routing/session-recovery.ts';
import { ToolReplaySafety } from './routing/session-resume-policy.ts';
import { SessionResumer } from './routing/session-resume.ts';
import { StoreGuard } from './sessions/guard.ts';
import { MemorySessionStore } from './sessions/memory.ts';
import { RedisSessionStore } from './sessions/redis.ts';
import type { SessionStore } from './sessions/store.ts';
import { RequestTracing } from './tracing/tracing.ts';
import { gracefulShutdown, releaseAll, type ReleaseStep } from './shutdown.ts';

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
const STORE_CONNECT_WAIT_MS = 5000;
const RECOVERY_NEGATIVE_TTL_MS = 30_000;
const RECOVERY_MAX_IN_FLIGHT = 64;
/** Longest a session resume may take: its claim's lifetime and each backend round trip's bound. */
const RESUME_TIMEOUT_MS = 10_000;

/** `logs` is where the per-request lines go (the same destination as `logger`'s; stdout by default). */
export async function startGateway(config: GatewayConfig, logger: Logger, version = 'unknown', logs?: DestinationStream): Promise<RunningGateway> {
  const startedAt = Date.now();
  // Every import (ioredis among them) has run by now: undo what ioredis did to String.prototype (issue 17).
  restoreFastPrototypes();
  const instanceId = randomUUID().slice(0, 8);
  const log = logger.child({ instance: instanceId });
  const metrics = createMetrics();
  const lifecycle = new Lifecycle();

  const store: SessionStore = config.redisUrl
    ? new RedisSessionStore({
        url: config.redisUrl,
        connection: {
          mode: config.redisMode,
          username: config.redisUsername,
          password: config.redisPassword,
          sentinels: config.redisSentinels,
          sentinelMaster: config.redisSentinelMaster,
          tlsCaFile: config.redisTlsCaFile,
        },
        keyPrefix: config.redisKeyPrefix,
        commandTimeoutMs: config.storeTimeoutMs,
        ttlMs: config.sessionTtlMs,
        instanceId,
        logger: log,
      })
    : new MemorySessionStore({
        ttlMs: config.sessionTtlMs,
        maxSessions: config.maxSessions,
        onExpired: (n) => metrics.sessionsLost.inc({ reason: 'expired' }, n),
      });
  const storeGuard = new StoreGuard(metrics, config.storeTimeoutMs);
  storeGuard.onTimeout = () => store.resetConnection();
  const registry = new BackendRegistry({ connectTimeoutMs: config.upstreamConnectTimeoutMs, headersTimeoutMs: config.upstreamTimeoutMs }, log, {
    discoveryLagMs: discoveryLagMs(config),
  });
  const health = new HealthChecker(
    registry,
    {
      intervalMs: config.healthIntervalMs,
      timeoutMs: config.healthTimeoutMs,
      refusedGraceMs: config.backendRefusedGraceMs,
      lostAfterMs: config.backendLostAfterMs,
    },
    log,
  );
  const directory = new SessionDirectory(store, storeGuard, { ttlMs: config.sessionTtlMs, cacheSize: config.sessionCacheSize, instanceId }, log);
  const placement = new Placement(registry, store, storeGuard, PLACEMENT_REFRESH_MS, log);
  directory.onWriteBack = (n) => metrics.sessionWriteBacks.inc(n);
  directory.onWriteBackDropped = () => metrics.sessionWriteBacksDropped.inc();
  const recovery = config.sessionRecovery
    ? new SessionRecovery(
        registry,
        { timeoutMs: config.sessionRecoveryTimeoutMs, negativeTtlMs: RECOVERY_NEGATIVE_TTL_MS, maxInFlight: RECOVERY_MAX_IN_FLIGHT },
        (result) => metrics.sessionRecoveries.inc({ result }),
      )
    : undefined;
  const toolNames = new ToolNames(config.metricsToolLimit);
  const traffic = new TrafficWindow();
  // --session-resume reinitialize (issue 16): sessions of a lost backend go on elsewhere.
  const resumer =
    config.sessionResume === 'reinitialize'
      ? new SessionResumer(directory, placement, { timeoutMs: RESUME_TIMEOUT_MS }, (outcome) => metrics.sessionsResumed.inc({ outcome }))
      : undefined;
  const toolSafety = resumer ? new ToolReplaySafety() : undefined;
  const forwarder = new Forwarder({ config, health, metrics, lifecycle, toolNames, ...(toolSafety ? { onToolsList: (body: string) => toolSafety.learnFromToolsList(body) } : {}) });
  const tracing = new RequestTracing({
    enabled: config.tracing,
    endpoint: config.otlpEndpoint,
    sampleRatio: config.tracingSampleRatio,
    serviceName: config.serviceName,
    instanceId,
    version,
  });

  // Series start at 0 for backends new to this replica only: discovery reports changes often (every pod
  // state flip), and restarting a live backend's session gauge at 0 would show a false dip until the recount.
  const withSeries = new Set<string>();
  let discoveryChangedAt: number | null = null;
  registry.on('changed', () => {
    discoveryChangedAt = Date.now();
    for (const b of registry.list()) {
      if (!withSeries.has(b.id)) metrics.addBackend(b.id);
      withSeries.add(b.id);
      metrics.setBackendState(b.id, b.state);
    }
  });
  registry.on('ejected', (b, cause) => metrics.backendEjections.inc({ backend: b.id, cause }));
  // Only on proof (README "Reliability"): the backend left discovery, came back as another incarnation,
  // refused connections for the whole grace, or stayed ejected past the upper bound. Suspicion ejects and
  // keeps every session bound.
  registry.on('lost', (b, reason) => {
    if (reason === 'removed' || reason === 'incarnation') {
      traffic.forget(b.id);
      metrics.removeBackend(b.id);
      withSeries.delete(b.id);
    } else metrics.setBackendState(b.id, 'lost');
    // Only sessions bound before this moment: by the time this runs (or another replica runs it) the backend
    // may have restarted and taken new sessions.
    const lostAt = Date.now();
    // With --session-resume reinitialize the bindings stay: the next request of each session finds its
    // backend lost and resumes it elsewhere (http/session-resume-routes.ts); unresumed ones expire by TTL.
    if (resumer) return log.warn({ backend: b.id, reason }, 'backend lost: its sessions will be resumed on their next request');
    void directory.unbindBackend(b.id, lostAt, b.instance).then((n) => {
      metrics.sessionsLost.inc({ reason: reason === 'removed' || reason === 'incarnation' ? 'backend_removed' : 'backend_down' }, n);
      placement.noteUnbound(b.id, n);
      if (n > 0) log.warn({ backend: b.id, sessions: n, reason }, 'sessions of a lost backend unbound');
    });
  });

  // Everything that holds a timer, a connection or a socket, released in this order by close() and by a
  // start-up that fails half way (a port in use): each step on its own (shutdown.ts).
  let discovery: Discovery | undefined;
  let auth: AuthGuard | undefined;
  let app: ReturnType<typeof buildApp> | undefined;
  let admin: ReturnType<typeof buildAdminApp> | undefined;
  let accessLog: AccessLog | undefined;
  const policy = statusPolicy(config);
  const counters = new CounterRates(metrics.registry);
  const heartbeats = new ReplicaHeartbeats(store, { id: instanceId, version, startedAt }, log);
  const timers: NodeJS.Timeout[] = [];
  const release: ReleaseStep[] = [
    { name: 'timers', close: () => timers.forEach((t) => clearInterval(t)) },
    { name: 'discovery', close: () => discovery?.close() },
    { name: 'health checks', close: () => health.stop() },
    { name: 'auth', close: () => auth?.close() },
    { name: 'status counters', close: () => counters.close() },
    { name: 'replica heartbeat', close: () => heartbeats.close() },
    { name: 'session directory', close: () => directory.close() },
    { name: 'session store', close: () => store.close() },
    { name: 'backend pools', close: () => registry.close() },
    { name: 'tracing', close: () => tracing.close() },
    { name: 'admin listener', close: () => admin?.close() },
    { name: 'access log', close: () => accessLog?.close() },
  ];
  try {
    discovery = await createDiscovery(config, (specs) => registry.update(specs), log);
    await discovery.start();
    await health.probeAll();
    health.start();

    // The periodic ping also notices a store that lost its data (new epoch) and writes bindings back.
    const pingStore = () => directory.checkEpoch().catch(() => undefined);
    // TLS, Sentinel and Cluster take a few round trips to connect: give start-up a moment before the first ping.
    await store.waitConnected(STORE_CONNECT_WAIT_MS);
    await pingStore();
    const refreshCounts = async () => {
      await placement.refresh();
      for (const b of registry.list()) metrics.sessionsActive.set({ backend: b.id }, placement.counts.get(b.id) ?? 0);
    };
    await refreshCounts();
    metrics.collectSessions = refreshCounts;
    timers.push(setInterval(() => void pingStore(), STORE_PING_MS), setInterval(() => void refreshCounts(), PLACEMENT_REFRESH_MS));
    for (const t of timers) t.unref();

    accessLog = new AccessLog(config.logLevel, instanceId, logs);
    const quotas = new Quotas(
      store,
      storeGuard,
      {
        rateLimit: config.rateLimit,
        rateBurst: config.rateLimitBurst,
        maxSessionsPerPrincipal: config.maxSessionsPerPrincipal,
        maxStreamsPerSession: config.maxStreamsPerSession,
        maxStreamsPerPrincipal: config.maxStreamsPerPrincipal,
      },
      metrics,
    );
    const guard = (auth = createAuthGuard(config, { metrics, logger: log }));
    app = buildApp(config, {
      config,
      registry,
      directory,
      placement,
      forwarder,
      metrics,
      toolNames,
      lifecycle,
      tracing,
      recovery,
      resumer,
      toolSafety,
      accessLog,
      quotas,
      logger: log,
      auth: guard,
      traffic,
    });
    const statusDeps = {
      registry,
      discovery,
      placement,
      store,
      storeGuard,
      directory,
      metrics,
      lifecycle,
      traffic,
      counters,
      heartbeats,
      discoveryLagBoundMs: discoveryLagMs(config),
      discoveryChangedAt: () => discoveryChangedAt,
      sessionTtlMs: config.sessionTtlMs,
    };
    admin = buildAdminApp({
      logger: log,
      lifecycle,
      registry,
      discovery,
      placement,
      store,
      storeGuard,
      metrics,
      identityJwks: () => guard.identityJwks(),
      status: { deps: statusDeps, policy, token: config.statusToken },
    });
    await app.listen({ host: config.host, port: config.port, ...(config.listenReusePort ? { reusePort: true } : {}) });
    await admin.listen({ host: config.adminHost, port: config.adminPort });
  } catch (err) {
    const mcpListener = app;
    await releaseAll([{ name: 'mcp listener', close: () => mcpListener?.close() }, ...release], log);
    throw err;
  }
  const mcpPort = (app.server.address() as AddressInfo).port;
  const adminPort = (admin.server.address() as AddressInfo).port;
  heartbeats.start(adminPort);
  log.info({ statusPage: policy.enabled, reach: policy.reach, tokenRequired: policy.tokenRequired }, `status page ${policy.reason}`);
  lifecycle.phase = 'ready';
  log.info(
    {
      mcpPort,
      adminPort,
      mcpPath: config.mcpPath,
      store: config.redisUrl ? maskUrl(config.redisUrl) : 'memory',
      discovery: config.discovery,
      backends: registry.list().map((b) => ({ id: b.id, state: b.state })),
    },
    'gateway listening',
  );

  const close = gracefulShutdown({ log, lifecycle, app, drainDelayMs: config.drainDelayMs, shutdownTimeoutMs: config.shutdownTimeoutMs, release });

  return { mcpPort, adminPort, instanceId, metrics, lifecycle, close };
}

/**
 * How far another replica's view of the backends may run ahead of this one's. A static list is the same
 * everywhere. DNS answers change on every replica within two resolve rounds. A Kubernetes watch delivers a
 * new EndpointSlice within a second or so, but a replica that is re-listing after a dropped watch (API
 * server restart, 410 Gone, its idle timeout) can be half a minute behind.
 */
export function discoveryLagMs(config: Pick<GatewayConfig, 'discovery' | 'dnsIntervalMs'>): number {
  if (config.discovery === 'static') return 0;
  if (config.discovery === 'dns') return 2 * config.dnsIntervalMs + 1000;
  return KUBERNETES_DISCOVERY_LAG_MS;
}
const KUBERNETES_DISCOVERY_LAG_MS = 30_000;
