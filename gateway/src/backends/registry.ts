// The set of known backends. Discovery replaces the set; health checks flip `healthy`; the router asks for
// live backends. Listeners hear when a backend goes down or away, so its sessions can be unbound.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Backend, type BackendSpec, type PoolOptions } from './backend.ts';

export type BackendLossReason = 'down' | 'removed';

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
  /** A backend stopped serving (health) or left discovery: its sessions are lost. */
  lost: [backend: Backend, reason: BackendLossReason];
  /** A backend became healthy again. */
  up: [backend: Backend];
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
      if (existing) this.#remove(existing); // same identity, new address or new incarnation: a different server
      this.#removedAt.delete(spec.id);
      this.#backends.set(spec.id, new Backend(spec, this.#pool));
      this.#log.info({ backend: spec.id, url: spec.url.href }, 'backend added');
    }
    for (const b of [...this.#backends.values()]) if (!seen.has(b.id)) this.#remove(b);
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

  markDown(backend: Backend, cause: string): void {
    if (!backend.healthy || this.#backends.get(backend.id) !== backend) return;
    backend.healthy = false;
    backend.downSince = Date.now();
    this.#log.warn({ backend: backend.id, cause }, 'backend marked down');
    this.emit('lost', backend, 'down');
    this.emit('changed');
  }

  markUp(backend: Backend): void {
    backend.consecutiveResets = 0;
    if (backend.healthy || this.#backends.get(backend.id) !== backend) return;
    backend.healthy = true;
    backend.downSince = 0;
    this.#log.info({ backend: backend.id }, 'backend up');
    this.emit('up', backend);
    this.emit('changed');
  }

  async close(): Promise<void> {
    const all = this.list();
    this.#backends.clear();
    await Promise.allSettled(all.map((b) => b.close()));
  }

  #remove(b: Backend): void {
    this.#backends.delete(b.id);
    this.#removedAt.delete(b.id);
    this.#removedAt.set(b.id, Date.now());
    if (this.#removedAt.size > MAX_TOMBSTONES) this.#removedAt.delete(this.#removedAt.keys().next().value as string);
    if (b.instance !== undefined) {
      this.#goneInstances.add(b.instance);
      if (this.#goneInstances.size > MAX_TOMBSTONES) this.#goneInstances.delete(this.#goneInstances.values().next().value as string);
    }
    this.#log.info({ backend: b.id }, 'backend removed');
    this.emit('lost', b, 'removed');
    void b.close();
  }
}
