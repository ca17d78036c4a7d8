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

/**
 * The health verdict on a backend (README "Reliability"). `serving`: in rotation. `ejected`: suspected
 * (timeouts, 5xx, resets, refused connections, a stall): out of rotation for new work, its sessions stay
 * bound. `lost`: proven gone (left discovery, new incarnation, refused for the whole grace, or ejected past
 * the upper bound): its sessions were unbound.
 */
export type BackendState = 'serving' | 'ejected' | 'lost';
export const BACKEND_STATES: readonly BackendState[] = ['serving', 'ejected', 'lost'];

/** Why a backend was ejected: the ejection counter's `cause` label (all start at 0). */
export const EJECTION_CAUSES = ['probe-timeout', '5xx', 'connect-refused', 'connect-timeout', 'unreachable', 'dns', 'reset', 'probe-error'] as const;
export type EjectionCause = (typeof EJECTION_CAUSES)[number];

/** Proof that a backend's sessions are gone (the registry's 'lost' event). */
export type LossReason = 'removed' | 'incarnation' | 'refused' | 'ejected-too-long';

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
  /** The health verdict (set by the registry only); `stateCause` says why, `stateSince` since when (epoch ms). */
  state: BackendState = 'serving';
  stateCause = 'discovered';
  stateSince = Date.now();
  /** When this replica last found its sessions lost (epoch ms); 0 if never. Sessions bound before it went with it. */
  lostSince = 0;
  /** Consecutive failures seen by the proxy mid-response (resets), for the passive check. */
  consecutiveResets = 0;
  /** Ejections without a calm spell in between: the next ejection lasts longer (backoff, as Envoy's outlier detection). */
  ejections = 0;
  /** An ejected backend returns to rotation on an answered probe no earlier than this (epoch ms). */
  ejectedUntil = 0;
  /** Start of an unbroken run of probes refused (nothing listening); 0 when the last probe was not refused. */
  refusedSince = 0;
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

  /** In rotation (the old boolean view: /backends `healthy`, mcp_gateway_backend_up). */
  get healthy(): boolean {
    return this.state === 'serving';
  }

  /** May receive new sessions and sessionless requests. */
  get acceptsNew(): boolean {
    return this.state === 'serving' && this.ready && !this.draining;
  }

  /**
   * Still holds the sessions bound to it (draining and ejected backends do: an ejected one is only suspected,
   * and its sessions' requests wait for it within a bound, http/forwarder.ts).
   */
  get servesExisting(): boolean {
    return this.state !== 'lost';
  }

  /** Path (with query) of the backend's MCP endpoint (its URL never changes: made once). */
  get path(): string {
    return (this.#path ??= this.url.pathname + this.url.search);
  }
  #path: string | undefined;

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
