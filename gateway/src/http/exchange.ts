// One request/response pair on the MCP port, from arrival to the last byte: it collects what the request
// turned out to be (JSON-RPC method, tool, session, backend, status) and, when the response is over,
// records the metrics and writes the request's one log line. Payloads are never logged.
import type { ServerResponse } from 'node:http';
import type { AccessLog } from './access-log.ts';
import { sendGatewayError, type GatewayError, type JsonRpcId } from '../errors.ts';
import type { JsonRpcPeek } from '../mcp/jsonrpc.ts';
import { methodLabel } from '../metrics/labels.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { ToolNames } from '../metrics/tool-names.ts';
import { shortId } from '../routing/session-directory.ts';
import { accountLater, type Accountable } from './response-accounting.ts';
import type { RequestSpan, RequestTracing } from '../tracing/tracing.ts';
import type { TrafficWindow } from '../admin/traffic-window.ts';

export interface ExchangeDeps {
  metrics: GatewayMetrics;
  toolNames: ToolNames;
  /** The status page's last-minute figures per backend and era (admin/traffic-window.ts). */
  traffic?: TrafficWindow | undefined;
}

/** An exchange's facts when its response ended (`status` 0: none was sent; times in milliseconds). */
interface FinalFacts {
  status: number;
  latencyMs: number;
  ms: number;
  rpcMethod: string | undefined;
  isResponseOnly: boolean;
  tool: string | undefined;
  sessionId: string | undefined;
  taskId: string | undefined;
  backend: string | undefined;
  route: string | undefined;
  errorCode: string | undefined;
  outcome: string | undefined;
  authFailure: string | undefined;
}

export class Exchange implements Accountable {
  readonly res: ServerResponse;
  readonly httpMethod: string;
  readonly #deps: ExchangeDeps;
  readonly #log: AccessLog;
  readonly #reqId: string;
  readonly span: RequestSpan;
  readonly #start = performance.now();
  #headersAt: number | undefined;
  rpcId: JsonRpcId | undefined;
  rpcMethod: string | undefined;
  tool: string | undefined;
  isResponseOnly = false;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  /** The task a tasks/* request names, or the one a response created (Tasks extension). */
  taskId: string | undefined;
  backend: string | undefined;
  route: string | undefined;
  errorCode: string | undefined;
  outcome: string | undefined;
  /**
   * When the caller's credential stops validating (its expiry plus the tolerated clock skew, epoch ms); a
   * listening stream is ended then, so that a stream outlives no token (auth on, credentials that expire).
   */
  credentialDeadline: number | undefined;
  /** Why the auth layer refused the request, for the log line (never the token). */
  authFailure: string | undefined;
  #finished = false;
  /** What the response turned out to be, taken when it ended (accounted in a batch after that). */
  #final: FinalFacts | undefined = undefined;
  readonly #onClose: Array<(finished: boolean) => void> = [];

  constructor(httpMethod: string, reqId: string, res: ServerResponse, accessLog: AccessLog, deps: ExchangeDeps, span: RequestSpan) {
    this.httpMethod = httpMethod;
    this.res = res;
    this.#log = accessLog;
    this.#reqId = reqId;
    this.#deps = deps;
    this.span = span;
    // One 'close' listener for everything that must happen when the response is over or the client left
    // ('close' comes once: no once() wrapper). A callback registered by another one still runs.
    res.on('close', () => {
      const finished = res.writableFinished;
      const fns = this.#onClose;
      for (let i = 0; i < fns.length; i++) (fns[i] as (finished: boolean) => void)(finished);
      fns.length = 0;
      this.#finish();
    });
  }

