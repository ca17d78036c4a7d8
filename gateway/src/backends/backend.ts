// One backend MCP server replica: its identity, its state as discovery and health checks see it, and the
// connection pool the proxy uses to reach it.
import { Pool } from 'undici';

/** What discovery reports about a backend. */
export interface BackendSpec {
  /** Stable identity: pod name under Kubernetes discovery (IPs are reused), the URL otherwise. */
  id: string;
  /** The backend's MCP endpoint. */
  url: URL;
  /** Discovery says it may take new work (Kubernetes: ready). */
  ready: boolean;
  /** Discovery says it is going away (Kubernetes: terminating but serving): keep its sessions, add none. */
  draining: boolean;
  /**
   * Which incarnation of `id` this is (Kubernetes: the pod's UID). A StatefulSet recreates a pod under the
   * same name, maybe even on the same IP: a new instance is a new server that holds none of the old sessions.
   */
  instance?: string;
}

export interface PoolOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
}

export class Backend {
  readonly id: string;
  readonly url: URL;
  /** scheme://host:port, the pool's key. */
  readonly origin: string;
  readonly instance: string | undefined;
  ready: boolean;
  draining: boolean;
  /** From health checks: passive (proxy errors) and active (probes). */
  healthy = true;
  /** When this replica last marked it down (epoch ms); 0 while healthy. */
  downSince = 0;
  /** Consecutive failures seen by the proxy mid-response (resets), for the passive check. */
  consecutiveResets = 0;
  readonly pool: Pool;
  #closed = false;

  constructor(spec: BackendSpec, pool: PoolOptions) {
    this.id = spec.id;
    this.url = spec.url;
    this.origin = spec.url.origin;
    this.instance = spec.instance;
    this.ready = spec.ready;
    this.draining = spec.draining;
    this.pool = new Pool(this.origin, {
      // Unbounded: every open SSE stream holds a connection for its whole life, and a bounded pool would
      // queue new requests behind idle streams forever. Keep-alive reuse keeps the count near concurrency.
      connections: null,
      pipelining: 1,
      connectTimeout: pool.connectTimeoutMs,
      headersTimeout: pool.headersTimeoutMs,
      // No body timeout at the pool: SSE streams are long-lived by design. Non-streaming bodies get an idle
      // timer in proxy/relay.ts instead.
      bodyTimeout: 0,
      keepAliveTimeout: 4_000,
    });
  }

  /** May receive new sessions and sessionless requests. */
  get acceptsNew(): boolean {
    return this.healthy && this.ready && !this.draining;
  }

  /** May keep serving the sessions it holds (draining backends do, until they are gone). */
  get servesExisting(): boolean {
    return this.healthy;
  }

  /** Path (with query) of the backend's MCP endpoint. */
  get path(): string {
    return this.url.pathname + this.url.search;
  }

  update(spec: BackendSpec): void {
    this.ready = spec.ready;
    this.draining = spec.draining;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // destroy, not close: open SSE streams would otherwise keep close() waiting for ever.
    await this.pool.destroy();
  }
}
