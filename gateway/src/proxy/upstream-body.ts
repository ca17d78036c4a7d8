// A backend's response body as undici's dispatch API delivers it: chunks pushed to one consumer (a sink),
// with backpressure through the dispatch controller. It replaces pool.request()'s Readable body on the data
// path: that Readable, its events and its abort-signal wiring cost about a quarter of a proxied request's
// CPU (issue 17; bench/ profiles). Consumers that want a stream (filters, a resumed answer read whole) ask
// for one with readable().
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Receives a body's chunks in order; `data` returns false to pause the backend until `resume()`. */
export interface BodySink {
  data(chunk: Buffer): boolean;
  end(): void;
  error(err: unknown): void;
}

type State = 'open' | 'ended' | 'failed' | 'discarded';

export class UpstreamBody {
  #controller: Dispatcher.DispatchController;
  #sink: BodySink | undefined;
  /** Chunks that arrived before a sink was attached (the head and first chunk usually share one packet). */
  #queued: Buffer[] | undefined;
  #state: State = 'open';
  #error: unknown;

  constructor(controller: Dispatcher.DispatchController) {
    this.#controller = controller;
  }

  /** Whether the whole body arrived (nothing failed, nothing was thrown away). */
  get complete(): boolean {
    return this.#state === 'ended';
  }

  /** Hands the body to `sink`: the chunks queued so far, then the rest as it arrives. Once per body. */
  attach(sink: BodySink): void {
    if (this.#sink) throw new Error('an upstream body has one consumer');
    if (this.#state === 'discarded') return;
    this.#sink = sink;
    const queued = this.#queued;
    this.#queued = undefined;
    let more = true;
    if (queued) for (const chunk of queued) more = sink.data(chunk);
    if (this.#state === 'ended') return sink.end();
    if (this.#state === 'failed') return sink.error(this.#error);
    if (!more) this.pause();
  }

  pause(): void {
    if (this.#state === 'open') this.#controller.pause();
  }

  resume(): void {
    if (this.#state === 'open') this.#controller.resume();
  }

  /**
   * Throws the rest away: the backend request is aborted if it is still under way (its connection is not
   * reused), and the sink hears nothing more.
   */
  discard(reason?: Error): void {
    const open = this.#state === 'open';
    this.#state = 'discarded';
    this.#sink = undefined;
    this.#queued = undefined;
    if (open) this.#controller.abort(reason ?? discardedError());
  }

  /** A stream of the body (for pipelines and whole reads); destroying it discards the body. */
  readable(): Readable {
    let stream: Readable | undefined;
    stream = new Readable({
      read: () => this.resume(),
      destroy: (err, cb) => {
        this.discard();
        cb(err);
      },
    });
    this.attach({
      data: (chunk) => stream?.push(chunk) ?? false,
      end: () => stream?.push(null),
      error: (err) => stream?.destroy(err as Error),
    });
    const out = stream;
    out.once('close', () => (stream = undefined));
    return out;
  }

  // Called by the dispatch handler (proxy/send.ts).
  /** @internal */
  push(chunk: Buffer): void {
    if (this.#state !== 'open') return;
    const sink = this.#sink;
    if (!sink) (this.#queued ??= []).push(chunk);
    else if (!sink.data(chunk)) this.#controller.pause();
  }

  /** @internal */
  finish(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    this.#sink?.end();
  }

  /** @internal */
  fail(err: unknown): void {
    if (this.#state !== 'open') return;
    this.#state = 'failed';
    this.#error = err;
    this.#sink?.error(err);
  }
}

function discardedError(): Error {
  return Object.assign(new Error('response body discarded'), { code: 'UND_ERR_ABORTED', name: 'AbortError' });
}
