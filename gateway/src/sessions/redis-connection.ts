// Builds the ioredis client for every Redis deployment the gateway supports:
//  - standalone: redis://host:port/db, or rediss:// for TLS;
//  - ACL users: user and password in the URL, or --redis-username / --redis-password (from a Secret);
//  - Sentinel: --redis-mode sentinel, --redis-sentinels host:port,…, --redis-sentinel-master <name>;
//  - Cluster: --redis-mode cluster with --redis-url naming one seed node (the rest are discovered).
// Every key the gateway writes keeps one session's keys in one hash slot (keys.ts), so Cluster needs no
// other change.
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

export interface RedisConnectionConfig {
  url: string;
  mode: RedisMode;
  username?: string | undefined;
  password?: string | undefined;
  sentinels?: string[] | undefined;
  sentinelMaster?: string | undefined;
  /** PEM bundle of CAs to trust for rediss:// (else the system store). */
  tlsCaFile?: string | undefined;
}

export type RedisClient = Redis | Cluster;

function hostPort(spec: string): { host: string; port: number } {
  const cut = spec.lastIndexOf(':');
  const host = (cut > 0 ? spec.slice(0, cut) : spec).replace(/^\[|\]$/g, '');
  return { host, port: cut > 0 ? Number(spec.slice(cut + 1)) : 26379 };
}

/** Connection settings shared by every mode, taken from the URL and the explicit credentials. */
function commonOptions(c: RedisConnectionConfig): RedisOptions {
  const url = new URL(c.url);
  const opts: RedisOptions = {};
  const username = c.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = c.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (username) opts.username = username;
  if (password) opts.password = password;
  const db = Number(url.pathname.slice(1) || 0);
  if (db > 0 && c.mode !== 'cluster') opts.db = db;
  if (url.protocol === 'rediss:') {
    opts.tls = c.tlsCaFile ? { ca: readFileSync(c.tlsCaFile), servername: url.hostname } : { servername: url.hostname };
  }
  return opts;
}

export function createRedisClient(c: RedisConnectionConfig, base: RedisOptions): RedisClient {
  const common = commonOptions(c);
  const url = new URL(c.url);
  switch (c.mode) {
    case 'standalone':
      return new Redis({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379), ...common, ...base });
    case 'sentinel':
      return new Redis({
        sentinels: (c.sentinels ?? []).map(hostPort),
        name: c.sentinelMaster ?? 'mymaster',
        ...common,
        // Sentinels commonly share the data nodes' credentials and TLS; pass them on.
        ...(common.password ? { sentinelPassword: common.password } : {}),
        ...(common.username ? { sentinelUsername: common.username } : {}),
        ...(common.tls ? { sentinelTLS: common.tls, enableTLSForSentinelMode: true } : {}),
        ...base,
      });
    case 'cluster': {
      const { enableOfflineQueue, enableAutoPipelining, retryStrategy, ...nodeOptions } = base;
      return new Cluster([{ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) }], {
        redisOptions: { ...common, ...nodeOptions },
        enableOfflineQueue: enableOfflineQueue ?? true,
        enableAutoPipelining: enableAutoPipelining ?? false,
        ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) ?? null } : {}),
        ...(common.tls ? { dnsLookup: (address: string, cb: (err: Error | null, address: string) => void) => cb(null, address) } : {}),
      });
    }
  }
}
