// The set of known backends. Discovery replaces the set; health verdicts (backends/verdicts.ts) move a
// backend between serving, ejected and lost; the router asks for live backends. Listeners hear when a
// backend is ejected or restored, and when its sessions are proven lost, so that they can be unbound.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Backend, type BackendSpec, type BackendState, type EjectionCause, type LossReason, type PoolOptions } from './backend.ts';

export type BackendLossReason = LossReason;

/** Why a binding names a backend this replica does not have (see BackendRegistry.whyUnknown). */
export type UnknownBackend = 'gone' | 'not-yet-seen';

export interface RegistryOptions {
  /**
   * How long another replica's discovery may be ahead of this one's (0 for a static list, which every
   * replica reads the same). A session bound within this time to a backend never seen here was most likely
   * bound by a replica that saw a new pod first.
   */
  discoveryLagMs?: number;
}

/** Removed backends remembered, so a lagging view is not mistaken for a removal. Bounded. */
const MAX_TOMBSTONES = 4096;

/** What a binding says about its backend (a SessionRecord fits). */
export interface BoundTo {
  backend: string;
  instance?: string | undefined;
  createdAt: number;
}

interface RegistryEvents {
  /** Proof that a backend's sessions are gone (never mere suspicion): unbind them, across replicas. */
  lost: [backend: Backend, reason: BackendLossReason];
  /** Suspicion: out of rotation for new work; its sessions stay bound. */
  ejected: [backend: Backend, cause: EjectionCause];
  /** Back in rotation (from ejected, or from lost when something answers at its address again). */
  restored: [backend: Backend];
  /** The set or a backend's flags changed. */
  changed: [];
}

export class BackendRegistry extends EventEmitter<RegistryEvents> {
  readonly #backends = new Map<string, Backend>();
  readonly #pool: PoolOptions;
  readonly #log: Logger;
  readonly #discoveryLagMs: number;
  /** id -> when it last left discovery here; insertion-ordered, oldest evicted first. */
  readonly #removedAt = new Map<string, number>();
  /** Incarnations (pod UIDs) that left discovery here; insertion-ordered, oldest evicted first. */
  readonly #goneInstances = new Set<string>();
  /** Requests waiting for an ejected backend's next verdict. */
  readonly #waiters = new Map<Backend, Set<() => void>>();
  #roundRobin = 0;

  constructor(pool: PoolOptions, logger: Logger, options: RegistryOptions = {}) {
    super();
    this.#pool = pool;
    this.#log = logger;
    this.#discoveryLagMs = options.discoveryLagMs ?? 0;
  }

