// Every metric the gateway exports, on a registry passed in (never prom-client's global one, so tests and
// several gateways in one process do not share counters). Label values come from bounded sets (labels.ts);
// series for known label values start at 0 so they exist from the first scrape.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DurationHistogram } from './duration-histogram.ts';
import { BACKEND_STATES, EJECTION_CAUSES, type BackendState } from '../backends/backend.ts';
import { AUTH_FAILURE_REASONS, LIMITS, RECOVERY_RESULTS, RESUME_OUTCOMES, SESSION_LOSS_REASONS, STORE_OPERATIONS, UPSTREAM_FAILURE_KINDS } from './labels.ts';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'method' | 'tool' | 'status'>;
  requestDuration: DurationHistogram<'method'>;
  sessionsActive: Gauge<'backend'>;
  sessionsCreated: Counter<'backend'>;
  sessionsLost: Counter<'reason'>;
  sessionMisses: Counter;
  sessionBackendUnseen: Counter;
  sessionRecoveries: Counter<'result'>;
  sessionsResumed: Counter<'outcome'>;
  sessionWriteBacks: Counter;
  sessionWriteBacksDropped: Counter;
  limitRejections: Counter<'limit'>;
  /** Set from `openStreams` when collected (a scrape); the relay counts with streamOpened/streamClosed. */
  streamsOpen: Gauge;
  /** An SSE stream started or ended: a number here, not a gauge update per stream (issue 17). */
  streamOpened(): void;
  streamClosed(): void;
  streamsCredentialExpired: Counter;
  backendUp: Gauge<'backend'>;
  backendState: Gauge<'backend' | 'state'>;
  backendEjections: Counter<'backend' | 'cause'>;
  upstreamErrors: Counter<'backend' | 'kind'>;
  storeDuration: Histogram<'operation'>;
  storeErrors: Counter<'operation'>;
  /** Refreshes the sessions-active gauge at scrape time (set by the composition root). */
  collectSessions: (() => Promise<void>) | undefined;
  authFailures: Counter<'reason'>;
  /**
   * The per-request pair (requests counter, duration histogram). Requests are tallied here and added to the
   * prom-client counter when it is collected (a scrape), one inc per series instead of a label hash per
   * response; the histogram is kept by hand (duration-histogram.ts). Issue 17: both showed in the profile.
   */
  countRequest(method: string, tool: string, status: number, seconds: number): void;
  /** Starts every series a backend has, at 0. */
  addBackend(id: string): void;
  /** Drops the series of a backend that left discovery (bounded cardinality as pods come and go). */
  removeBackend(id: string): void;
  /** Sets the backend's state series (1 for the current state, 0 for the others) and backend_up. */
  setBackendState(id: string, state: BackendState): void;
}

const MAX_CACHED_CHILDREN = 10_000;

/** Responses of one label set not yet added to the requests counter. */
interface RequestTally {
  method: string;
  tool: string;
  status: number;
  child: Counter.Internal;
  pending: number;
}

