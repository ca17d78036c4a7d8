// Sends one request to one backend through its pool and resolves when the response headers arrive. The
// body (if any) was already read and checked at the edge; it goes out with an exact Content-Length.
// undici's dispatch API with a handler of our own: no Readable, no abort signal per request (issue 17).
import type { IncomingHttpHeaders } from 'node:http';
import { errors, type Dispatcher } from 'undici';
import type { Backend } from '../backends/backend.ts';
import type { RequestSpan } from '../tracing/tracing.ts';
import type { ClientAbort } from './client-abort.ts';
import { UpstreamBody } from './upstream-body.ts';

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS';
  headers: Record<string, string | string[]>;
  body: Buffer | undefined;
  /** Fires when the client goes away: the backend request is aborted. */
  clientAbort: ClientAbort;
  /** Path and query on the backend; the backend's MCP endpoint when absent. */
  path?: string;
  /** The request's trace span: each attempt gets a CLIENT span and its traceparent. */
  trace?: RequestSpan;
}

/** A backend's answer once its head arrived; the body follows (proxy/upstream-body.ts). */
export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
}

export function sendUpstream(backend: Backend, req: UpstreamRequest, headersTimeoutMs: number): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    if (req.clientAbort.aborted) return reject(new errors.RequestAbortedError());
    const handler = new ResponseHandler(resolve, reject);
    handler.stopListening = req.clientAbort.onAbort(() => handler.abort(new errors.RequestAbortedError()));
    try {
      backend.pool.dispatch(
      {
        method: req.method,
        path: req.path ?? backend.path,
        headers: req.headers,
        body: req.body ?? null,
        headersTimeout: headersTimeoutMs,
        bodyTimeout: 0,
        // An MCP POST may be answered by a long SSE stream: never queue another request behind it.
        blocking: true,
      },
      handler,
    );
    } catch (err) {
      handler.stopListening();
      reject(err);
    }
  });
}

class ResponseHandler implements Dispatcher.DispatchHandler {
  #resolve: ((r: UpstreamResponse) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #abortedWith: Error | undefined;
  #body: UpstreamBody | undefined;
  stopListening: () => void = noop;

  constructor(resolve: (r: UpstreamResponse) => void, reject: (err: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** The client went away: before the request started, it never will (undici calls onRequestStart). */
  abort(err: Error): void {
    if (this.#controller) this.#controller.abort(err);
    else this.#abortedWith = err;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortedWith) controller.abort(this.#abortedWith);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the real head follows
    const resolve = this.#resolve;
    if (!resolve) return;
    this.#resolve = this.#reject = undefined;
    this.#body = new UpstreamBody(controller);
    resolve({ statusCode, headers, body: this.#body });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#body?.push(chunk);
  }

  onResponseEnd(): void {
    this.stopListening();
    this.#body?.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.stopListening();
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    if (reject) reject(err);
    else this.#body?.fail(err);
  }
}

const noop = (): void => undefined;
