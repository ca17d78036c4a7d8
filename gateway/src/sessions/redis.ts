// Redis session store: the shared map that lets any number of gateway replicas agree on which backend holds
// a session. Single-round-trip operations on the hot path (GETEX for a lookup, SET NX GET for a bind);
// auto-pipelining batches concurrent commands; no multi-key command ever spans two hash slots (keys.ts).
import { randomUUID } from 'node:crypto';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { KeyLayout } from './keys.ts';
import { decodeRecord, encodeRecord } from './record-codec.ts';
import { createRedisClient, type RedisClient, type RedisConnectionConfig } from './redis-connection.ts';
import { TAKE_SCRIPT, type TakeResult } from './token-bucket.ts';
import { boundToLostBackend, type BindResult, type ReplicaHeartbeat, type SessionRecord, type SessionStore, type StoreEvent } from './store.ts';

export interface RedisStoreOptions {
  url: string;
  /** Redis commands not answered within this time are rejected (the store timeout). */
  commandTimeoutMs?: number;
  /** Mode (standalone, sentinel, cluster), credentials and TLS trust; standalone when absent. */
  connection?: Omit<RedisConnectionConfig, 'url'>;
  keyPrefix: string;
  ttlMs: number;
  /** Identifies this replica's own events on the channel. */
  instanceId: string;
  logger: Logger;
  /** Extra ioredis options (tests, TLS). */
  redisOptions?: RedisOptions;
}

