// Where the router looks sessions up: the local cache first (shared stores only), then the store. It also
//  - renews TTLs of cache hits in batches, so a hit costs no round trip yet a session in use never expires;
//  - keeps a binding made while the store was unreachable locally, and writes it back when the store
//    returns, so that an outage does not lose sessions created during it;
//  - applies other replicas' invalidations (DELETE, backend gone) to the local cache.
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { StoreGuard } from '../sessions/guard.ts';
import { boundToLostBackend, type BindResult, type SessionRecord, type SessionStore, type StoreEvent } from '../sessions/store.ts';
import { LocalSessionCache } from './local-cache.ts';

export interface DirectoryOptions {
  ttlMs: number;
  cacheSize: number;
  instanceId: string;
  /** How often touches and write-backs are flushed to the store. */
  flushIntervalMs?: number;
  /**
   * Most bindings kept for write-back during a store outage (default: the cache size, which is what can
   * route them meanwhile). Past it the oldest is dropped (its session routes from the cache while it stays
   * there) and counted.
   */
  maxPendingWriteBacks?: number;
}

export class SessionDirectory {
  readonly #store: SessionStore;
  readonly #guard: StoreGuard;
  readonly #log: Logger;
  readonly #instanceId: string;
  /** Only in front of a shared store; the in-memory store is its own cache. */
  readonly #cache: LocalSessionCache | undefined;
  readonly #touched = new Map<string, SessionRecord>();
  readonly #pendingBinds = new Map<string, SessionRecord>();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #maxPending: number;
  #touching = false;
  #writingBack = false;
  #epoch: string | undefined;
  /** Lookups under way, by id: an unbind landing during one marks it (its answer may predate the unbind). */
  readonly #watching = new Map<string, Set<LookupWatch>>();
  /** Backend -> sequence number of the last time it was declared gone (bounded by the backends seen). */
  readonly #backendGone = new Map<string, number>();
  #invalidations = 0;
  /** Told how many bindings a write-back restored. */
  onWriteBack: ((count: number) => void) | undefined;
  /** Told when a binding made during an outage is dropped from the write-back queue (it is full). */
  onWriteBackDropped: (() => void) | undefined;

