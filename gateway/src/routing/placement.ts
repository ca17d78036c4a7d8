// Chooses the backend for a new session: the live backend with the fewest sessions. Counts come from the
// store (so every gateway replica sees the same load), refreshed in the background at most once per
// `refreshMs`. Initializes this replica has sent but not yet bound count too: without them a burst of
// concurrent initializes would all pile onto whichever backend was lowest at that moment. Ties rotate.
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import type { StoreGuard } from '../sessions/guard.ts';
import type { SessionStore } from '../sessions/store.ts';

/** See Placement.hold. */
export interface PlacementHold {
  /** Chooses a backend (for sendWithRetry), giving back the one picked before. */
  pick(exclude: ReadonlySet<string>): Backend | undefined;
  /** The last pick bound a session. */
  commit(): void;
  /** The attempt is over: releases the last pick unless it was committed. Idempotent. */
  done(): void;
}

export class Placement {
  readonly #registry: BackendRegistry;
  readonly #store: SessionStore;
  readonly #guard: StoreGuard;
  readonly #log: Logger;
  readonly #refreshMs: number;
  readonly #counts = new Map<string, number>();
  /** Chosen for an initialize that has not been bound or given up yet. */
  readonly #inFlight = new Map<string, number>();
  #refreshedAt = 0;
  #refreshing: Promise<void> | undefined;
  #rotation = 0;

  constructor(registry: BackendRegistry, store: SessionStore, guard: StoreGuard, refreshMs: number, logger: Logger) {
    this.#registry = registry;
    this.#store = store;
    this.#guard = guard;
    this.#refreshMs = refreshMs;
    this.#log = logger;
  }

  /** Sessions per backend as last counted (plus local binds since). */
  get counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /**
   * The backend for a new session, skipping `exclude`; undefined when no live backend is left. Every
   * backend returned must later be passed to `commit` (a session was bound) or `release` (it was not).
   */
  choose(exclude?: ReadonlySet<string>): Backend | undefined {
    this.#maybeRefresh();
    const live = this.#registry.live().filter((b) => !exclude?.has(b.id));
    if (live.length === 0) return undefined;
    const load = (id: string) => (this.#counts.get(id) ?? 0) + (this.#inFlight.get(id) ?? 0);
    let min = Infinity;
    for (const b of live) min = Math.min(min, load(b.id));
    const least = live.filter((b) => load(b.id) === min);
    this.#rotation = (this.#rotation + 1) % 1_000_000_007;
    const chosen = least[this.#rotation % least.length] as Backend;
    this.#inFlight.set(chosen.id, (this.#inFlight.get(chosen.id) ?? 0) + 1);
    return chosen;
  }

  /** The initialize sent to `backend` bound a session. */
  commit(backend: string): void {
    this.release(backend);
    this.#counts.set(backend, (this.#counts.get(backend) ?? 0) + 1);
  }

  /** The initialize sent to `backend` bound nothing (failed, or a sessionless answer). */
  release(backend: string): void {
    const n = (this.#inFlight.get(backend) ?? 0) - 1;
    if (n > 0) this.#inFlight.set(backend, n);
    else this.#inFlight.delete(backend);
  }

  /**
   * One new session's placement, across retries on other backends: each pick releases the previous one, and
   * whatever is still held when the attempt ends (nothing bound) is released by `done`. So every backend
   * `choose` hands out is committed or released exactly once.
   */
  hold(): PlacementHold {
    let held: string | undefined;
    return {
      pick: (exclude) => {
        if (held !== undefined) this.release(held);
        const b = this.choose(exclude);
        held = b?.id;
        return b;
      },
      commit: () => {
        if (held !== undefined) this.commit(held);
        held = undefined;
      },
      done: () => {
        if (held !== undefined) this.release(held);
        held = undefined;
      },
    };
  }

  noteUnbound(backend: string, n = 1): void {
    this.#counts.set(backend, Math.max(0, (this.#counts.get(backend) ?? 0) - n));
  }

  /** Recounts now; resolves when done (errors are logged: stale counts only skew balance). */
  async refresh(): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    this.#refreshing = (async () => {
      try {
        const ids = this.#registry.list().map((b) => b.id);
        const counts = await this.#guard.run('count', () => this.#store.countByBackend(ids));
        this.#counts.clear();
        for (const [id, n] of counts) this.#counts.set(id, n);
        this.#refreshedAt = Date.now();
      } catch (err) {
        this.#log.debug({ err: (err as Error).message }, 'session counts not refreshed');
        this.#refreshedAt = Date.now(); // do not hammer a failing store
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #maybeRefresh(): void {
    if (Date.now() - this.#refreshedAt >= this.#refreshMs) void this.refresh();
  }
}
