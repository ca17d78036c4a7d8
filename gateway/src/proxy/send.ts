// Sends one request to one backend through its pool and resolves when the response headers arrive. The
// body (if any) was already read and checked at the edge; it goes out with an exact Content-Length.
import type { Dispatcher } from 'undici';
import type { Backend } from '../backends/backend.ts';
import type { RequestSpan } from '../tracing/tracing.ts';

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS';
  headers: Record<string, string | string[]>;
  body: Buffer | undefined;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Path and query on the backend; the backend's MCP endpoint when absent. */
  path?: string;
  /** The request's trace span: each attempt gets a CLIENT span and its traceparent. */
  trace?: RequestSpan;
}

export function sendUpstream(backend: Backend, req: UpstreamRequest, headersTimeoutMs: number): Promise<Dispatcher.ResponseData> {
  return backend.pool.request({
    method: req.method,
    path: req.path ?? backend.path,
    headers: req.headers,
    body: req.body ?? null,
    signal: req.signal,
    headersTimeout: headersTimeoutMs,
    bodyTimeout: 0,
    // An MCP POST may be answered by a long SSE stream: never queue another request behind it.
    blocking: true,
  });
}
