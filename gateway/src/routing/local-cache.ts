// A replica's local view of session bindings, in front of a shared store: a hit routes with no store round
// trip. Least-recently-used eviction bounds its size (an evicted entry is only a cache miss, never a lost
// session: the store still has it). Entries expire after the session TTL without use, like the store's.
import type { SessionRecord } from '../sessions/store.ts';

interface Entry {
  record: SessionRecord;
  expiresAt: number;
  /** When it last moved to the young end. */
  movedAt: number;
}

/**
 * A hit moves its entry to the young end at most this often: the move (a Map delete and insert) was a
 * measurable share of a request (issue 17), and an order off by a second only changes which idle entry a
 * full cache evicts first.
 */
const MOVE_EVERY_MS = 1000;

export class LocalSessionCache {
  readonly #map = new Map<string, Entry>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(maxEntries: number, ttlMs: number, now: () => number = Date.now) {
    this.#max = maxEntries;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#map.size;
  }

  get(id: string): SessionRecord | undefined {
    const e = this.#map.get(id);
    if (!e) return undefined;
    const now = this.#now();
    if (e.expiresAt <= now) {
      this.#map.delete(id);
      return undefined;
    }
    e.expiresAt = now + this.#ttlMs;
    // Move to the young end: Map iteration order is insertion order, so the first key is the oldest.
    if (now - e.movedAt >= MOVE_EVERY_MS) {
      e.movedAt = now;
      this.#map.delete(id);
      this.#map.set(id, e);
    }
    return e.record;
  }

  set(id: string, record: SessionRecord): void {
    this.#map.delete(id);
    const now = this.#now();
    this.#map.set(id, { record, expiresAt: now + this.#ttlMs, movedAt: now });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
  }

  delete(id: string): boolean {
    return this.#map.delete(id);
  }

  /** Drops every entry of a backend; returns how many. */
  deleteBackend(backend: string): number {
    let n = 0;
    for (const [id, e] of this.#map) {
      if (e.record.backend === backend) {
        this.#map.delete(id);
        n++;
      }
    }
    return n;
  }

  *entries(): IterableIterator<[string, SessionRecord]> {
    for (const [id, e] of this.#map) yield [id, e.record];
  }
}
