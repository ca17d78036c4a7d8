// GET /status.json: everything the status page shows, in one document that scripts can read too
// (README "Status page" documents the fields).
import type { Discovery } from '../backends/discovery.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { Placement } from '../routing/placement.ts';
import type { SessionDirectory } from '../routing/session-directory.ts';
import type { StoreGuard } from '../sessions/guard.ts';
import type { SessionStore } from '../sessions/store.ts';
import { backendStateView } from './backend-state.ts';
import type { CounterRates } from './counter-rates.ts';
import type { ReplicaHeartbeats } from './replica-heartbeat.ts';
import type { TrafficWindow } from './traffic-window.ts';

export interface StatusDeps {
  registry: BackendRegistry;
  discovery: Discovery;
  placement: Placement;
  store: SessionStore;
  storeGuard: StoreGuard;
  directory: SessionDirectory;
  metrics: GatewayMetrics;
  lifecycle: Lifecycle;
  traffic: TrafficWindow;
  counters: CounterRates;
  heartbeats: ReplicaHeartbeats;
  /** How far another replica's view of the backends may run ahead of this one's (gateway.ts discoveryLagMs). */
  discoveryLagBoundMs: number;
  /** Epoch ms of the last change discovery reported; null before the first. */
  discoveryChangedAt: () => number | null;
  sessionTtlMs: number;
}

const ERAS = ['sessions', 'stateless', 'legacy-sse'] as const;

export async function statusSnapshot(d: StatusDeps) {
  const now = Date.now();
  const self = d.heartbeats.self;
  const others = await d.store.replicas().catch(() => undefined);
  const replicas = [
    { ...self, uptimeSeconds: Math.round((now - self.startedAt) / 1000), self: true },
    ...(others ?? [])
      .filter((r) => r.id !== self.id)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => ({ id: r.id, version: r.version, startedAt: r.startedAt, host: r.host, adminPort: r.adminPort, uptimeSeconds: Math.round((now - r.startedAt) / 1000), self: false })),
  ];
  const backends = d.registry.list().map((b) => {
    const s = backendStateView(b);
    return {
      id: b.id,
      url: b.url.href,
      state: s.state,
      stateCause: s.cause,
      stateSince: s.since,
      ready: b.ready,
      draining: b.draining,
      healthy: b.healthy,
      incarnation: b.instance ?? null,
      sessions: d.placement.counts.get(b.id) ?? 0,
      lastMinute: d.traffic.backend(b.id),
    };
  });
  const counters = await d.counters.read();
  const discovery = d.discovery.status();
  return {
    generatedAt: now,
    replica: { ...replicas[0]!, phase: d.lifecycle.phase },
    replicas,
    replicasComplete: others !== undefined,
    store: {
      kind: d.store.kind,
      shared: d.store.shared,
      reachable: !d.storeGuard.degraded && d.storeGuard.answeredOnce,
      degraded: d.storeGuard.degraded,
      failingSince: d.storeGuard.failingSince || null,
      writeBackQueue: d.directory.pendingWriteBacks,
      lastError: d.storeGuard.lastError ?? null,
      sessionTtlMs: d.sessionTtlMs,
    },
    discovery: { mode: discovery.kind, synced: discovery.synced, failing: discovery.failing, lagBoundMs: d.discoveryLagBoundMs, lastChangeAt: d.discoveryChangedAt() },
    backends,
    totals: {
      sessionsBound: backends.reduce((n, b) => n + b.sessions, 0),
      eras: Object.fromEntries(ERAS.map((e) => [e, d.traffic.era(e)])),
      streamsOpen: (await d.metrics.streamsOpen.get()).values.reduce((n, v) => n + v.value, 0),
      ...counters,
    },
  };
}

export type StatusSnapshot = Awaited<ReturnType<typeof statusSnapshot>>;