export function createMetrics(registry: Registry = new Registry(), options: { processMetrics?: boolean } = {}): GatewayMetrics {
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  let openStreams = 0;
  /** Responses not yet added to the requests counter, per label set. */
  const requestTallies = new Map<string, RequestTally>();
  let lastTally: RequestTally | undefined;
  const foldRequestTallies = (): void => {
    for (const t of requestTallies.values()) {
      if (t.pending === 0) continue;
      t.child.inc(t.pending);
      t.pending = 0;
    }
  };
  const m: GatewayMetrics = {
    registry,
    requests: new Counter({
      name: 'mcp_gateway_requests_total',
      help: 'Requests answered on the MCP port, by JSON-RPC method, tool (tools/call only) and HTTP status.',
      labelNames: ['method', 'tool', 'status'],
      registers,
      collect: foldRequestTallies,
    }),
    requestDuration: new DurationHistogram({
      name: 'mcp_gateway_request_duration_seconds',
      help: 'Time from request arrival to response headers, by JSON-RPC method.',
      label: 'method',
      // From sub-millisecond proxying to tools that run for minutes.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registry,
    }),
    sessionsActive: new Gauge({
      name: 'mcp_gateway_sessions_active',
      help: 'Sessions bound per backend, as the session store counts them (global with Redis, per replica in memory).',
      labelNames: ['backend'],
      registers,
      // --workers: every worker reads the same count from the store; the admin port shows it once, not N times.
      aggregator: 'max',
      // Counted when scraped, so a scrape never shows a stale count.
      async collect() {
        await m.collectSessions?.();
      },
    }),
    sessionsCreated: new Counter({
      name: 'mcp_gateway_sessions_created_total',
      help: 'Sessions this replica bound to a backend.',
      labelNames: ['backend'],
      registers,
    }),
    sessionsLost: new Counter({
      name: 'mcp_gateway_sessions_lost_total',
      help: 'Sessions that ended without a DELETE, or were refused, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    sessionMisses: new Counter({
      name: 'mcp_gateway_session_misses_total',
      help: 'Requests naming a session no replica knows (expired, deleted, lost earlier, or made up); answered 404.',
      registers,
    }),
    sessionBackendUnseen: new Counter({
      name: 'mcp_gateway_session_backend_unseen_total',
      help: "Requests of a session another replica bound moments ago to a backend this replica's discovery has not shown yet; answered 503 with Retry-After, the binding kept.",
      registers,
    }),
    sessionRecoveries: new Counter({
      name: 'mcp_gateway_session_recoveries_total',
      help: 'Sessions no replica knew, looked for on the backends with a ping: recovered, not_found, ambiguous, busy (cap reached), failed.',
      labelNames: ['result'],
      registers,
    }),
    sessionsResumed: new Counter({
      name: 'mcp_gateway_sessions_resumed_total',
      help: 'Sessions of a lost backend (--session-resume reinitialize): resumed on another backend; the request that found it lost replayed there, or not_replayed (answered "may or may not have run"); failed resume attempts (404 when the session cannot be resumed, else 503 and tried again).',
      labelNames: ['outcome'],
      registers,
    }),
    sessionWriteBacks: new Counter({
      name: 'mcp_gateway_session_writebacks_total',
      help: 'Bindings this replica wrote back after the session store lost its data (restart, flush).',
      registers,
    }),
    sessionWriteBacksDropped: new Counter({
      name: 'mcp_gateway_session_writeback_dropped_total',
      help: 'Bindings made during a session store outage that were dropped from the write-back queue because it was full (the cache size).',
      registers,
    }),
    limitRejections: new Counter({
      name: 'mcp_gateway_limit_rejections_total',
      help: 'Requests and connections refused by a limit (header size/count, slow request, connection cap, body size).',
      labelNames: ['limit'],
      registers,
    }),
    streamsOpen: new Gauge({
      name: 'mcp_gateway_streams_open',
      help: 'SSE streams this replica is relaying now.',
      registers,
      collect() {
        this.set(openStreams);
      },
    }),
    streamOpened() {
      openStreams++;
    },
    streamClosed() {
      openStreams--;
    },
    streamsCredentialExpired: new Counter({
      name: 'mcp_gateway_streams_credential_expired_total',
      help: "Listening streams this replica ended because the caller's token expired (the client reconnects with a fresh one).",
      registers,
    }),
    backendUp: new Gauge({
      name: 'mcp_gateway_backend_up',
      help: '1 when this replica has the backend in rotation (state serving), 0 when ejected or lost.',
      labelNames: ['backend'],
      registers,
      // --workers: 1 when a worker of this replica considers it healthy (each probes on its own).
      aggregator: 'max',
    }),
    backendState: new Gauge({
      name: 'mcp_gateway_backend_state',
      help: "This replica's health verdict on the backend: 1 for the current state (serving, ejected, lost), 0 for the others.",
      labelNames: ['backend', 'state'],
      registers,
    }),
    backendEjections: new Counter({
      name: 'mcp_gateway_backend_ejections_total',
      help: 'Times this replica took the backend out of rotation on suspicion (its sessions stay bound), by cause.',
      labelNames: ['backend', 'cause'],
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'mcp_gateway_upstream_errors_total',
      help: 'Failed exchanges with backends, by kind (connect, timeout, reset, local: the gateway\'s own failure, other).',
      labelNames: ['backend', 'kind'],
      registers,
    }),
    storeDuration: new Histogram({
      name: 'mcp_gateway_session_store_duration_seconds',
      help: 'Session store operation latency.',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    storeErrors: new Counter({
      name: 'mcp_gateway_session_store_errors_total',
      help: 'Session store operations that failed or timed out.',
      labelNames: ['operation'],
      registers,
    }),
    collectSessions: undefined,
    authFailures: new Counter({
      name: 'mcp_gateway_auth_failures_total',
      help: 'Requests the auth layer refused (401, 403, 400 invalid_request, 503 authorization server unreachable), by reason.',
      labelNames: ['reason'],
      registers,
    }),
    countRequest(method, tool, status, seconds) {
      // The last label set first, by equality: the key below is a new string, and a Map lookup with one
      // costs V8 an internalization (issue 17). Consecutive responses usually share their labels.
      let tally = lastTally;
      if (tally === undefined || tally.status !== status || tally.method !== method || tally.tool !== tool) {
        const key = `${method}\u0000${tool}\u0000${status}`;
        tally = requestTallies.get(key);
        if (!tally) {
          // Label values are bounded (labels.ts, tool-names.ts), so is this map; the guard is belt and braces.
          if (requestTallies.size >= MAX_CACHED_CHILDREN) {
            foldRequestTallies();
            requestTallies.clear();
          }
          tally = { method, tool, status, child: m.requests.labels(method, tool, String(status)), pending: 0 };
          requestTallies.set(key, tally);
        }
        lastTally = tally;
      }
      tally.pending++;
      m.requestDuration.observe(tally.method, seconds);
    },
    addBackend(id) {
      m.sessionsCreated.inc({ backend: id }, 0);
      m.sessionsActive.set({ backend: id }, 0);
      for (const kind of UPSTREAM_FAILURE_KINDS) m.upstreamErrors.inc({ backend: id, kind }, 0);
      for (const cause of EJECTION_CAUSES) m.backendEjections.inc({ backend: id, cause }, 0);
    },
    removeBackend(id) {
      m.sessionsCreated.remove({ backend: id });
      m.sessionsActive.remove({ backend: id });
      m.backendUp.remove({ backend: id });
      for (const kind of UPSTREAM_FAILURE_KINDS) m.upstreamErrors.remove({ backend: id, kind });
      for (const cause of EJECTION_CAUSES) m.backendEjections.remove({ backend: id, cause });
      for (const state of BACKEND_STATES) m.backendState.remove({ backend: id, state });
    },
    setBackendState(id, current) {
      for (const state of BACKEND_STATES) m.backendState.set({ backend: id, state }, state === current ? 1 : 0);
      m.backendUp.set({ backend: id }, current === 'serving' ? 1 : 0);
    },
  };
  for (const reason of SESSION_LOSS_REASONS) m.sessionsLost.inc({ reason }, 0);
  for (const operation of STORE_OPERATIONS) m.storeErrors.inc({ operation }, 0);
  for (const limit of LIMITS) m.limitRejections.inc({ limit }, 0);
  for (const result of RECOVERY_RESULTS) m.sessionRecoveries.inc({ result }, 0);
  for (const outcome of RESUME_OUTCOMES) m.sessionsResumed.inc({ outcome }, 0);
  for (const reason of AUTH_FAILURE_REASONS) m.authFailures.inc({ reason }, 0);
  return m;
}