  /** Runs once the response is over (`finished`) or the client went away before that. */
  onClose(fn: (finished: boolean) => void): void {
    if (this.#finished) fn(this.res.writableFinished);
    else this.#onClose.push(fn);
  }

  setPeek(peek: JsonRpcPeek): void {
    this.rpcId = peek.id;
    this.rpcMethod = peek.method;
    this.isResponseOnly = peek.method === undefined;
    if (peek.method === 'tools/call') this.tool = peek.name;
    this.protocolVersion ??= peek.protocolVersion;
  }

  /** 2026-07-28: method and tool as the Mcp-Method / Mcp-Name headers name them (the body is not parsed). */
  setHeaderFacts(method: string, name: string | undefined): void {
    this.rpcMethod = method;
    if (method === 'tools/call') this.tool = name;
  }

  /** Response headers are about to go out: the request-duration metric stops here. */
  markHeaders(): void {
    this.#headersAt ??= performance.now();
  }

  /** Answers with the gateway's own JSON-RPC error (or cuts a response already under way). */
  fail(err: GatewayError): void {
    this.errorCode = err.code;
    this.markHeaders();
    sendGatewayError(this.res, err, this.rpcId);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    // The client left before the response was over (its upstream request was aborted by the same event).
    if (!this.res.writableFinished && this.outcome === undefined && this.errorCode === undefined) this.outcome = 'client-closed';
    const endedAt = performance.now();
    const headersAt = this.#headersAt ?? endedAt;
    // The facts as they stand now: what the routes set after the response ended is not the response's.
    this.#final = {
      status: this.res.headersSent ? this.res.statusCode : 0,
      latencyMs: headersAt - this.#start,
      ms: Math.round((endedAt - this.#start) * 100) / 100,
      rpcMethod: this.rpcMethod,
      isResponseOnly: this.isResponseOnly,
      tool: this.tool,
      sessionId: this.sessionId,
      taskId: this.taskId,
      backend: this.backend,
      route: this.route,
      errorCode: this.errorCode,
      outcome: this.outcome,
      authFailure: this.authFailure,
    };
    // The span ends now (its end time is the response's); the rest is bookkeeping, done in a batch.
    if (this.span.recording) this.#endSpan(this.#final.status);
    accountLater(this);
  }

  /** Metrics, traffic window and access line for the finished response (http/response-accounting.ts). */
  account(): void {
    const f = this.#final;
    if (!f) return;
    const { status, latencyMs } = f;
    const method = methodLabel(this.httpMethod, f.rpcMethod, f.isResponseOnly);
    this.#deps.metrics.countRequest(method, this.#deps.toolNames.label(f.tool), status, latencyMs / 1000);
    this.#deps.traffic?.record({ backend: f.backend, route: f.route, status, latencyMs, clientClosed: f.outcome === 'client-closed' });
    if (this.#log.enabled) {
      this.#log.write({
        reqId: this.#reqId,
        http: this.httpMethod,
        method: f.rpcMethod?.slice(0, 64),
        status,
        ms: f.ms,
        // the client answering a server request (sampling, …)
        rpc: f.isResponseOnly ? 'response' : undefined,
        tool: f.tool?.slice(0, 64),
        sessionId: f.sessionId,
        taskId: f.taskId,
        backend: f.backend,
        route: f.route,
        error: f.errorCode,
        outcome: f.outcome,
        auth: f.authFailure,
      });
    }
  }

  #endSpan(status: number): void {
    this.span.end({
      httpMethod: this.httpMethod,
      rpcMethod: this.rpcMethod?.slice(0, 64),
      tool: this.tool === undefined ? undefined : this.#deps.toolNames.label(this.tool),
      rpcId: this.rpcId,
      sessionShort: this.sessionId === undefined ? undefined : shortId(this.sessionId),
      protocolVersion: this.protocolVersion,
      backend: this.backend,
      status,
      errorCode: this.errorCode,
    });
  }
}

/**
 * Answers a request the gateway refuses before routing it (shutdown, connection cap, header limits, origin,
 * auth, 404, 405, 413, 415) with its JSON-RPC error, through an Exchange: counted in
 * mcp_gateway_requests_total and logged like every other answer, in the one place that does both.
 */
export function refuseAtEdge(
  deps: ExchangeDeps & { accessLog: AccessLog; tracing: RequestTracing },
  request: { method: string; id: string; headers: Record<string, unknown> },
  res: ServerResponse,
  err: GatewayError,
  authFailure?: string,
): void {
  const ex = new Exchange(request.method, request.id, res, deps.accessLog, deps, deps.tracing.start(request.headers));
  ex.authFailure = authFailure;
  ex.fail(err);
}