  constructor(store: SessionStore, guard: StoreGuard, options: DirectoryOptions, logger: Logger) {
    this.#store = store;
    this.#guard = guard;
    this.#log = logger;
    this.#instanceId = options.instanceId;
    this.#maxPending = Math.max(1, options.maxPendingWriteBacks ?? options.cacheSize);
    if (store.shared) {
      this.#cache = new LocalSessionCache(options.cacheSize, options.ttlMs);
      store.onEvent((e) => this.#apply(e));
      const every = options.flushIntervalMs ?? Math.min(Math.max(options.ttlMs / 4, 250), 30_000);
      this.#timer = setInterval(() => void this.flush(), every);
      this.#timer.unref();
    }
  }

  /** Bindings made during a store outage that are not yet written back. */
  get pendingWriteBacks(): number {
    return this.#pendingBinds.size;
  }

  /**
   * The binding of `id` when this replica's cache has it (counted as a use, like a lookup hit), without a
   * promise: the hot path's common case (issue 17). Undefined means "ask `lookup`".
   */
  cached(id: string): SessionRecord | undefined {
    const hit = this.#cache?.get(id);
    if (hit) this.#touched.set(id, hit);
    return hit;
  }

  /** The binding of `id`, or undefined when no replica knows it. Throws STORE_UNAVAILABLE only on a miss. */
  async lookup(id: string): Promise<SessionRecord | undefined> {
    const hit = this.cached(id);
    if (hit) return hit;
    let record: SessionRecord | undefined;
    const watch = this.#watch(id);
    try {
      record = await this.#guard.run('get', () => this.#store.get(id));
    } catch (err) {
      const pending = this.#pendingBinds.get(id);
      if (pending) return pending;
      throw err;
    } finally {
      this.#unwatch(id, watch);
    }
    if (!record) return undefined;
    // An unbind (here, or another replica's invalidation) landed while the store answered: the answer may
    // predate it, and caching it would route a dead session until the cache entry expires.
    if (watch.unbound) return undefined;
    // Its backend was declared gone meanwhile: answered (the route judges the backend) but not cached.
    if ((this.#backendGone.get(record.backend) ?? 0) <= watch.since) this.#cache?.set(id, record);
    return record;
  }

  async bind(id: string, record: SessionRecord): Promise<BindResult> {
    let result: BindResult;
    try {
      result = await this.#guard.run('bind', () => this.#store.bind(id, record));
    } catch (err) {
      if (!this.#cache || !(err instanceof GatewayError) || err.code !== 'STORE_UNAVAILABLE') throw err;
      // Route it from here meanwhile; flush() writes it back once the store answers again.
      this.#cache.set(id, record);
      this.#queueWriteBack(id, record);
      this.#log.warn({ session: shortId(id), backend: record.backend }, 'session store unreachable: session bound locally, will be written back');
      return { bound: true };
    }
    this.#cache?.set(id, result.bound ? record : result.existing);
    return result;
  }

  /** Forgets a session everywhere. Store trouble is logged, not thrown: the TTL ends it anyway. */
  /** Resolves true when this call removed the binding from the store. */
  async unbind(id: string, backend?: string, principal?: string): Promise<boolean> {
    this.#invalidate(id);
    this.#touched.delete(id);
    this.#pendingBinds.delete(id);
    try {
      // The store announces the removal to the other replicas itself (same round trip).
      return await this.#guard.run('unbind', () => this.#store.unbind(id, backend, principal));
    } catch (err) {
      this.#log.warn({ session: shortId(id), err: (err as Error).message }, 'could not unbind session in the store');
      return false;
    }
  }

  // --- i16-resume: what routing/session-resume.ts needs; the store does the atomic parts. ---

  /** The binding as the store holds it now, past the local cache (resume re-checks after its claim). */
  async reread(id: string): Promise<SessionRecord | undefined> {
    const record = await this.#guard.run('get', () => this.#store.get(id));
    if (record) this.#cache?.set(id, record);
    else this.#cache?.delete(id);
    return record;
  }

  claimResume(id: string, ttlMs: number): Promise<boolean> {
    return this.#guard.run('resume_claim', () => this.#store.claimResume(id, ttlMs));
  }

  async releaseClaim(id: string): Promise<void> {
    await this.#guard.run('resume_claim', () => this.#store.releaseClaim(id)).catch(() => undefined);
  }

  /** Overwrites a binding (resume moved it, or recorded state for it); false when it is gone. */
  async replace(id: string, record: SessionRecord, previousBackend: string): Promise<boolean> {
    const ok = await this.#guard.run('replace', () => this.#store.replace(id, record, previousBackend));
    if (ok) this.#cache?.set(id, record);
    else this.#cache?.delete(id);
    this.#touched.delete(id);
    return ok;
  }

  /**
   * Forgets the sessions of a backend that is gone (bound before `boundBefore`, to incarnation `instance`
   * when known); returns how many this call removed.
   */
  async unbindBackend(backend: string, boundBefore = Date.now(), instance?: string): Promise<number> {
    this.#noteBackendGone(backend);
    const cached = this.#cache?.deleteBackend(backend) ?? 0;
    const lost = (r: SessionRecord) => r.backend === backend && boundToLostBackend(r, Number.POSITIVE_INFINITY, instance);
    for (const [id, rec] of this.#pendingBinds) if (lost(rec)) this.#pendingBinds.delete(id);
    for (const [id, r] of this.#touched) if (lost(r)) this.#touched.delete(id);
    try {
      // In steps that each get the store timeout per round trip, not one budget for the whole backend: a
      // slow store (200 ms a round trip) must slow this down, not fail it and reset the connection.
      const ids = await this.#guard.run('unbind_backend', () => this.#store.sessionsOf(backend));
      let removed = 0;
      for (let i = 0; i < ids.length; i += UNBIND_BATCH) {
        const batch = ids.slice(i, i + UNBIND_BATCH);
        removed += (await this.#guard.run('unbind_backend', () => this.#store.unbindBoundBefore(backend, batch, boundBefore, instance), 2)).length;
      }
      if (this.#store.shared) {
        await this.#guard.run('publish', () => this.#store.publish({ type: 'backend-gone', backend, ...(instance !== undefined ? { instance } : {}), origin: this.#instanceId }));
      }
      return removed;
    } catch (err) {
      this.#log.warn({ backend, err: (err as Error).message }, 'could not unbind the sessions of a lost backend in the store');
      return cached;
    }
  }

  /**
   * Pings the store and compares its epoch with the last one seen: a new epoch means Redis lost its data
   * (restart, flush), and this replica writes back every binding it knows, so no session is lost.
   */
  async checkEpoch(): Promise<void> {
    const epoch = await this.#guard.run('ping', () => this.#store.epoch());
    const changed = this.#epoch !== undefined && epoch !== this.#epoch;
    this.#epoch = epoch;
    if (changed && this.#cache) {
      const restored = await this.#writeBackAll();
      this.#log.warn({ restored }, 'session store lost its data: bindings known to this replica written back');
      this.onWriteBack?.(restored);
    }
  }

  async #writeBackAll(): Promise<number> {
    let restored = 0;
    const entries = [...(this.#cache?.entries() ?? [])];
    for (let i = 0; i < entries.length; i += WRITE_BACK_BATCH) {
      const batch = entries.slice(i, i + WRITE_BACK_BATCH);
      const results = await Promise.allSettled(batch.map(([id, record]) => this.#guard.run('bind', () => this.#store.bind(id, record))));
      restored += results.filter((r) => r.status === 'fulfilled' && r.value.bound).length;
    }
    return restored;
  }

  /**
   * Writes batched TTL renewals and pending bindings to the store. The two run on their own: a backlog of
   * write-backs after an outage never holds up the renewals that keep sessions in use alive.
   */
  async flush(): Promise<void> {
    await Promise.all([this.#flushTouches(), this.#flushWriteBacks()]);
  }

  async #flushTouches(): Promise<void> {
    if (this.#touching || this.#touched.size === 0) return;
    this.#touching = true;
    try {
      const touched = [...this.#touched];
      this.#touched.clear();
      const batch = touched.map(([id, r]) => ({ id, backend: r.backend, principal: r.principal }));
      await this.#guard.run('touch', () => this.#store.touch(batch)).catch(() => {
        for (const [id, r] of touched) if (!this.#touched.has(id)) this.#touched.set(id, r);
      });
    } finally {
      this.#touching = false;
    }
  }

  /** Pending bindings in batches (concurrent within one), as #writeBackAll; stops at a batch that fails whole. */
  async #flushWriteBacks(): Promise<void> {
    if (this.#writingBack || this.#pendingBinds.size === 0) return;
    this.#writingBack = true;
    try {
      const pending = [...this.#pendingBinds];
      for (let i = 0; i < pending.length; i += WRITE_BACK_BATCH) {
        const batch = pending.slice(i, i + WRITE_BACK_BATCH);
        const results = await Promise.allSettled(batch.map(([id, record]) => this.#guard.run('bind', () => this.#store.bind(id, record))));
        results.forEach((r, j) => {
          const [id, record] = batch[j] as [string, SessionRecord];
          if (r.status === 'rejected') return;
          // Unless it was unbound, or bound anew, while this write was under way.
          if (this.#pendingBinds.get(id) === record) this.#pendingBinds.delete(id);
          if (!r.value.bound && r.value.existing.backend !== record.backend) {
            this.#log.error({ session: shortId(id) }, 'write-back found the session bound to another backend');
            this.#cache?.set(id, r.value.existing);
          }
        });
        if (results.every((r) => r.status === 'rejected')) break; // still unreachable; try again next round
      }
    } finally {
      this.#writingBack = false;
    }
  }

  #queueWriteBack(id: string, record: SessionRecord): void {
    this.#pendingBinds.delete(id);
    this.#pendingBinds.set(id, record);
    while (this.#pendingBinds.size > this.#maxPending) {
      const oldest = this.#pendingBinds.keys().next().value as string;
      this.#pendingBinds.delete(oldest);
      this.onWriteBackDropped?.();
      this.#log.warn({ session: shortId(oldest) }, 'write-back queue full: a binding made during the store outage will not be written back');
    }
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }

  #apply(e: StoreEvent): void {
    if (e.type === 'unbound') {
      this.#invalidate(e.id);
      this.#touched.delete(e.id);
    } else if (e.type === 'backend-gone') {
      this.#noteBackendGone(e.backend);
      this.#cache?.deleteBackend(e.backend);
    }
  }

  /** Drops `id` from the cache, and tells the lookups of it under way that their answer may be stale. */
  #invalidate(id: string): void {
    this.#cache?.delete(id);
    const w = this.#watching.get(id);
    if (w) for (const watch of w) watch.unbound = true;
  }

  #noteBackendGone(backend: string): void {
    this.#backendGone.set(backend, ++this.#invalidations);
  }

  /** Registers a lookup under way; bounded by the lookups in flight (removed by #unwatch). */
  #watch(id: string): LookupWatch {
    const watch: LookupWatch = { unbound: false, since: this.#invalidations };
    let w = this.#watching.get(id);
    if (!w) this.#watching.set(id, (w = new Set()));
    w.add(watch);
    return watch;
  }

  #unwatch(id: string, watch: LookupWatch): void {
    const w = this.#watching.get(id);
    w?.delete(watch);
    if (w?.size === 0) this.#watching.delete(id);
  }
}

/** One lookup under way: `unbound` once its id was unbound meanwhile; `since`: the backend-gone sequence at its start. */
interface LookupWatch {
  unbound: boolean;
  since: number;
}

const WRITE_BACK_BATCH = 200;
const UNBIND_BATCH = 500;

/** Enough of a session id to correlate log lines, not enough to hijack the session. */
export function shortId(id: string): string {
  return `${shortIdPrefix(id)}…`;
}

/** What shortId keeps of an id: at most 8 characters, and never more than half of it. */
export function shortIdPrefix(id: string): string {
  return id.slice(0, Math.min(8, Math.floor(id.length / 2)));
}
