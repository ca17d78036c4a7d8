// Streams a backend's response to the client: headers as the backend sent them (minus hop-by-hop), the
// body piped with backpressure (a slow client pauses the backend socket). SSE is never buffered, gets no
// body timeout, and gets keep-alive comments while idle; a JSON body gets an idle timer, so a backend that
// goes silent mid-body cannot hold a request forever. A client that goes away destroys the upstream body,
// which aborts the backend request.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { SseKeepAlive } from '../mcp/sse-keepalive.ts';
import { discardBody } from './discard.ts';
import { downstreamHeaders } from './headers.ts';

export interface RelayOptions {
  sseKeepAliveMs: number;
  bodyIdleTimeoutMs: number;
  /** Headers to add or override; undefined values remove. */
  overrideHeaders?: OutgoingHttpHeaders;
  /** An SSE stream opened; `stop` ends it cleanly (graceful shutdown). */
  onStreamOpen?: (stop: () => void) => void;
  onStreamClose?: () => void;
  /** Sees SSE bytes as they pass. Must not modify them. */
  sseTap?: SseKeepAlive['tap'];
  /**
   * A filter the body passes through before anything else (given whether the response is SSE): the legacy
   * endpoint rewrite, the task-handle watch. Its output is what the client receives.
   */
  bodyFilter?: (sse: boolean) => Transform | undefined;
}

export type RelayOutcome = { result: 'complete' } | { result: 'client-closed' } | { result: 'upstream-failed'; error: unknown };

export function isEventStream(headers: Record<string, string | string[] | undefined>): boolean {
  const ct = headers['content-type'];
  const v = Array.isArray(ct) ? ct[0] : ct;
  return v !== undefined && v.toLowerCase().startsWith('text/event-stream');
}

export async function relayResponse(upstream: Dispatcher.ResponseData, res: ServerResponse, opts: RelayOptions): Promise<RelayOutcome> {
  const sse = isEventStream(upstream.headers);
  const headers = downstreamHeaders(upstream.headers);
  // Tell any proxy in front of us not to buffer the stream either (the MCP transport spec recommends it).
  if (sse) headers['x-accel-buffering'] = 'no';
  for (const [k, v] of Object.entries(opts.overrideHeaders ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  res.writeHead(upstream.statusCode, headers);
  const filter = opts.bodyFilter?.(sse);
  if (!sse) return relayBody(upstream.body, filter, res, opts.bodyIdleTimeoutMs);

  res.flushHeaders(); // the client learns at once that its stream is open
  const keepAlive = new SseKeepAlive(opts.sseKeepAliveMs);
  if (opts.sseTap) keepAlive.tap = opts.sseTap;
  try {
    return await relayStream(upstream.body, filter, keepAlive, res, opts);
  } finally {
    opts.onStreamClose?.();
  }
}

/** A bounded response (JSON, 202, errors): pipeline with an idle timer on the backend's side. */
async function relayBody(body: Readable, filter: Transform | undefined, res: ServerResponse, idleMs: number): Promise<RelayOutcome> {
  let clientClosed = false;
  const onClose = () => {
    if (!res.writableFinished) clientClosed = true;
  };
  res.once('close', onClose);
  const idle = setTimeout(() => {
    body.destroy(Object.assign(new Error('backend went silent inside a response body'), { code: 'GW_BODY_IDLE_TIMEOUT' }));
  }, idleMs);
  idle.unref();
  body.on('data', () => idle.refresh());
  try {
    await (filter ? pipeline(body, filter, res) : pipeline(body, res));
    return { result: 'complete' };
  } catch (error) {
    return clientClosed ? { result: 'client-closed' } : { result: 'upstream-failed', error };
  } finally {
    clearTimeout(idle);
    res.off('close', onClose);
  }
}

/**
 * A stream (SSE): piped by hand rather than with pipeline(), so that a graceful stop can end the client's
 * response cleanly (terminating chunk, clients reconnect and resume) instead of tearing it down.
 */
function relayStream(body: Readable, filter: Transform | undefined, keepAlive: SseKeepAlive, res: ServerResponse, opts: RelayOptions): Promise<RelayOutcome> {
  return new Promise((resolve) => {
    let outcome: RelayOutcome | undefined;
    let stopping = false;
    const settle = (o: RelayOutcome) => (outcome ??= o);
    const fail = (error: unknown) => {
      if (stopping) return;
      // The backend broke the stream (or a filter refused it): cut the client's too, so it notices and can
      // resume elsewhere.
      settle({ result: 'upstream-failed', error });
      filter?.destroy();
      keepAlive.destroy();
      res.destroy();
      discardBody(body);
    };
    body.on('error', fail);
    filter?.on('error', fail);
    res.on('error', () => undefined); // the client's socket failing is reported through 'close'
    res.once('close', () => {
      if (!res.writableFinished) {
        settle({ result: 'client-closed' });
        discardBody(body);
        filter?.destroy();
        keepAlive.destroy();
      }
      resolve(settle({ result: 'complete' }));
    });
    const source = filter ? body.pipe(filter) : body;
    opts.onStreamOpen?.(() => {
      stopping = true;
      source.unpipe(keepAlive);
      discardBody(body);
      filter?.destroy();
      keepAlive.end();
    });
    source.pipe(keepAlive).pipe(res);
  });
}
