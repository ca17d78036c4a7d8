// A whole test topology: backend replicas, optionally redis-server, and gateway replicas in front.
import { startBackends, type BackendProcess } from './backends.ts';
import { startGateway, type GatewayProcess } from './gateway.ts';
import { startRedis, type RedisServer } from './redis.ts';

export type StoreKind = 'memory' | 'redis';

export interface Topology {
  store: StoreKind;
  redis: RedisServer | undefined;
  backends: BackendProcess[];
  gateways: GatewayProcess[];
  /** MCP endpoint URL of every gateway replica. */
  entries(): string[];
  /** Backend name by backend URL (the gateway's backend id under static discovery). */
  backendName(id: string): string | undefined;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  store: StoreKind;
  backends?: string[];
  /** Gateway replicas; the in-memory store supports one only. */
  gateways?: number;
  /** Arguments for every gateway replica, or per replica (by index). */
  gatewayArgs?: string[] | ((index: number) => string[]);
  /** Extra environment for every gateway replica (secrets such as AUTH_API_KEYS). */
  gatewayEnv?: Record<string, string>;
  /** Extra arguments for every demo backend (e.g. --json). */
  backendArgs?: string[];
}

export async function startTopology(o: TopologyOptions): Promise<Topology> {
  const started: Array<{ stop(): Promise<unknown> }> = [];
  try {
    const redis = o.store === 'redis' ? await startRedis() : undefined;
    if (redis) started.push(redis);
    const backends = await startBackends(o.backends ?? ['a', 'b', 'c'], o.backendArgs);
    started.push(...backends);
    const n = o.store === 'memory' ? 1 : (o.gateways ?? 2);
    const gateways: GatewayProcess[] = [];
    for (let i = 0; i < n; i++) {
      const args = typeof o.gatewayArgs === 'function' ? o.gatewayArgs(i) : o.gatewayArgs;
      const gw = await startGateway({ backends: backends.map((b) => b.url), redisUrl: redis?.url, args, ...(o.gatewayEnv ? { env: o.gatewayEnv } : {}) });
      gateways.push(gw);
      started.push(gw);
    }
    return {
      store: o.store,
      redis,
      backends,
      gateways,
      entries: () => gateways.filter((g) => !g.service.exited).map((g) => g.mcpUrl),
      backendName: (id) => backends.find((b) => b.url === id)?.name,
      async stop() {
        await Promise.allSettled(gateways.map((g) => g.stop()));
        await Promise.allSettled(backends.map((b) => b.stop()));
        await redis?.stop();
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw err;
  }
}
