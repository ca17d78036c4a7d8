// The admin listener: health, readiness, metrics and the backend table. It never serves MCP, and the MCP
// listener never serves these (separate Fastify instances on separate ports).
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Discovery, DiscoveryStatus } from './backends/discovery.ts';
import type { BackendRegistry } from './backends/registry.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { GatewayMetrics } from './metrics/metrics.ts';
import type { Placement } from './routing/placement.ts';
import type { StoreGuard } from './sessions/guard.ts';
import type { SessionStore } from './sessions/store.ts';
import { statusRoutes, STATUS_ENDPOINTS } from './admin/status-routes.ts';
import type { StatusPolicy } from './admin/status-policy.ts';
import type { StatusDeps } from './admin/status-snapshot.ts';

export interface AdminDeps {
  logger: Logger;
  lifecycle: Lifecycle;
  registry: BackendRegistry;
  discovery: Discovery;
  placement: Placement;
  store: SessionStore;
  storeGuard: StoreGuard;
  metrics: GatewayMetrics;
  /** Public keys of the identity JWT the gateway signs for backends (auth/identity-jwt.ts), if any. */
  identityJwks?: () => { keys: object[] } | undefined;
  /** The operator's status page (admin/), when the policy serves it. */
  status?: { deps: StatusDeps; policy: StatusPolicy; token: string | undefined };
}

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'degraded' | 'not-ready';
  reasons: string[];
  liveBackends: number;
  store: { kind: string; answeredSinceStart: boolean; failing: boolean };
  /** Informational: a failing discovery keeps the last known backends, so it does not pull readiness. */
  discovery: DiscoveryStatus;
}

/**
 * Ready once the store has answered since start and a backend is live. A later store outage shows as
 * `degraded` but keeps readiness: one Redis outage must not pull every gateway replica out of its Service
 * (they route known sessions from their caches meanwhile).
 */
export function readiness(d: AdminDeps): Readiness {
  const reasons: string[] = [];
  const live = d.registry.live().length;
  if (d.lifecycle.phase !== 'ready') reasons.push(`gateway is ${d.lifecycle.phase}`);
  if (!d.storeGuard.answeredOnce) reasons.push('session store has not answered since start');
  if (live === 0) reasons.push('no live backend');
  const ready = reasons.length === 0;
  return {
    ready,
    status: !ready ? 'not-ready' : d.storeGuard.degraded ? 'degraded' : 'ready',
    reasons: d.storeGuard.degraded && ready ? ['session store failing: routing from local caches'] : reasons,
    liveBackends: live,
    store: { kind: d.store.kind, answeredSinceStart: d.storeGuard.answeredOnce, failing: d.storeGuard.degraded },
    discovery: d.discovery.status(),
  };
}

export function buildAdminApp(d: AdminDeps) {
  const app = Fastify({ loggerInstance: d.logger.child({ listener: 'admin' }), logController: new LogController({ disableRequestLogging: true }) });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const r = readiness(d);
    return reply.code(r.ready ? 200 : 503).send(r);
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await d.metrics.registry.metrics();
    return reply.type(d.metrics.registry.contentType).send(body);
  });

  app.get('/backends', async () =>
    d.registry.list().map((b) => ({
      id: b.id,
      url: b.url.href,
      ready: b.ready,
      draining: b.draining,
      healthy: b.healthy,
      // The health verdict (README "Reliability"): serving | ejected | lost, why, and since when.
      state: b.state,
      stateCause: b.stateCause,
      stateSince: b.stateSince, // epoch ms, as on Backend (the shared interface)
      sessions: d.placement.counts.get(b.id) ?? 0,
    })),
  );

  // Backends verify the identity JWT with these keys (README "Auth"). Public keys only.
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    const jwks = d.identityJwks?.();
    if (!jwks) return reply.code(404).send({ error: 'no identity JWT key is configured (--identity-jwt-key-file)' });
    return reply.header('cache-control', 'public, max-age=60').type('application/jwk-set+json').send(JSON.stringify(jwks));
  });

  if (d.status?.policy.enabled) void app.register(statusRoutes(d.status.deps, d.status.policy, d.status.token));

  const endpoints = ['/healthz', '/readyz', '/metrics', '/backends', ...(d.status?.policy.enabled ? STATUS_ENDPOINTS : [])];
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'not found', endpoints }));
  return app;
}
