// Streams a backend's response to the client: headers as the backend sent them (minus hop-by-hop), the
// body piped with backpressure (a slow client pauses the backend socket). SSE is never buffered, gets no
// body timeout, and gets keep-alive comments while idle; a JSON body gets an idle timer, so a backend that
// goes silent mid-body cannot hold a request forever. A client that goes away destroys the upstream body,
// which aborts the backend request.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { EventBoundary, KEEP_ALIVE_COMMENT, keepAliveWheel, type SseKeepAlive } from '../mcp/sse-keepalive.ts';
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
   * SSE only (session resume, issue 16): when the backend breaks the stream, what the client gets instead
   * of a cut: SSE text to end the stream with, or another SSE body to continue it (its events follow),
   * or undefined to cut it after all. The outcome still says the upstream failed.
   */
  sseContinue?: (error: unknown) => Promise<Readable | string | undefined>;
  /** Sees the bytes of a non-streaming body as they pass. Must not modify them. */
  bodyTap?: (chunk: Buffer) => void;
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
  const override = opts.overrideHeaders;
  if (override) {
    for (const k in override) {
      const v = override[k];
      if (v === undefined) delete headers[k];
      else headers[k] = v;
    }
  }
  res.writeHead(upstream.statusCode, headers);
  const filter = opts.bodyFilter?.(sse);
  if (!sse) return filter ? relayFiltered(upstream.body, filter, res, opts.bodyIdleTimeoutMs) : relayBody(upstream.body, res, opts.bodyIdleTimeoutMs, opts.bodyTap);

  res.flushHeaders(); // the client learns at once that its stream is open
  try {
    return await relayStream(upstream.body, filter, res, opts);
  } finally {
    opts.onStreamClose?.();
  }
}

/**
 * A bounded response (JSON, 202, errors), piped by hand with an idle timer. Not stream.pipeline(): for the
 * small bodies of the hot path its bookkeeping (an AbortController per call, aborted on finish, which
 * builds a DOMException) cost ~5% of the gateway's busy CPU in the steady scenario (bench/ CPU profile).
 * Same contract: backpressure, the upstream body destroyed when the client goes away, the client's
 * response destroyed when the upstream body fails.
 */
function relayBody(body: Readable, res: ServerResponse, idleMs: number, tap?: (chunk: Buffer) => void): Promise<RelayOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const idle = setTimeout(() => {
      body.destroy(Object.assign(new Error('backend went silent inside a response body'), { code: 'GW_BODY_IDLE_TIMEOUT' }));
    }, idleMs);
    idle.unref();
    const settle = (outcome: RelayOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      body.off('data', onData);
      res.off('drain', onDrain);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      idle.refresh();
      tap?.(chunk);
      if (!res.write(chunk)) body.pause();
    };
    const onDrain = () => body.resume();
    body.on('data', onData);
    res.on('drain', onDrain);
    body.once('end', () => res.end());
    body.on('error', (error) => {
      if (settled) return;
      settle({ result: 'upstream-failed', error });
      res.destroy();
    });
    res.on('error', () => undefined); // reported through 'close'
    res.once('finish', () => settle({ result: 'complete' }));
    res.once('close', () => {
      if (res.writableFinished) return settle({ result: 'complete' });
      discardBody(body);
      settle({ result: 'client-closed' });
    });
  });
}

/** A bounded response through a filter (legacy endpoint rewrite, task watch): pipeline with an idle timer. */
async function relayFiltered(body: Readable, filter: Transform, res: ServerResponse, idleMs: number): Promise<RelayOutcome> {
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
    await pipeline(body, filter, res);
    return { result: 'complete' };
  } catch (error) {
    return clientClosed ? { result: 'client-closed' } : { result: 'upstream-failed', error };
  } finally {
    clearTimeout(idle);
    res.off('close', onClose);
  }
}

/**
 * A stream (SSE): pumped by hand (no Transform, no pipe; a stream's keep-alive is an entry on the shared
 * timer wheel), so that an SDK-style answer (one event, then the end) costs little more than a JSON body,
 * and so that a graceful stop can end the client's response cleanly (terminating chunk, clients reconnect
 * and resume) instead of tearing it down. Keep-alive comments go out only at event boundaries and never
 * while a write is backed up.
 */
function relayStream(body: Readable, filter: Transform | undefined, res: ServerResponse, opts: RelayOptions): Promise<RelayOutcome> {
  return new Promise((resolve) => {
    let outcome: RelayOutcome | undefined;
    let stopping = false;
    const settle = (o: RelayOutcome) => (outcome ??= o);
    const source: Readable = filter ? body.pipe(filter) : body;
    const boundary = new EventBoundary();
    const tap = opts.sseTap;
    const keepAlive =
      opts.sseKeepAliveMs > 0
        ? keepAliveWheel(opts.sseKeepAliveMs).add(() => {
            if (boundary.atBoundary && !res.writableNeedDrain && !res.writableEnded) res.write(KEEP_ALIVE_COMMENT);
          })
        : undefined;
    const onData = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      keepAlive?.touch();
      boundary.note(chunk);
      tap?.(chunk);
      if (!res.write(chunk)) source.pause();
    };
    const onDrain = () => source.resume();
    const detach = () => {
      keepAlive?.cancel();
      source.off('data', onData);
      res.off('drain', onDrain);
    };
    let continuing = false;
    const cut = () => {
      detach();
      filter?.destroy();
      res.destroy();
      discardBody(body);
    };
    const fail = (error: unknown) => {
      if (stopping || continuing) return;
      // The backend broke the stream (or a filter refused it): cut the client's too, so it notices and can
      // resume elsewhere; or, with session resume, end or continue it with what the resume answers.
      settle({ result: 'upstream-failed', error });
      if (!opts.sseContinue || res.destroyed) return cut();
      continuing = true;
      detach();
      discardBody(body);
      filter?.destroy();
      void opts.sseContinue(error).then(
        (next) => continueWith(next),
        () => cut(),
      );
    };
    const continueWith = (next: Readable | string | undefined) => {
      if (next === undefined || res.destroyed) {
        if (typeof next === 'object') discardBody(next);
        return cut();
      }
      // A half-written event is ended first (a blank line), so the next event starts on its own.
      if (!boundary.atBoundary) res.write('\n\n');
      if (typeof next === 'string') return void res.end(next);
      next.on('error', () => cut());
      next.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) next.pause();
      });
      res.on('drain', () => next.resume());
      next.once('end', () => res.end());
    };
    source.on('data', onData);
    res.on('drain', onDrain);
    source.once('end', () => {
      if (continuing) return;
      detach();
      res.end();
    });
    body.on('error', fail);
    filter?.on('error', fail);
    res.on('error', () => undefined); // the client's socket failing is reported through 'close'
    res.once('close', () => {
      detach();
      if (!res.writableFinished) {
        settle({ result: 'client-closed' });
        discardBody(body);
        filter?.destroy();
      }
      resolve(settle({ result: 'complete' }));
    });
    opts.onStreamOpen?.(() => {
      stopping = true;
      detach();
      discardBody(body);
      filter?.destroy();
      res.end();
    });
  });
}
