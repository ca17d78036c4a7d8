// The session store: where a session's binding to its backend lives, so that every gateway replica routes
// it the same way. Two implementations: memory.ts (embedded default, one replica) and redis.ts (shared).
// The interface owns lifecycle; implementations own policy (TTL mechanics, key layout).

/** What a binding says about a session. */
export interface SessionRecord {
  /** Backend id (pod name under Kubernetes discovery, URL otherwise). */
  backend: string;
  /**
   * The backend's incarnation (the pod UID under Kubernetes discovery), when discovery knows one: a pod
   * recreated under the same name (StatefulSet) is another server, and its sessions are not the old one's.
   */
  instance?: string;
  /** The principal (issuer + subject) that created the session, when auth is on. */
  principal?: string;
  /** Protocol version from initialize, for logs and metrics. */
  protocolVersion?: string;
  /** Which transport created the binding: Streamable HTTP session, legacy HTTP+SSE stream, or a task. */
  kind: 'streamable' | 'legacy-sse' | 'task';
  /** Epoch milliseconds. */
  createdAt: number;
  // --- i16-resume (routing/session-resume*.ts): present only with --session-resume reinitialize. ---
  /**
   * The backend's session id when it differs from the client's Mcp-Session-Id (after a resume the client
   * keeps its id and the gateway maps it); absent means the identity mapping, at no extra store cost.
   */
  upstreamId?: string;
  /** The client's `initialize` params as JSON text (bounded), replayed to open a new upstream session. */
  init?: string;
  /** State-setting requests the backend accepted, in order (bounded): replayed after a resume. */
  replay?: ResumeReplayEntry[];
  /** How many times the session was resumed on another backend. */
  resumes?: number;
}

/** One recorded state-setting request: `logging/setLevel`, `resources/subscribe` or `resources/unsubscribe`. */
export interface ResumeReplayEntry {
  method: string;
  /** Its params as JSON text. */
  params: string;
}

// i18-status (status page): replica heartbeats and a read-only look at one binding.
/** One gateway replica as it announces itself in the store, so that every replica can list the others. */
export interface ReplicaHeartbeat {
  id: string;
  version: string;
  /** Epoch ms. */
  startedAt: number;
  /** The host name (the pod name under Kubernetes) and admin port where its own status page is. */
  host: string;
  adminPort: number;
  /** Epoch ms; the announcement lapses at `expiresAt` unless renewed. */
  expiresAt: number;
}

/** Invalidations published by one replica and applied by every other one to its local cache. */
export type StoreEvent =
  | { type: 'unbound'; id: string; origin: string }
  | { type: 'backend-gone'; backend: string; instance?: string; origin: string };

import type { TakeResult } from './token-bucket.ts';

/** Whether a binding went with its backend, lost at `lostAt` (incarnation `instance`, when known). */
export function boundToLostBackend(record: SessionRecord, lostAt: number, instance?: string): boolean {
  if (instance !== undefined && record.instance !== undefined && record.instance !== instance) return false;
  return record.createdAt < lostAt;
}

export type BindResult = { bound: true } | { bound: false; existing: SessionRecord };

export interface SessionStore {
  readonly kind: 'memory' | 'redis';
  /** True when other gateway replicas see the same bindings (and so local caches need invalidation). */
  readonly shared: boolean;

  /** The binding, renewing its TTL (sliding expiry); undefined when unknown or expired. */
  get(id: string): Promise<SessionRecord | undefined>;
  /** Atomically binds `id` unless it is already bound; the existing binding is returned then. */
  bind(id: string, record: SessionRecord): Promise<BindResult>;
  /** Renews the TTL of bindings that were used (from a local cache) without a round trip each. */
  touch(entries: ReadonlyArray<{ id: string; backend: string; principal?: string | undefined }>): Promise<void>;
  /**
   * Removes a binding and announces it to the other replicas; `backend`, when known, saves a read.
   * Resolves true when something was removed.
   */
  unbind(id: string, backend?: string, principal?: string): Promise<boolean>;
  /** The ids bound to a backend (one round trip): the first step of forgetting a backend that is gone. */
  sessionsOf(backend: string): Promise<string[]>;
  /**
   * Removes those of `ids` (bound to `backend`) that were bound before `boundBefore` (epoch ms), or whose
   * binding has already expired; returns the ids this call removed. Sessions bound later live on a backend
   * that came back (a restart): another replica that noticed the outage late must not take them with it.
   * With `instance`, a binding that names another incarnation of the backend is kept too (a StatefulSet pod
   * recreated: the old pod's loss must not take the new one's sessions).
   * At most two round trips, whatever the number of ids: the caller batches, and bounds each call.
   */
  unbindBoundBefore(backend: string, ids: readonly string[], boundBefore: number, instance?: string): Promise<string[]>;
  /** Live sessions per backend, for least-sessions placement. */
  countByBackend(backends: readonly string[]): Promise<Map<string, number>>;
  /** Live sessions created by a principal (the sessions-per-principal limit). */
  countByPrincipal(principal: string): Promise<number>;
  /** Takes one token from the bucket `key` (refilled at `ratePerSecond`, holding `burst`), shared by replicas. */
  takeToken(key: string, ratePerSecond: number, burst: number): Promise<TakeResult>;
  /**
   * Resume (i16): takes the right to resume session `id` for `ttlMs` (Redis: SET NX on a claim key in the
   * session's hash slot); false when another replica (or call) holds it. Released by `replace` or `releaseClaim`.
   */
  claimResume(id: string, ttlMs: number): Promise<boolean>;
  releaseClaim(id: string): Promise<void>;
  /**
   * Resume (i16): overwrites the binding of `id` (still bound) with `record` (maybe on another backend), moves
   * it between backend indexes, drops any claim, and announces it so other replicas drop their cached copy.
   * Resolves false when the binding is gone (unbound or expired meanwhile).
   */
  replace(id: string, record: SessionRecord, previousBackend: string): Promise<boolean>;
  /** Announces an invalidation to the other replicas (a no-op when not shared). */
  publish(event: StoreEvent): Promise<void>;
  /** Registers the receiver of other replicas' invalidations. */
  onEvent(listener: (event: StoreEvent) => void): void;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  /**
   * An id of the store's current contents, created when missing. It changes when the store lost its data
   * (Redis restarted empty, or flushed): replicas then write back the bindings they know.
   */
  epoch(): Promise<string>;
  /** Resolves once connected, or after `timeoutMs` (never rejects): lets start-up see a slow connect. */
  waitConnected(timeoutMs: number): Promise<void>;
  /**
   * An operation timed out: the connection may have lost requests or replies (a blackholed network), so a
   * store that matches replies to requests by order must start a fresh connection before trusting it again.
   */
  resetConnection(): void;
  /** Announces a replica until `heartbeat.expiresAt` (renewed by announcing again). */
  heartbeat(heartbeat: ReplicaHeartbeat): Promise<void>;
  /** The replicas whose announcement has not lapsed (only this one for a store that is not shared). */
  replicas(): Promise<ReplicaHeartbeat[]>;
  /**
   * The binding of `id` and the TTL it has left, without renewing it: an operator looking at a session must
   * not keep it alive.
   */
  inspect(id: string): Promise<{ record: SessionRecord; ttlLeftMs: number } | undefined>;
  /** Idempotent. */
  close(): Promise<void>;
}
