// Token buckets for the per-principal request rate. The shared version runs as one Redis script on one key
// (cluster-safe: a single hash slot), timed by the Redis server's clock so that replicas with skewed clocks
// still share one bucket. The local version is the fallback while the store cannot be reached, and the
// store for the in-memory mode.

export interface TakeResult {
  allowed: boolean;
  /** When refused: how long until a token is available. */
  retryAfterMs: number;
}

/**
 * KEYS[1] bucket hash {tokens, at(ms)}; ARGV rate per second, burst, cost.
 * Refills by elapsed time, takes `cost` when there is enough, expires idle buckets.
 */
export const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
`;

export class LocalTokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #max: number;

  constructor(maxKeys = 100_000) {
    this.#max = maxKeys;
  }

  take(key: string, ratePerSecond: number, burst: number, now = Date.now()): TakeResult {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value as string);
      b = { tokens: burst, at: now };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) * ratePerSecond) / 1000);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - b.tokens) * 1000) / ratePerSecond) };
  }
}
