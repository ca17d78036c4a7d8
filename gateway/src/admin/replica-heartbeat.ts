// This replica's announcement in the session store, so that the status page of any replica lists the others
// (with Redis; the in-memory store serves one replica and lists only itself). Renewed every few seconds,
// lapsing three beats after the last one; withdrawn on shutdown.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ReplicaHeartbeat, SessionStore } from '../sessions/store.ts';

export const HEARTBEAT_MS = 5000;
const LAPSE_MS = 3 * HEARTBEAT_MS;

export interface ReplicaIdentity {
  id: string;
  version: string;
  startedAt: number;
}

export class ReplicaHeartbeats {
  readonly #store: SessionStore;
  readonly #self: Omit<ReplicaHeartbeat, 'expiresAt'>;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #warned = false;

  constructor(store: SessionStore, self: ReplicaIdentity, logger: Logger) {
    this.#store = store;
    this.#self = { ...self, host: hostname(), adminPort: 0 };
    this.#log = logger;
  }

  /** Starts announcing, once the admin listener has its port (0 in the options means any free one). */
  start(adminPort: number): void {
    if (this.#closed || this.#timer) return;
    this.#self.adminPort = adminPort;
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.#timer.unref();
  }

  get self(): Omit<ReplicaHeartbeat, 'expiresAt'> {
    return this.#self;
  }

  /** Announces this replica now; store trouble is the store guard's to report, so it is logged once only. */
  async beat(lapseMs = LAPSE_MS): Promise<void> {
    try {
      await this.#store.heartbeat({ ...this.#self, expiresAt: Date.now() + lapseMs });
      this.#warned = false;
    } catch (err) {
      if (!this.#warned) this.#log.warn({ err: (err as Error).message }, 'replica heartbeat not written; the status page of other replicas will miss this one');
      this.#warned = true;
    }
  }

  /** Idempotent: stops beating and withdraws the announcement (an entry that lapses now). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#timer) await this.beat(0);
  }
}
