// Streams a backend's response to the client: headers as the backend sent them (minus hop-by-hop), the
// body piped with backpressure (a slow client pauses the backend socket). SSE is never buffered, gets no
// body timeout, and gets keep-alive comments while idle; a JSON body gets an idle timer, so a backend that
// goes silent mid-body cannot hold a request forever. A client that goes away destroys the upstream body,
// which aborts the backend request.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EventBoundary, KEEP_ALIVE_COMMENT, idleWheel, type IdleEntry, type SseKeepAlive } from '../mcp/sse-keepalive.ts';
import { discardBody } from './discard.ts';
import { downstreamHeaders } from './headers.ts';
import type { UpstreamResponse } from './send.ts';
import type { BodySink, UpstreamBody } from './upstream-body.ts';

export interface RelayOptions {
  sseKeepAliveMs: number;
  bodyIdleTimeoutMs: number;
  /** Headers to add or override; undefined values remove. */
  overrideHeaders?: OutgoingHttpHeaders;
  /**
   * An SSE stream opened and outlives what came with its head (an answer complete in its first packet is
   * not reported); `stop` ends it cleanly (graceful shutdown).
   */
  onStreamOpen?: (stop: () => void) => void;
  /** The stream `onStreamOpen` reported is over (called only after it). */
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
   * Registers what runs when the client's response closes, through a 'close' listener the caller already has
   * (the Exchange's); called at once if it closed already. Without it the relay listens on the response itself.
   * One listener instead of two: with two, Node keeps them in an array and copies it on every emit (issue 17).
   */
  onResponseClose?: (fn: () => void) => void;
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

export function relayResponse(upstream: UpstreamResponse, res: ServerResponse, opts: RelayOptions): Promise<RelayOutcome> {
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
  if (!sse) return filter ? relayFiltered(upstream.body.readable(), filter, res, opts.bodyIdleTimeoutMs) : relayBody(upstream.body, res, opts);

  return relayStream(upstream.body, filter, res, opts);
}

/**
 * A bounded response (JSON, 202, errors), pumped from the dispatch handler straight into the client's
 * response, with an idle timer. Backpressure: a full client socket pauses the backend's. The upstream body is
 * thrown away (its request aborted) when the client goes away; the client's response is destroyed when the
 * upstream body fails.
 */
function relayBody(body: UpstreamBody, res: ServerResponse, opts: RelayOptions): Promise<RelayOutcome> {
  const tap = opts.bodyTap;
  return new Promise((resolve) => {
    let settled = false;
    // On the shared wheel of this interval (mcp/sse-keepalive.ts): a timer per response showed in the profile.
    const idle = idleWheel(opts.bodyIdleTimeoutMs).add(() => {
      body.discard();
      fail(Object.assign(new Error('backend went silent inside a response body'), { code: 'GW_BODY_IDLE_TIMEOUT' }));
    });
    // Listening for 'drain' only while a write is backed up: the usual answer never is (issue 17: every
    // listener added and removed per response showed as megamorphic loads in Node's EventEmitter).
    let draining = false;
    const settle = (outcome: RelayOutcome) => {
      if (settled) return;
      settled = true;
      idle.cancel();
      if (draining) res.off('drain', onDrain);
      resolve(outcome);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settle({ result: 'upstream-failed', error });
      res.destroy();
    };
    const onDrain = () => {
      draining = false;
      body.resume();
    };
    res.on('error', ignore); // reported through 'close'
    // The client's 'close' (through the exchange's listener where there is one) comes once; after settle()
    // it finds nothing left to do.
    whenClosed(res, opts, () => {
      if (settled) return;
      if (res.writableFinished) return settle({ result: 'complete' });
      body.discard();
      settle({ result: 'client-closed' });
    });
    body.attach({
      data: (chunk) => {
        idle.touch();
        tap?.(chunk);
        if (res.write(chunk)) return true;
        if (!draining) {
          draining = true;
          res.once('drain', onDrain);
        }
        return false;
      },
      end: () => res.end(() => settle({ result: 'complete' })),
      error: fail,
    });
  });
}

const ignore = (): void => undefined;

function whenClosed(res: ServerResponse, opts: RelayOptions, fn: () => void): void {
  if (opts.onResponseClose) opts.onResponseClose(fn);
  else res.on('close', fn);
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

/** Where an SSE relay reads from: the upstream body itself, or the body through a filter. */
interface StreamSource {
  attach(sink: BodySink): void;
  pause(): void;
  resume(): void;
  discard(): void;
}

function throughFilter(body: UpstreamBody, filter: Transform): StreamSource {
  const input = body.readable();
  // pipe() does not pass a source's failure on: the filter fails with it, and the sink hears it once.
  input.on('error', (err) => filter.destroy(err));
  input.pipe(filter);
  return {
    attach: (sink) => {
      filter.on('data', (chunk: Buffer) => {
        if (!sink.data(chunk)) filter.pause();
      });
      filter.once('end', () => sink.end());
      filter.on('error', (err) => sink.error(err));
    },
    pause: () => filter.pause(),
    resume: () => filter.resume(),
    discard: () => {
      filter.on('error', ignore);
      input.destroy();
      filter.destroy();
    },
  };
}

/**
 * A stream (SSE): pumped by hand (no Transform, no pipe; a stream's keep-alive is an entry on the shared
 * timer wheel), so that an SDK-style answer (one event, then the end) costs little more than a JSON body,
 * and so that a graceful stop can end the client's response cleanly (terminating chunk, clients reconnect
 * and resume) instead of tearing it down. Keep-alive comments go out only at event boundaries and never
 * while a write is backed up.
 */
function relayStream(body: UpstreamBody, filter: Transform | undefined, res: ServerResponse, opts: RelayOptions): Promise<RelayOutcome> {
  return new Promise((resolve) => {
    let outcome: RelayOutcome | undefined;
    let stopping = false;
    let detached = false;
    const settle = (o: RelayOutcome) => (outcome ??= o);
    const source: StreamSource = filter ? throughFilter(body, filter) : body;
    const boundary = new EventBoundary();
    const tap = opts.sseTap;
    // Set up below once the stream outlives what came with its head (see there).
    let keepAlive: IdleEntry | undefined;
    let opened = false;
    // 'drain' is listened for only while a write is backed up (as in relayBody).
    let draining = false;
    const onDrain = () => {
      draining = false;
      source.resume();
    };
    const detach = () => {
      detached = true;
      keepAlive?.cancel();
      if (draining) res.off('drain', onDrain);
    };
    let continuing = false;
    const cut = () => {
      detach();
      res.destroy();
      source.discard();
    };
    const fail = (error: unknown) => {
      if (stopping || continuing || detached) return;
      // The backend broke the stream (or a filter refused it): cut the client's too, so it notices and can
      // resume elsewhere; or, with session resume, end or continue it with what the resume answers.
      settle({ result: 'upstream-failed', error });
      if (!opts.sseContinue || res.destroyed) return cut();
      continuing = true;
      detach();
      source.discard();
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
    res.on('error', ignore); // the client's socket failing is reported through 'close'
    let closed = false;
    whenClosed(res, opts, () => {
      closed = true;
      detach();
      if (!res.writableFinished) {
        settle({ result: 'client-closed' });
        source.discard();
      }
      if (opened) opts.onStreamClose?.();
      resolve(settle({ result: 'complete' }));
    });
    let wrote = false;
    let ended = false;
    source.attach({
      data: (chunk) => {
        if (detached || chunk.length === 0) return true;
        wrote = true;
        keepAlive?.touch();
        boundary.note(chunk);
        tap?.(chunk);
        if (res.write(chunk)) return true;
        if (!draining) {
          draining = true;
          res.once('drain', onDrain);
        }
        return false;
      },
      end: () => {
        if (continuing || detached) return;
        wrote = ended = true;
        detach();
        res.end();
      },
      error: fail,
    });
    // An answer that came whole with its head (the SDK servers' usual one event, then the end) is over now:
    // it needs no keep-alives and no stop on shutdown, so it is not registered for them. Registering every
    // answer cost about a tenth of an SSE answer's CPU (issue 17: an A/B against the JSON relay).
    // Nor is one whose client is gone already (the close was reported at once: nothing would unregister it).
    if (ended || closed) return;
    opened = true;
    if (opts.sseKeepAliveMs > 0 && !detached) {
      keepAlive = idleWheel(opts.sseKeepAliveMs).add(() => {
        if (boundary.atBoundary && !res.writableNeedDrain && !res.writableEnded) res.write(KEEP_ALIVE_COMMENT);
      });
    }
    opts.onStreamOpen?.(() => {
      stopping = true;
      detach();
      source.discard();
      res.end();
    });
    // The client learns at once that its stream is open: with the first event when one came with the head
    // (the usual one-event answer then leaves in one write), else with the headers alone, now.
    if (!wrote && !res.destroyed && !res.writableEnded) res.flushHeaders();
  });
}
