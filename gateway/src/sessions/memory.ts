// In-process session store: the embedded default. Exact, fast, and visible to this process only, so it
// serves one gateway replica. Bounded: past `maxSessions` a new session is refused (503) rather than an
// existing one evicted, because evicting a live binding would silently break a client's session.
import { GatewayError } from '../errors.ts';
import { boundToLostBackend, type BindResult, type ReplicaHeartbeat, type SessionRecord, type SessionStore, type StoreEvent } from './store.ts';
import { LocalTokenBuckets, type TakeResult } from './token-bucket.ts';

interface Entry {
  record: SessionRecord;
  expiresAt: number;
}

export interface MemoryStoreOptions {
  ttlMs: number;
  maxSessions: number;
  now?: () => number;
  /** Told how many bindings expired (for the sessions-lost metric). */
  onExpired?: (count: number) => void;
}

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory';
  readonly shared = false;
  readonly #entries = new Map<string, Entry>();
  readonly #byBackend = new Map<string, Set<string>>();
  readonly #byPrincipal = new Map<string, Set<string>>();
  readonly #buckets = new LocalTokenBuckets();
  /** Resume claims (i16): session id -> until (epoch ms). */
  readonly #claims = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;
  readonly #onExpired: ((count: number) => void) | undefined;
  #self: ReplicaHeartbeat | undefined;

  constructor(options: MemoryStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.maxSessions;
    this.#now = options.now ?? Date.now;
    this.#onExpired = options.onExpired;
    this.#sweeper = setInterval(() => this.sweep(), Math.min(Math.max(options.ttlMs / 4, 1000), 60_000));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const e = this.#live(id);
    if (!e) return undefined;
    e.expiresAt = this.#now() + this.#ttlMs;
    return e.record;
  }

  async bind(id: string, record: SessionRecord): Promise<BindResult> {
    const existing = this.#live(id);
    if (existing) return { bound: false, existing: existing.record };
    if (this.#entries.size >= this.#max) {
      this.sweep();
      if (this.#entries.size >= this.#max) throw new GatewayError('SESSION_CAPACITY');
    }
    this.#entries.set(id, { record, expiresAt: this.#now() + this.#ttlMs });
    // Tasks are in no index: not sessions (quota, placement), as in redis.ts.
    if (record.kind === 'task') return { bound: true };
    let set = this.#byBackend.get(record.backend);
    if (!set) this.#byBackend.set(record.backend, (set = new Set()));
    set.add(id);
    if (record.principal !== undefined) {
      let mine = this.#byPrincipal.get(record.principal);
      if (!mine) this.#byPrincipal.set(record.principal, (mine = new Set()));
      mine.add(id);
    }
    return { bound: true };
  }

  async touch(entries: ReadonlyArray<{ id: string }>): Promise<void> {
    for (const { id } of entries) await this.get(id);
  }

  async unbind(id: string): Promise<boolean> {
    return this.#remove(id);
  }

  async claimResume(id: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#claims.get(id);
    if (until !== undefined && until > now) return false;
    this.#claims.set(id, now + ttlMs);
    return true;
  }

  async releaseClaim(id: string): Promise<void> {
    this.#claims.delete(id);
  }

  async replace(id: string, record: SessionRecord, previousBackend: string): Promise<boolean> {
    this.#claims.delete(id);
    const e = this.#live(id);
    if (!e) return false;
    if (previousBackend !== record.backend) {
      this.#byBackend.get(previousBackend)?.delete(id);
      let set = this.#byBackend.get(record.backend);
      if (!set) this.#byBackend.set(record.backend, (set = new Set()));
      set.add(id);
    }
    e.record = record;
    e.expiresAt = this.#now() + this.#ttlMs;
    return true;
  }

  async sessionsOf(backend: string): Promise<string[]> {
    return [...(this.#byBackend.get(backend) ?? [])];
  }

  async unbindBoundBefore(backend: string, ids: readonly string[], boundBefore: number, instance?: string): Promise<string[]> {
    const removed: string[] = [];
    for (const id of ids) {
      const record = this.#entries.get(id)?.record;
      if (record?.backend !== backend || !boundToLostBackend(record, boundBefore, instance)) continue;
      if (this.#remove(id)) removed.push(id);
    }
    return removed;
  }

  async countByBackend(backends: readonly string[]): Promise<Map<string, number>> {
    const now = this.#now();
    const out = new Map<string, number>();
    for (const b of backends) {
      let n = 0;
      for (const id of this.#byBackend.get(b) ?? []) if ((this.#entries.get(id)?.expiresAt ?? 0) > now) n++;
      out.set(b, n);
    }
    return out;
  }

  async countByPrincipal(principal: string): Promise<number> {
    let n = 0;
    for (const id of this.#byPrincipal.get(principal) ?? []) if (this.#live(id)) n++;
    return n;
  }

  async takeToken(key: string, ratePerSecond: number, burst: number): Promise<TakeResult> {
    return this.#buckets.take(key, ratePerSecond, burst, this.#now());
  }

  async publish(_event: StoreEvent): Promise<void> {
    // One process: nobody else to tell.
  }

  onEvent(_listener: (event: StoreEvent) => void): void {
    // Never called: no other replica shares this store.
  }

  async ping(): Promise<void> {}

  async waitConnected(): Promise<void> {}

  resetConnection(): void {
    // No connection.
  }

  async epoch(): Promise<string> {
    return 'memory'; // lives and dies with this process: never emptied under a running gateway
  }

  async heartbeat(heartbeat: ReplicaHeartbeat): Promise<void> {
    this.#self = heartbeat; // one process, one replica: nobody else to list
  }

  async replicas(): Promise<ReplicaHeartbeat[]> {
    return this.#self && this.#self.expiresAt > this.#now() ? [this.#self] : [];
  }

  async inspect(id: string): Promise<{ record: SessionRecord; ttlLeftMs: number } | undefined> {
    const e = this.#entries.get(id);
    if (!e || e.expiresAt <= this.#now()) return undefined;
    return { record: e.record, ttlLeftMs: e.expiresAt - this.#now() };
  }

  /** Drops expired bindings; runs on a timer and before refusing a bind for capacity. */
  sweep(): void {
    const now = this.#now();
    let expired = 0;
    for (const [id, e] of this.#entries) if (e.expiresAt <= now && this.#remove(id)) expired++;
    for (const [id, until] of this.#claims) if (until <= now) this.#claims.delete(id);
    if (expired > 0) this.#onExpired?.(expired);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  #live(id: string): Entry | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (e.expiresAt <= this.#now()) {
      this.#remove(id);
      this.#onExpired?.(1);
      return undefined;
    }
    return e;
  }

  #remove(id: string): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    this.#entries.delete(id);
    const set = this.#byBackend.get(e.record.backend);
    set?.delete(id);
    if (set && set.size === 0) this.#byBackend.delete(e.record.backend);
    const principal = e.record.principal;
    if (principal !== undefined) {
      const mine = this.#byPrincipal.get(principal);
      mine?.delete(id);
      if (mine && mine.size === 0) this.#byPrincipal.delete(principal);
    }
    return true;
  }
}
