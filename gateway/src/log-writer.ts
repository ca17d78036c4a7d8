// Where every log line of the process goes (pino's lines and the access lines alike, so they never
// interleave): stdout, written asynchronously, one write at a time, in batches of whole lines.
//
// It replaces pino.destination (sonic-boom), measured in the bench (issue 17): with SSE answers the gateway
// served 1.2-1.3x the requests per CPU-second at --log-level warn, and writing the same lines as below got
// most of that back. sonic-boom measures every string it is handed (Buffer.byteLength), copies it into the
// write request, then encodes it once more after the write just to slice off what was written.
// Here a batch is encoded once and the write request takes that buffer as it is.
//
// What it also does:
//  - on a pipe (what containers' stdout is), no write is longer than PIPE_BUF unless a single line is: POSIX
//    makes such a write atomic, so the lines of several worker processes (--workers) sharing the pipe never
//    cut into each other (sonic-boom wrote up to 16 KiB at a time);
//  - memory is bounded: when nobody reads stdout, lines beyond `maxPendingBytes` are dropped and counted,
//    and a warning line says how many once writing works again (sonic-boom buffered without limit);
//  - a full non-blocking pipe (EAGAIN) is retried after a pause, a write error other than that (stdout
//    closed) drops the lines: logging never brings the gateway down;
//  - `flushSync()` writes what is left before the process exits.
import { fstatSync, write, writeSync } from 'node:fs';

/** POSIX PIPE_BUF on Linux: writes of at most this many bytes to a pipe are atomic (pipe(7)). */
export const PIPE_BUF = 4096;
/** Largest write to a file or anything else. */
const MAX_WRITE = 1 << 20;
/** A write starts once this much is pending (or on `flush()`, which the owner calls on a timer). */
const MIN_WRITE = 4096;
const EAGAIN_RETRY_MS = 10;

export interface LogWriterOptions {
  fd?: number;
  /** Dropped beyond this many pending characters (default 32 MiB). */
  maxPendingBytes?: number;
  /** Defaults to whether `fd` is a pipe or a socket (from fstat). */
  atomicLines?: boolean;
}

export class LogWriter {
  readonly #fd: number;
  readonly #chunk: number;
  readonly #maxPending: number;
  #pending: string[] = [];
  #pendingChars = 0;
  /** Encoded lines not yet written (the rest of the last batch). */
  #carry: Buffer = EMPTY;
  #writing = false;
  /** Bytes at the start of #carry that an asynchronous write has taken and not yet reported. */
  #inFlight = 0;
  #dropped = 0;
  #broken = false;

  constructor(o: LogWriterOptions = {}) {
    this.#fd = o.fd ?? 1;
    this.#maxPending = o.maxPendingBytes ?? 32 * 1024 * 1024;
    this.#chunk = (o.atomicLines ?? isPipe(this.#fd)) ? PIPE_BUF : MAX_WRITE;
  }

  /** Lines dropped so far because stdout was not keeping up. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Takes one or more whole lines (each ending in `\n`), as pino's destination stream does. */
  write(lines: string): boolean {
    if (this.#broken) return false;
    if (this.#pendingChars + this.#carry.length + lines.length > this.#maxPending) {
      this.#dropped += countLines(lines);
      return false;
    }
    this.#pending.push(lines);
    this.#pendingChars += lines.length;
    if (!this.#writing && this.#pendingChars >= MIN_WRITE) this.#next();
    return true;
  }

  /** Starts writing what is pending, however little. */
  flush(): void {
    if (!this.#writing) this.#next();
  }

  /**
   * Writes everything pending now, blocking (process exit). Bytes an asynchronous write has already taken are
   * left to it: written twice they would duplicate lines (at exit they may land after the rest).
   */
  flushSync(): void {
    if (this.#broken) return;
    this.#noteDropped();
    let buf = Buffer.concat([this.#carry.subarray(this.#inFlight), Buffer.from(this.#pending.join(''))]);
    this.#inFlight = 0;
    this.#pending = [];
    this.#pendingChars = 0;
    this.#carry = EMPTY;
    for (let tries = 0; buf.length > 0 && tries < 1000; ) {
      try {
        buf = buf.subarray(writeSync(this.#fd, buf));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        tries++;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  }

  #next(): void {
    if (this.#broken) return;
    if (this.#carry.length === 0) {
      if (this.#pending.length === 0) return;
      this.#noteDropped();
      this.#carry = Buffer.from(this.#pending.length === 1 ? (this.#pending[0] as string) : this.#pending.join(''));
      this.#pending = [];
      this.#pendingChars = 0;
    }
    const n = cutAtLine(this.#carry, this.#chunk);
    this.#writing = true;
    this.#inFlight = n;
    write(this.#fd, this.#carry, 0, n, null, this.#done);
  }

  readonly #done = (err: NodeJS.ErrnoException | null, written: number): void => {
    this.#writing = false;
    this.#inFlight = 0;
    if (err) {
      if (err.code === 'EAGAIN') {
        // A full non-blocking pipe: its reader is behind. Try again shortly; lines pile up (bounded) meanwhile.
        this.#writing = true;
        setTimeout(() => {
          this.#writing = false;
          this.#next();
        }, EAGAIN_RETRY_MS).unref();
        return;
      }
      // stdout is gone (EPIPE, EBADF): nowhere to log to, and nothing to hold on to.
      this.#broken = true;
      this.#carry = EMPTY;
      this.#pending = [];
      this.#pendingChars = 0;
      return;
    }
    // A short write (a file system full, a signal): the rest goes next.
    this.#carry = this.#carry.subarray(written);
    if (this.#carry.length > 0 || this.#pendingChars >= MIN_WRITE) this.#next();
  };

  /** Puts the drop warning in front of what is pending (pino's format, by hand: there is no logger here). */
  #noteDropped(): void {
    if (this.#dropped === 0) return;
    const line = `{"level":"warn","time":"${new Date().toISOString()}","pid":${process.pid},"droppedLines":${this.#dropped},"msg":"log lines dropped: stdout was not keeping up"}\n`;
    this.#dropped = 0;
    this.#pending.unshift(line);
    this.#pendingChars += line.length;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * How many bytes of `buf` to write: everything up to `max`, cut after the last whole line within it; a
 * single line longer than `max` goes whole (it cannot be atomic anyway, and cutting it would not help).
 */
export function cutAtLine(buf: Buffer, max: number): number {
  if (buf.length <= max) return buf.length;
  const last = buf.lastIndexOf(0x0a, max - 1);
  if (last >= 0) return last + 1;
  const end = buf.indexOf(0x0a, max);
  return end < 0 ? buf.length : end + 1;
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return Math.max(1, n);
}

function isPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return true; // unknown: the safe choice for lines of several processes
  }
}
