// Limits enforced below the request handler, on the HTTP connection itself: header size and count, slow
// headers and slow bodies (slowloris), and a cap on open connections with graceful shedding. Each answers a
// JSON-RPC error with the status RFC 9110 gives it (408, 431, 503) and is counted, instead of Node's plain
// text default or a silently dropped socket.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { GatewayError, jsonRpcErrorBody, type GatewayErrorCode } from '../errors.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';

export interface ConnectionLimits {
  maxHeaderBytes: number;
  maxHeaderCount: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

/** node:http options for the listener (passed through Fastify's `http` option). */
export function serverOptions(l: ConnectionLimits) {
  return {
    maxHeaderSize: l.maxHeaderBytes,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    // How often Node checks the two timeouts above; its default (30 s) would let a slow client stay far
    // longer than configured.
    connectionsCheckingInterval: Math.max(250, Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4),
  };
}

/** Writes a whole HTTP/1.1 error response on a raw socket and closes it. */
function answerOnSocket(socket: Socket, code: GatewayErrorCode, detail?: string): void {
  if (socket.destroyed || !socket.writable) return;
  const err = new GatewayError(code, detail);
  const body = jsonRpcErrorBody(err, null);
  const retry = err.retryAfter !== undefined ? `Retry-After: ${err.retryAfter}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable' };

/** Fastify's clientErrorHandler: what Node's HTTP parser rejects, answered JSON-RPC shaped. */
export function clientErrorHandler(metrics: GatewayMetrics, maxHeaderCount: number) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    // A reset connection has nobody left to answer (Node docs, event 'clientError').
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    switch (err.code) {
      case 'HPE_HEADER_OVERFLOW':
        // Node 26 reports too many fields (past server.maxHeadersCount) with the same code as too many bytes.
        metrics.limitRejections.inc({ limit: headerLines((err as { rawPacket?: unknown }).rawPacket) > maxHeaderCount ? 'header_count' : 'header_bytes' });
        return answerOnSocket(socket, 'HEADERS_TOO_LARGE');
      case 'ERR_HTTP_REQUEST_TIMEOUT':
        metrics.limitRejections.inc({ limit: 'request_timeout' });
        return answerOnSocket(socket, 'REQUEST_TIMEOUT');
      default:
        metrics.limitRejections.inc({ limit: 'malformed_http' });
        return answerOnSocket(socket, 'BAD_REQUEST', 'malformed HTTP request');
    }
  };
}

/**
 * Counts open connections. Past the cap a new connection is marked: its requests get 503 with Retry-After
 * and Connection: close (graceful shedding: a client can tell "busy" from "down"), while existing
 * connections, with their streams, carry on.
 */
export class ConnectionCap {
  readonly #open = new Set<Socket>();
  readonly #shed = new WeakSet<Socket>();
  readonly #cap: number;

  constructor(server: Server, cap: number) {
    this.#cap = cap;
    server.on('connection', (socket: Socket) => {
      if (this.#cap > 0 && this.#open.size >= this.#cap) {
        this.#shed.add(socket);
        return;
      }
      this.#open.add(socket);
      socket.once('close', () => this.#open.delete(socket));
    });
  }

  get open(): number {
    return this.#open.size;
  }

  /** This connection came in over the cap: answer 503 and close it. */
  isShed(socket: Socket): boolean {
    return this.#shed.has(socket);
  }
}

/** Header field lines in the start of a raw request (the request line and the blank line not counted). */
function headerLines(raw: unknown): number {
  if (!Buffer.isBuffer(raw)) return 0;
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return (end < 0 ? text : text.slice(0, end)).split('\r\n').length - 1;
}

/** The header-count limit: Node only truncates, so the listener keeps one more than the limit and we look. */
export function tooManyHeaders(rawHeaders: string[], max: number): boolean {
  return rawHeaders.length / 2 > max;
}