  /** Replaces the known set with what discovery reports now. */
  update(specs: readonly BackendSpec[]): void {
    const seen = new Set<string>();
    for (const spec of specs) {
      seen.add(spec.id);
      const existing = this.#backends.get(spec.id);
      if (existing && existing.url.href === spec.url.href && existing.instance === spec.instance) {
        if (existing.ready !== spec.ready || existing.draining !== spec.draining) {
          this.#log.info({ backend: spec.id, ready: spec.ready, draining: spec.draining }, 'backend state changed');
        }
        existing.update(spec);
        continue;
      }
      // Same identity, new address or new incarnation: a different server, holding none of the old sessions.
      if (existing) this.#remove(existing, existing.instance !== spec.instance ? 'incarnation' : 'removed');
      this.#removedAt.delete(spec.id);
      this.#backends.set(spec.id, new Backend(spec, this.#pool));
      this.#log.info({ backend: spec.id, url: spec.url.href }, 'backend added');
    }
    for (const b of [...this.#backends.values()]) if (!seen.has(b.id)) this.#remove(b, 'removed');
    this.emit('changed');
  }

  get(id: string): Backend | undefined {
    return this.#backends.get(id);
  }

  /** The backend a binding names, when this replica has that very server (the same incarnation, when known). */
  forBinding(bound: BoundTo): Backend | undefined {
    const b = this.#backends.get(bound.backend);
    if (!b) return undefined;
    return bound.instance === undefined || b.instance === undefined || b.instance === bound.instance ? b : undefined;
  }

  /**
   * For a binding whose backend forBinding() did not find: `gone` when that server left here, or the binding
   * is older than any discovery lag (this replica would know its backend by now); `not-yet-seen` when
   * another replica's discovery is probably just ahead of this one's (a pod that came up a moment ago, maybe
   * under the name of one that just left), so the session is alive and must not be unbound on this
   * replica's word.
   */
  whyUnknown(bound: BoundTo, now = Date.now()): UnknownBackend {
    if (bound.instance !== undefined) {
      if (this.#goneInstances.has(bound.instance)) return 'gone';
    } else {
      // No incarnation to tell servers apart: bound before the name left here, it went with it.
      const removedAt = this.#removedAt.get(bound.backend);
      if (removedAt !== undefined && bound.createdAt <= removedAt) return 'gone';
    }
    return now - bound.createdAt < this.#discoveryLagMs ? 'not-yet-seen' : 'gone';
  }

  list(): Backend[] {
    return [...this.#backends.values()];
  }

  /** Backends that may take new sessions and sessionless requests. */
  live(): Backend[] {
    return this.list().filter((b) => b.acceptsNew);
  }

  /** Round robin over live backends, skipping `exclude`; undefined when none is left. */
  nextLive(exclude?: ReadonlySet<string>): Backend | undefined {
    const live = this.live().filter((b) => !exclude?.has(b.id));
    if (live.length === 0) return undefined;
    this.#roundRobin = (this.#roundRobin + 1) % 1_000_000_007;
    return live[this.#roundRobin % live.length];
  }

  /**
   * Suspicion: out of rotation for new work (from serving only) until at least `until` (the ejection time,
   * decided by backends/verdicts.ts). False when nothing changed.
   */
  eject(backend: Backend, cause: EjectionCause, detail: string, until: number, now = Date.now()): boolean {
    if (backend.state !== 'serving' || !this.#isCurrent(backend)) return false;
    this.#set(backend, 'ejected', cause, now);
    backend.ejectedUntil = until;
    this.#log.warn({ backend: backend.id, cause, detail, until: new Date(backend.ejectedUntil).toISOString() }, 'backend ejected: no new sessions, its sessions stay bound');
    this.emit('ejected', backend, cause);
    this.#settle(backend);
    this.emit('changed');
    return true;
  }

  /** Back in rotation. False when it already was. */
  restore(backend: Backend, now = Date.now()): boolean {
    backend.consecutiveResets = 0;
    if (backend.state === 'serving' || !this.#isCurrent(backend)) return false;
    const was = backend.state;
    this.#set(backend, 'serving', 'answered', now);
    this.#log.info({ backend: backend.id, was }, 'backend restored to rotation');
    this.emit('restored', backend);
    this.#settle(backend);
    this.emit('changed');
    return true;
  }

  /** Proof: the backend's sessions are gone. Emits 'lost' once per verdict. */
  lose(backend: Backend, reason: BackendLossReason, now = Date.now()): boolean {
    if (backend.state === 'lost' || !this.#isCurrent(backend)) return false;
    this.#set(backend, 'lost', reason, now);
    this.#log.warn({ backend: backend.id, reason }, 'backend lost: its sessions are gone');
    this.emit('lost', backend, reason);
    this.#settle(backend);
    this.emit('changed');
    return true;
  }

  /**
   * Waits until an ejected backend is restored or lost, at most `ms`; resolves with its state then (still
   * `ejected` when the wait ran out or `signal` fired). At once when it is not ejected.
   */
  async waitForVerdict(backend: Backend, ms: number, signal?: AbortSignal): Promise<BackendState> {
    if (backend.state !== 'ejected' || ms <= 0 || signal?.aborted) return backend.state;
    await new Promise<void>((resolve) => {
      let waiters = this.#waiters.get(backend);
      if (!waiters) this.#waiters.set(backend, (waiters = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(backend) === waiters) this.#waiters.delete(backend);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
    return backend.state;
  }

  async close(): Promise<void> {
    const all = this.list();
    this.#backends.clear();
    for (const b of all) this.#settle(b);
    await Promise.allSettled(all.map((b) => b.close()));
  }

  #isCurrent(backend: Backend): boolean {
    return this.#backends.get(backend.id) === backend;
  }

  #set(backend: Backend, state: BackendState, cause: string, now: number): void {
    backend.state = state;
    backend.stateCause = cause;
    backend.stateSince = now;
    if (state === 'lost') backend.lostSince = now;
    if (state !== 'ejected') backend.refusedSince = 0;
  }

  /** Wakes the requests waiting for this backend's verdict. */
  #settle(backend: Backend): void {
    const waiters = this.#waiters.get(backend);
    if (!waiters) return;
    this.#waiters.delete(backend);
    for (const done of [...waiters]) done();
  }

  #remove(b: Backend, reason: 'removed' | 'incarnation'): void {
    this.#backends.delete(b.id);
    this.#removedAt.delete(b.id);
    this.#removedAt.set(b.id, Date.now());
    if (this.#removedAt.size > MAX_TOMBSTONES) this.#removedAt.delete(this.#removedAt.keys().next().value as string);
    if (b.instance !== undefined) {
      this.#goneInstances.add(b.instance);
      if (this.#goneInstances.size > MAX_TOMBSTONES) this.#goneInstances.delete(this.#goneInstances.values().next().value as string);
    }
    this.#log.info({ backend: b.id, reason }, 'backend removed');
    this.#set(b, 'lost', reason, Date.now());
    this.emit('lost', b, reason);
    this.#settle(b);
    void b.close();
  }
}
