// Keeps idle SSE streams alive through intermediaries (load balancers and NATs drop quiet connections).
// Per the SSE spec (WHATWG HTML §9.2.6) a line starting with ':' is a comment that clients ignore, so a
// comment written between events changes nothing a client sees. The MCP 2026-07-28 transport recommends
// exactly this for long-lived streams. Bytes from the backend pass through untouched and in order; a
// comment is only ever written at an event boundary, never inside an event.
//
// One timer wheel per interval serves every stream (issue 17): a stream's data only resets a counter, and
// the wheel's single timer visits the streams a few times per interval. A timer per stream, refreshed on
// every chunk, cost more than the rest of an SDK-style answer (one event, then the end) in the CPU profile.
// The same wheels time out bodies that go silent (proxy/relay.ts): any "after this long without data".
import { Transform, type TransformCallback } from 'node:stream';

export const KEEP_ALIVE_COMMENT = Buffer.from(': keep-alive\n\n');

/** Visits per interval: a keep-alive goes out after between 1 and 1 + 1/TICKS intervals of silence. */
const TICKS = 4;

/** A stream's place on a wheel: `touch()` on activity, `cancel()` when the stream is over. */
export interface IdleEntry {
  touch(): void;
  cancel(): void;
}

class Entry implements IdleEntry {
  idle = 0;
  readonly wheel: IdleWheel;
  readonly fire: () => void;
  constructor(wheel: IdleWheel, fire: () => void) {
    this.wheel = wheel;
    this.fire = fire;
  }
  touch(): void {
    this.idle = 0;
  }
  cancel(): void {
    this.wheel.remove(this);
  }
}

/**
 * Calls an entry's `fire` after between 1 and 1 + 1/TICKS intervals without `touch()` (and again after as
 * long, until it is cancelled).
 */
export class IdleWheel {
  readonly #entries = new Set<Entry>();
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number) {
    this.#tickMs = Math.max(1, Math.floor(intervalMs / TICKS));
  }

  add(fire: () => void): IdleEntry {
    const e = new Entry(this, fire);
    this.#entries.add(e);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#tick(), this.#tickMs);
      this.#timer.unref();
    }
    return e;
  }

  remove(e: Entry): void {
    // The timer stops on its next tick if the wheel is still empty then, not at once: short answers come
    // and go all the time, and starting and stopping an interval for each one showed in the profile.
    this.#entries.delete(e);
  }

  get size(): number {
    return this.#entries.size;
  }

  #tick(): void {
    if (this.#entries.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const e of this.#entries) {
      if (++e.idle <= TICKS) continue;
      e.idle = 0;
      e.fire();
    }
  }
}

const wheels = new Map<number, IdleWheel>();

/** The process's wheel for this interval (one per distinct interval: --sse-keepalive, the body idle timeout). */
export function idleWheel(intervalMs: number): IdleWheel {
  let w = wheels.get(intervalMs);
  if (!w) wheels.set(intervalMs, (w = new IdleWheel(intervalMs)));
  return w;
}

/** Whether the bytes seen so far end on an SSE event boundary (a blank line), from their last four bytes. */
const EMPTY = Buffer.alloc(0);

export class EventBoundary {
  #tail: Buffer = EMPTY;

  note(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#tail = chunk.length >= 4 ? chunk.subarray(chunk.length - 4) : Buffer.concat([this.#tail, chunk]).subarray(-4);
  }

  /** True before any data, or after a blank line (LF LF, CR CR, or CRLF CRLF) ended an event. */
  get atBoundary(): boolean {
    const t = this.#tail;
    if (t.length === 0) return true;
    const last = t[t.length - 1];
    const prev = t[t.length - 2];
    if (last === 0x0a && prev === 0x0a) return true; // \n\n
    if (last === 0x0d && prev === 0x0d) return true; // \r\r
    return t.length >= 4 && t[t.length - 4] === 0x0d && t[t.length - 3] === 0x0a && prev === 0x0d && last === 0x0a;
  }
}

/** The same as a Transform, for pipelines (proxy/relay.ts pumps by hand with EventBoundary and the wheel). */
export class SseKeepAlive extends Transform {
  readonly #boundary = new EventBoundary();
  #entry: IdleEntry | undefined;
  readonly #onKeepAlive: (() => void) | undefined;
  /** Sees every chunk from the backend, in order, before it is passed on; must not modify it. */
  tap: ((chunk: Buffer) => void) | undefined;

  constructor(intervalMs: number, onKeepAlive?: () => void) {
    super();
    this.#onKeepAlive = onKeepAlive;
    if (intervalMs > 0) this.#entry = idleWheel(intervalMs).add(() => this.#tick());
  }

  get atBoundary(): boolean {
    return this.#boundary.atBoundary;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.length > 0) {
      this.tap?.(chunk);
      this.#boundary.note(chunk);
      // Activity: the next keep-alive is due a whole interval from now.
      this.#entry?.touch();
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.#stop();
    done();
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    this.#stop();
    done(err);
  }

  #tick(): void {
    // Skip a tick while a write is backed up (the client is not reading) or an event is half-written.
    if (!this.atBoundary || this.writableNeedDrain || this.readableLength > 0) return;
    this.push(KEEP_ALIVE_COMMENT);
    this.#onKeepAlive?.();
  }

  #stop(): void {
    this.#entry?.cancel();
    this.#entry = undefined;
  }
}
