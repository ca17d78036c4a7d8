// The one place that maps a failure to an HTTP status and a JSON-RPC error object. Every error the gateway
// itself answers at the MCP edge goes through here: never plain text, never a stack trace.
import type { ServerResponse } from 'node:http';

/** JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification#error_object) and MCP's conventions. */
export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  INTERNAL_ERROR: -32603,
  /** Implementation-defined server error, used by the MCP SDK for transport-level rejections. */
  SERVER_ERROR: -32000,
  /** MCP Streamable HTTP: an unknown or expired session (answered with HTTP 404). */
  SESSION_NOT_FOUND: -32001,
  /** MCP 2026-07-28 Streamable HTTP, "Server Validation": headers disagree with the body (HTTP 400). */
  HEADER_MISMATCH: -32020,
  /**
   * --session-resume (issue 16): the session's backend was lost while this request was on its way, the
   * session was resumed on another backend, and the request was not sent again because it may have run
   * already and running it twice may not be safe. It may or may not have run; the session lives on.
   */
  OUTCOME_UNKNOWN: -32010,
} as const;

export type JsonRpcId = string | number | null;

interface ErrorKind {
  status: number;
  rpc: number;
  message: string;
  /** Seconds for Retry-After, where a retry helps. */
  retryAfter?: number;
}

/** Stable codes: tests, logs and metrics key on these, never on message text. */
export const ERROR_KINDS = {
  PARSE_ERROR: { status: 400, rpc: RPC.PARSE_ERROR, message: 'Parse error: the body is not valid JSON' },
  INVALID_REQUEST: { status: 400, rpc: RPC.INVALID_REQUEST, message: 'Invalid Request: not a JSON-RPC 2.0 message' },
  HEADER_MISMATCH: { status: 400, rpc: RPC.HEADER_MISMATCH, message: 'Header mismatch' },
  INVALID_SESSION_ID: { status: 400, rpc: RPC.SERVER_ERROR, message: 'Bad Request: invalid Mcp-Session-Id header' },
  BAD_REQUEST: { status: 400, rpc: RPC.SERVER_ERROR, message: 'Bad Request' },
  /** RFC 6750 §3.1 invalid_request: the Authorization header (or a token in the query) is malformed. */
  INVALID_AUTH_REQUEST: { status: 400, rpc: RPC.SERVER_ERROR, message: 'Bad Request: malformed authorization' },
  /** RFC 6750 §3: no credentials (or another scheme than Bearer): the challenge carries no error code. */
  AUTH_REQUIRED: { status: 401, rpc: RPC.SERVER_ERROR, message: 'Unauthorized: a bearer token is required' },
  /** RFC 6750 §3.1 invalid_token: expired, revoked, malformed, or not issued for this resource. */
  INVALID_TOKEN: { status: 401, rpc: RPC.SERVER_ERROR, message: 'Unauthorized: the access token is not valid here' },
  /** RFC 6750 §3.1 insufficient_scope; MCP authorization "Scope Challenge Handling" (step-up). */
  INSUFFICIENT_SCOPE: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden: the access token lacks a required scope' },
  FORBIDDEN_ORIGIN: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden' },
  SESSION_NOT_FOUND: { status: 404, rpc: RPC.SESSION_NOT_FOUND, message: 'Session not found' },
  NOT_FOUND: { status: 404, rpc: RPC.SERVER_ERROR, message: 'Not Found' },
  METHOD_NOT_ALLOWED: { status: 405, rpc: RPC.SERVER_ERROR, message: 'Method Not Allowed' },
  NOT_ACCEPTABLE: { status: 406, rpc: RPC.SERVER_ERROR, message: 'Not Acceptable' },
  BODY_TOO_LARGE: { status: 413, rpc: RPC.SERVER_ERROR, message: 'Payload Too Large' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    rpc: RPC.SERVER_ERROR,
    message: 'Unsupported Media Type: Content-Type must be application/json',
  },
  REQUEST_TIMEOUT: { status: 408, rpc: RPC.SERVER_ERROR, message: 'Request Timeout: the request did not arrive in time' },
  TOO_MANY_REQUESTS: { status: 429, rpc: RPC.SERVER_ERROR, message: 'Too Many Requests', retryAfter: 1 },
  HEADERS_TOO_LARGE: { status: 431, rpc: RPC.SERVER_ERROR, message: 'Request Header Fields Too Large' },
  INTERNAL: { status: 500, rpc: RPC.INTERNAL_ERROR, message: 'Internal error' },
  UPSTREAM_ERROR: { status: 502, rpc: RPC.INTERNAL_ERROR, message: 'Bad Gateway: the backend failed', retryAfter: 1 },
  NO_BACKEND: { status: 503, rpc: RPC.INTERNAL_ERROR, message: 'Service Unavailable: no live backend', retryAfter: 2 },
  STORE_UNAVAILABLE: {
    status: 503,
    rpc: RPC.INTERNAL_ERROR,
    message: 'Service Unavailable: the session store cannot be reached',
    retryAfter: 1,
  },
  SESSION_CAPACITY: {
    status: 503,
    rpc: RPC.INTERNAL_ERROR,
    message: 'Service Unavailable: the gateway holds as many sessions as it may',
    retryAfter: 5,
  },
  TOO_MANY_CONNECTIONS: {
    status: 503,
    rpc: RPC.INTERNAL_ERROR,
    message: 'Service Unavailable: the gateway holds as many connections as it may',
    retryAfter: 1,
  },
  AUTH_UNAVAILABLE: {
    status: 503,
    rpc: RPC.INTERNAL_ERROR,
    message: 'Service Unavailable: the authorization server cannot be reached to validate the token',
    retryAfter: 2,
  },
  /** Another gateway replica bound the session to a backend (a new pod) this replica has not discovered yet. */
  BACKEND_NOT_YET_SEEN: {
    status: 503,
    rpc: RPC.INTERNAL_ERROR,
    message: "Service Unavailable: the session's backend is not yet known to this gateway replica",
    retryAfter: 1,
  },
  /**
   * The session's backend is out of rotation (suspected: timing out, stalled, refusing) and did not answer
   * again within --backend-wait. The session is kept: retrying later is right, re-initializing is not.
   */
  BACKEND_EJECTED: {
    status: 503,
    rpc: RPC.INTERNAL_ERROR,
    message: "Service Unavailable: the session's backend is not answering; the session is kept, retry later",
    retryAfter: 2,
  },
  /** The gateway's own failure (no ephemeral port or file descriptor left, its resolver down): not the backend's. */
  LOCAL_RESOURCES: {
    status: 503,
    rpc: RPC.INTERNAL_ERROR,
    message: 'Service Unavailable: the gateway could not open a connection to the backend',
    retryAfter: 1,
  },
  SHUTTING_DOWN: { status: 503, rpc: RPC.INTERNAL_ERROR, message: 'Service Unavailable: the gateway is shutting down', retryAfter: 1 },
  UPSTREAM_TIMEOUT: { status: 504, rpc: RPC.INTERNAL_ERROR, message: 'Gateway Timeout: the backend did not answer in time', retryAfter: 1 },
} as const satisfies Record<string, ErrorKind>;