/** Outlives any replica's heartbeat lapse (admin/replica-heartbeat.ts: 15 s). */
const REPLICAS_KEY_TTL_MS = 60_000;

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  readonly shared = true;
  readonly #keys: KeyLayout;
  readonly #ttlMs: number;
  readonly #instanceId: string;
  readonly #log: Logger;
  readonly #cmd: RedisClient;
  readonly #sub: RedisClient;
  readonly #listeners: Array<(e: StoreEvent) => void> = [];
  #closed = false;
  #lastErrorLog = 0;
  #lastReset = 0;

  constructor(o: RedisStoreOptions) {
    this.#keys = new KeyLayout(o.keyPrefix);
    this.#ttlMs = o.ttlMs;
    this.#instanceId = o.instanceId;
    this.#log = o.logger;
    const base: RedisOptions = {
      // Fail fast while disconnected: the caller falls back to its local cache instead of queueing
      // requests behind an outage (DESIGN.md: a store outage must not hang requests).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
      connectionName: `mcp-gateway:${o.instanceId}`,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
      // A little longer than the store timeout, so the guard (which also resets the connection) fires first.
      ...(o.commandTimeoutMs ? { commandTimeout: o.commandTimeoutMs + 100 } : {}),
      ...o.redisOptions,
    };
    const connection: RedisConnectionConfig = { mode: 'standalone', ...o.connection, url: o.url };
    this.#cmd = createRedisClient(connection, base);
    // The subscriber may queue SUBSCRIBE until the first connection; ioredis re-subscribes on reconnect.
    this.#sub = createRedisClient(connection, {
      ...base,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      connectionName: `mcp-gateway-sub:${o.instanceId}`,
    });
    for (const [name, conn] of [['command', this.#cmd], ['subscriber', this.#sub]] as const) {
      conn.on('error', (err: Error) => this.#logError(name, err));
    }
    this.#sub.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
    this.#sub.subscribe(this.#keys.channel).catch((err: Error) => this.#logError('subscriber', err));
  }

  get instanceId(): string {
    return this.#instanceId;
  }

  /** The command connection, for tests and diagnostics. */
  get client(): RedisClient {
    return this.#cmd;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const text = await this.#cmd.getex(this.#keys.session(id), 'PX', this.#ttlMs);
    return text === null ? undefined : decodeRecord(text);
  }

  async bind(id: string, record: SessionRecord): Promise<BindResult> {
    const key = this.#keys.session(id);
    const index = this.#keys.backendIndex(record.backend);
    // Both commands leave in one round trip (auto-pipelining). The index entry is written optimistically
    // and taken back in the (practically impossible) case that the id was already bound elsewhere.
    // Tasks are in no index: they are not sessions (neither the sessions-per-principal quota nor placement
    // counts them); a task's binding only pins its requests, and goes with its TTL or its first miss.
    const indexed = record.kind !== 'task';
    const principalIndex = indexed && record.principal !== undefined ? this.#keys.principalIndex(record.principal) : undefined;
    const expiry = Date.now() + this.#ttlMs;
    const [previous] = await Promise.all([
      this.#cmd.set(key, encodeRecord(record), 'PX', this.#ttlMs, 'NX', 'GET'),
      indexed ? this.#cmd.zadd(index, expiry, id) : 0,
      principalIndex !== undefined ? this.#cmd.zadd(principalIndex, expiry, id) : 0,
    ]);
    if (previous === null) return { bound: true };
    const existing = decodeRecord(previous);
    if (indexed && (!existing || existing.backend !== record.backend)) await this.#cmd.zrem(index, id);
    if (principalIndex !== undefined && existing?.principal !== record.principal) await this.#cmd.zrem(principalIndex, id);
    if (!existing) {
      // Unreadable value under our key: replace it rather than route by garbage.
      await this.#cmd.set(key, encodeRecord(record), 'PX', this.#ttlMs);
      if (indexed) await this.#cmd.zadd(index, Date.now() + this.#ttlMs, id);
      if (principalIndex !== undefined) await this.#cmd.zadd(principalIndex, Date.now() + this.#ttlMs, id);
      return { bound: true };
    }
    return { bound: false, existing };
  }

  async touch(entries: ReadonlyArray<{ id: string; backend: string; principal?: string | undefined }>): Promise<void> {
    if (entries.length === 0) return;
    const expiry = Date.now() + this.#ttlMs;
    const ops: Promise<unknown>[] = [];
    for (const { id, backend, principal } of entries) {
      ops.push(this.#cmd.pexpire(this.#keys.session(id), this.#ttlMs));
      ops.push(this.#cmd.zadd(this.#keys.backendIndex(backend), 'XX', expiry, id));
      if (principal !== undefined) ops.push(this.#cmd.zadd(this.#keys.principalIndex(principal), 'XX', expiry, id));
    }
    await Promise.all(ops);
  }

  /**
   * Removes the binding and tells the other replicas, in one round trip when the backend is known: the
   * commands go out together (auto-pipelining) and Redis runs one connection's commands in order, so the
   * announcement never overtakes the deletion.
   */
  async unbind(id: string, backend?: string, principal?: string): Promise<boolean> {
    const key = this.#keys.session(id);
    const announce = JSON.stringify({ type: 'unbound', id, origin: this.#instanceId } satisfies StoreEvent);
    if (backend !== undefined) {
      const [removed] = await Promise.all([
        this.#cmd.del(key),
        this.#cmd.zrem(this.#keys.backendIndex(backend), id),
        principal !== undefined ? this.#cmd.zrem(this.#keys.principalIndex(principal), id) : 0,
        this.#cmd.publish(this.#keys.channel, announce),
      ]);
      return removed > 0;
    }
    const text = await this.#cmd.getdel(key);
    if (text === null) return false;
    const rec = decodeRecord(text);
    await Promise.all([
      rec ? this.#cmd.zrem(this.#keys.backendIndex(rec.backend), id) : 0,
      rec?.principal !== undefined ? this.#cmd.zrem(this.#keys.principalIndex(rec.principal), id) : 0,
      this.#cmd.publish(this.#keys.channel, announce),
    ]);
    return true;
  }

  async claimResume(id: string, ttlMs: number): Promise<boolean> {
    // SET NX: of replicas racing to resume one session, exactly one gets 'OK' (the others wait for its binding).
    return (await this.#cmd.set(this.#keys.resumeClaim(id), this.#instanceId, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async releaseClaim(id: string): Promise<void> {
    await this.#cmd.del(this.#keys.resumeClaim(id));
  }

  async replace(id: string, record: SessionRecord, previousBackend: string): Promise<boolean> {
    // XX: a session unbound meanwhile (DELETE, expiry) is not brought back.
    const ok = await this.#cmd.set(this.#keys.session(id), encodeRecord(record), 'PX', this.#ttlMs, 'XX');
    const announce = JSON.stringify({ type: 'unbound', id, origin: this.#instanceId } satisfies StoreEvent);
    const expiry = Date.now() + this.#ttlMs;
    const moved = ok === 'OK' && previousBackend !== record.backend;
    await Promise.all([
      moved ? this.#cmd.zrem(this.#keys.backendIndex(previousBackend), id) : 0,
      moved ? this.#cmd.zadd(this.#keys.backendIndex(record.backend), expiry, id) : 0,
      this.#cmd.del(this.#keys.resumeClaim(id)),
      // Other replicas drop their cached copy and read the new binding on the next request.
      ok === 'OK' ? this.#cmd.publish(this.#keys.channel, announce) : 0,
    ]);
    return ok === 'OK';
  }

  async sessionsOf(backend: string): Promise<string[]> {
    return this.#cmd.zrange(this.#keys.backendIndex(backend), '0', '-1');
  }

  async unbindBoundBefore(backend: string, ids: readonly string[], boundBefore: number, instance?: string): Promise<string[]> {
    const index = this.#keys.backendIndex(backend);
    // Round trip 1: read every binding (auto-pipelining sends them together).
    const texts = await Promise.all(ids.map((id) => this.#cmd.get(this.#keys.session(id))));
    // Round trip 2: the deletions and index removals together. DEL answers 1 to exactly one caller, so
    // replicas that notice the same outage count each loss once.
    const removals = ids.map(async (id, j) => {
      const text = texts[j];
      const rec = text == null ? undefined : decodeRecord(text);
      if (rec && (rec.backend !== backend || !boundToLostBackend(rec, boundBefore, instance))) {
        // Bound after the outage or to a new incarnation (a live session), or rebound elsewhere: only a
        // stale index entry goes.
        if (rec.backend !== backend) await this.#cmd.zrem(index, id);
        return undefined;
      }
      const [gone] = await Promise.all([
        text == null ? 0 : this.#cmd.del(this.#keys.session(id)),
        this.#cmd.zrem(index, id),
        rec?.principal !== undefined ? this.#cmd.zrem(this.#keys.principalIndex(rec.principal), id) : 0,
      ]);
      return gone > 0 ? id : undefined;
    });
    return (await Promise.all(removals)).filter((id): id is string => id !== undefined);
  }

  async countByBackend(backends: readonly string[]): Promise<Map<string, number>> {
    const now = Date.now();
    const counts = await Promise.all(
      backends.map(async (b) => {
        const index = this.#keys.backendIndex(b);
        // Expired sessions leave the index lazily, here. One round trip: Redis runs a connection's commands in
        // order, so ZCARD counts after the removal.
        const [, count] = await Promise.all([this.#cmd.zremrangebyscore(index, '-inf', now), this.#cmd.zcard(index)]);
        return count;
      }),
    );
    return new Map(backends.map((b, i) => [b, counts[i] ?? 0]));
  }

  async countByPrincipal(principal: string): Promise<number> {
    const index = this.#keys.principalIndex(principal);
    const [, count] = await Promise.all([this.#cmd.zremrangebyscore(index, '-inf', Date.now()), this.#cmd.zcard(index)]);
    return count;
  }

  async takeToken(key: string, ratePerSecond: number, burst: number): Promise<TakeResult> {
    const [allowed, wait] = (await this.#cmd.eval(TAKE_SCRIPT, 1, this.#keys.bucket(key), ratePerSecond, burst, 1)) as [number, number];
    return { allowed: allowed === 1, retryAfterMs: wait };
  }

  async publish(event: StoreEvent): Promise<void> {
    await this.#cmd.publish(this.#keys.channel, JSON.stringify(event));
  }

  onEvent(listener: (event: StoreEvent) => void): void {
    this.#listeners.push(listener);
  }

  async ping(): Promise<void> {
    await this.#cmd.ping();
  }

  async epoch(): Promise<string> {
    const key = this.#keys.epoch;
    const current = await this.#cmd.get(key);
    if (current !== null) return current;
    // SET NX: when several replicas notice the empty store together, one id wins and all of them read it.
    await this.#cmd.set(key, randomUUID(), 'NX');
    return (await this.#cmd.get(key)) ?? '';
  }

  /**
   * One hash for every replica (one key, so one slot on Cluster). Its fields cannot expire one by one before
   * Redis 7.4, so each carries its own expiry; the key itself lapses a minute after the last announcement of
   * any replica (a fixed time, so that one replica withdrawing never shortens the others').
   */
  async heartbeat(heartbeat: ReplicaHeartbeat): Promise<void> {
    const key = this.#keys.replicas;
    await Promise.all([this.#cmd.hset(key, heartbeat.id, JSON.stringify(heartbeat)), this.#cmd.pexpire(key, REPLICAS_KEY_TTL_MS)]);
  }

  async replicas(): Promise<ReplicaHeartbeat[]> {
    const key = this.#keys.replicas;
    const all = await this.#cmd.hgetall(key);
    const now = Date.now();
    const live: ReplicaHeartbeat[] = [];
    const lapsed: string[] = [];
    for (const [id, text] of Object.entries(all)) {
      try {
        const h = JSON.parse(text) as ReplicaHeartbeat;
        if (typeof h.expiresAt === 'number' && h.expiresAt > now) live.push(h);
        else lapsed.push(id);
      } catch {
        lapsed.push(id);
      }
    }
    if (lapsed.length > 0) await this.#cmd.hdel(key, ...lapsed);
    return live;
  }

  async inspect(id: string): Promise<{ record: SessionRecord; ttlLeftMs: number } | undefined> {
    const key = this.#keys.session(id);
    // One round trip (auto-pipelining); GET and PTTL renew nothing.
    const [text, ttl] = await Promise.all([this.#cmd.get(key), this.#cmd.pttl(key)]);
    const record = text === null ? undefined : decodeRecord(text);
    return record && ttl > 0 ? { record, ttlLeftMs: ttl } : undefined;
  }

  async waitConnected(timeoutMs: number): Promise<void> {
    if (this.#cmd.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#cmd.once('ready', done);
    });
  }

  /**
   * RESP matches replies to commands by order. After a timeout the reply may never come (lost on the way),
   * and the next reply would be taken for it: a lookup could then return another session's binding. So a
   * timed-out connection is dropped and reconnected (which fails every command still waiting on it); at
   * most once a second, so a long outage does not turn into a reconnect storm.
   */
  resetConnection(): void {
    const now = Date.now();
    if (this.#closed || now - this.#lastReset < 1000) return;
    this.#lastReset = now;
    this.#log.warn('redis command timed out: reconnecting so no reply is matched to the wrong command');
    this.#cmd.disconnect(true);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.#cmd.quit(), this.#sub.quit()]);
    this.#cmd.disconnect();
    this.#sub.disconnect();
  }

  #onMessage(channel: string, message: string): void {
    if (channel !== this.#keys.channel) return;
    let event: StoreEvent;
    try {
      event = JSON.parse(message) as StoreEvent;
    } catch {
      return;
    }
    if (event.origin === this.#instanceId) return;
    for (const l of this.#listeners) l(event);
  }

  #logError(connection: string, err: Error): void {
    if (this.#closed) return;
    // One line per second at most: a down Redis would otherwise log on every reconnect attempt.
    const now = Date.now();
    if (now - this.#lastErrorLog < 1000) return;
    this.#lastErrorLog = now;
    this.#log.warn({ connection, err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'redis connection error');
  }
}
