// Keeps idle SSE streams alive through intermediaries (load balancers and NATs drop quiet connections).
// Per the SSE spec (WHATWG HTML §9.2.6) a line starting with ':' is a comment that clients ignore, so a
// comment written between events changes nothing a client sees. The MCP 2026-07-28 transport recommends
// exactly this for long-lived streams. Bytes from the backend pass through untouched and in order; a
// comment is only ever written at an event boundary, never inside an event.
import { Transform, type TransformCallback } from 'node:stream';

const COMMENT = Buffer.from(': keep-alive\n\n');

export class SseKeepAlive extends Transform {
  #timer: NodeJS.Timeout | undefined;
  /** Last up to four bytes written, to tell whether the output ends on an event boundary. */
  #tail: Buffer = Buffer.alloc(0);
  readonly #onKeepAlive: (() => void) | undefined;
  /** Sees every chunk from the backend, in order, before it is passed on; must not modify it. */
  tap: ((chunk: Buffer) => void) | undefined;

  constructor(intervalMs: number, onKeepAlive?: () => void) {
    super();
    this.#onKeepAlive = onKeepAlive;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.#tick(), intervalMs);
      this.#timer.unref();
    }
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

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.length > 0) {
      this.tap?.(chunk);
      this.#tail = chunk.length >= 4 ? chunk.subarray(chunk.length - 4) : Buffer.concat([this.#tail, chunk]).subarray(-4);
      // Activity: the next keep-alive is due a whole interval from now.
      this.#timer?.refresh();
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
    this.push(COMMENT);
    this.#onKeepAlive?.();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