export type GatewayErrorCode = keyof typeof ERROR_KINDS;

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly rpcCode: number;
  readonly retryAfter: number | undefined;
  /** Extra response headers, e.g. Allow for 405. */
  readonly headers: Record<string, string>;
  /** The id of the request that failed, when it is known (echoed in the error). */
  readonly rpcId: JsonRpcId | undefined;

  constructor(
    code: GatewayErrorCode,
    detail?: string,
    options?: { cause?: unknown; headers?: Record<string, string>; rpcId?: JsonRpcId; retryAfter?: number },
  ) {
    const kind: ErrorKind = ERROR_KINDS[code];
    super(detail ? `${kind.message}: ${detail}` : kind.message, options?.cause ? { cause: options.cause } : undefined);
    this.name = 'GatewayError';
    this.code = code;
    this.status = kind.status;
    this.rpcCode = kind.rpc;
    this.retryAfter = options?.retryAfter ?? kind.retryAfter;
    this.headers = options?.headers ?? {};
    this.rpcId = options?.rpcId;
  }
}

export function jsonRpcErrorBody(err: GatewayError, id: JsonRpcId | undefined): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    // The request's id when it is known (JSON-RPC 2.0 §5: null only when it cannot be determined).
    id: id ?? null,
    error: { code: err.rpcCode, message: err.message, data: { reason: err.code.toLowerCase() } },
  });
}

/** Writes the error as the whole response; a response already under way is cut instead. */
export function sendGatewayError(res: ServerResponse, err: GatewayError, id?: JsonRpcId): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const body = jsonRpcErrorBody(err, id);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...err.headers,
  };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  res.writeHead(err.status, headers);
  res.end(body);
}

/** Any thrown value as a GatewayError; unknown failures become INTERNAL without leaking their text. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('INTERNAL', undefined, { cause: err });
}
