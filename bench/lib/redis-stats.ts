// Store round trips, counted by Redis itself: INFO commandstats before and after a run; the delta divided
// by the requests proxied is the store cost per request. Commands on the hot path (GETEX lookups, SET/ZADD
// binds, DEL/ZREM unbinds) and background ones (PING, ZCARD placement counts, batched PEXPIRE touches) are
// listed apart so that the per-request figure can be read honestly.
import { Redis } from 'ioredis';

export type CommandStats = Map<string, number>;

export async function commandStats(url: string): Promise<CommandStats> {
  const r = new Redis(url, { lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const text = await r.info('commandstats');
    const out: CommandStats = new Map();
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] as string, Number(m[2]));
    return out;
  } finally {
    r.disconnect();
  }
}

/**
 * Commands of the request path: GETEX (lookup on a cache miss), SET NX GET + ZADD (bind), DEL/GETDEL + ZREM
 * + PUBLISH (unbind). Everything else comes from timers: PING, ZCARD/ZREMRANGEBYSCORE (placement counts),
 * and the batched TTL renewals, PEXPIRE + ZADD XX per touched session per flush (so ZADD beyond one per
 * SET is a renewal, not a request's).
 */
const HOT = ['getex', 'getdel', 'set', 'del', 'zrem', 'publish'];

export interface StoreCost {
  commands: number;
  /** Hot-path commands (lookups, binds, unbinds, publishes) per proxied request. */
  hotPerRequest: number;
  /** All commands except this tool's own INFO, per proxied request. */
  allPerRequest: number;
  byCommand: Record<string, number>;
}

export function storeCost(before: CommandStats, after: CommandStats, requests: number): StoreCost {
  const byCommand: Record<string, number> = {};
  let all = 0;
  let hot = 0;
  for (const [cmd, calls] of after) {
    const d = calls - (before.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0);
    if (d <= 0) continue;
    byCommand[cmd] = d;
    if (cmd === 'info') continue;
    all += d;
    if (HOT.includes(cmd)) hot += d;
  }
  hot += Math.min(byCommand.zadd ?? 0, byCommand.set ?? 0);
  const per = (n: number) => (requests > 0 ? Math.round((n / requests) * 10_000) / 10_000 : 0);
  return { commands: all, hotPerRequest: per(hot), allPerRequest: per(all), byCommand };
}
