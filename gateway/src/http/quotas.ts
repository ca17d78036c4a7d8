// Per-principal and per-session quotas, each answered 429 with Retry-After (RFC 6585 §4) and counted:
//  - request rate per principal: a token bucket shared by all replicas through the session store, with a
//    local bucket while the store cannot be reached (a Redis outage must not lift the limit, nor block
//    every request);
//  - sessions per principal: counted by the store across replicas;
//  - listening streams (GET, subscriptions/listen) per session and per principal: counted by this replica.
// Principal quotas apply when auth is on; without auth there is no principal to hold to account.
import { GatewayError } from '../errors.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { StoreGuard } from '../sessions/guard.ts';
import type { SessionStore } from '../sessions/store.ts';
import { LocalTokenBuckets } from '../sessions/token-bucket.ts';

export interface QuotaOptions {
  /** Requests per second per principal; 0 disables. */
  rateLimit: number;
  rateBurst: number;
  /** 0 disables. */
  maxSessionsPerPrincipal: number;
  maxStreamsPerSession: number;
  maxStreamsPerPrincipal: number;
}

function tooMany(detail: string, retryAfterSeconds: number): GatewayError {
  return new GatewayError('TOO_MANY_REQUESTS', detail, { retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

export class Quotas {
  readonly #store: SessionStore;
  readonly #guard: StoreGuard;
  readonly #o: QuotaOptions;
  readonly #metrics: GatewayMetrics;
  readonly #local = new LocalTokenBuckets();
  readonly #streamsBySession = new Map<string, number>();
  readonly #streamsByPrincipal = new Map<string, number>();

  constructor(store: SessionStore, guard: StoreGuard, options: QuotaOptions, metrics: GatewayMetrics) {
    this.#store = store;
    this.#guard = guard;
    this.#o = options;
    this.#metrics = metrics;
  }

  /** Throws 429 past --rate-limit; undefined (no promise) when no limit applies to the request. */
  checkRate(principal: string | undefined): Promise<void> | undefined {
    if (principal === undefined || this.#o.rateLimit <= 0) return undefined;
    return this.#checkRate(principal);
  }

  async #checkRate(principal: string): Promise<void> {
    const { rateLimit, rateBurst } = this.#o;
    let result;
    try {
      result = await this.#guard.run('rate', () => this.#store.takeToken(principal, rateLimit, rateBurst));
    } catch {
      result = this.#local.take(principal, rateLimit, rateBurst);
    }
    if (!result.allowed) {
      this.#metrics.limitRejections.inc({ limit: 'rate' });
      throw tooMany(`more than ${rateLimit} requests per second`, result.retryAfterMs / 1000);
    }
  }

  /** Throws 429 when the principal already holds its share of sessions. */
  async checkNewSession(principal: string | undefined): Promise<void> {
    const max = this.#o.maxSessionsPerPrincipal;
    if (principal === undefined || max <= 0) return;
    // A store that cannot count must not stop sessions being created: the limit is a guard, not a gate.
    const held = await this.#guard.run('count', () => this.#store.countByPrincipal(principal)).catch(() => 0);
    if (held >= max) {
      this.#metrics.limitRejections.inc({ limit: 'sessions_per_principal' });
      throw tooMany(`at most ${max} sessions per user; end one (DELETE) or let it expire`, 30);
    }
  }

  /** Takes a listening-stream slot; returns its release. Throws 429 when over the limits. */
  openStream(sessionId: string | undefined, principal: string | undefined): () => void {
    const perSession = sessionId === undefined ? 0 : (this.#streamsBySession.get(sessionId) ?? 0);
    if (sessionId !== undefined && perSession >= this.#o.maxStreamsPerSession) {
      this.#metrics.limitRejections.inc({ limit: 'streams_per_session' });
      throw tooMany(`at most ${this.#o.maxStreamsPerSession} open streams per session`, 5);
    }
    const perPrincipal = principal === undefined ? 0 : (this.#streamsByPrincipal.get(principal) ?? 0);
    if (principal !== undefined && perPrincipal >= this.#o.maxStreamsPerPrincipal) {
      this.#metrics.limitRejections.inc({ limit: 'streams_per_principal' });
      throw tooMany(`at most ${this.#o.maxStreamsPerPrincipal} open streams per user`, 5);
    }
    if (sessionId !== undefined) this.#streamsBySession.set(sessionId, perSession + 1);
    if (principal !== undefined) this.#streamsByPrincipal.set(principal, perPrincipal + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (sessionId !== undefined) decrement(this.#streamsBySession, sessionId);
      if (principal !== undefined) decrement(this.#streamsByPrincipal, principal);
    };
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
