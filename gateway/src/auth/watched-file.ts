// A file whose parsed content follows the file: read at start (a bad file then stops the gateway), then
// re-read when its stat changes, polled because fs.watch misses the symlink swap by which Kubernetes
// updates a mounted Secret. A change that does not parse keeps the last good content and logs why.
import { readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';

export interface WatchedFileOptions<T> {
  path: string;
  /** What the file is, for logs. Never its content. */
  what: string;
  parse: (text: string) => T;
  intervalMs: number;
  logger: Logger;
  onChange?: (value: T) => void;
}

function signature(s: { mtimeMs: number; size: number; ino: number }): string {
  return `${s.mtimeMs}:${s.size}:${s.ino}`;
}

export class WatchedFile<T> {
  readonly #o: WatchedFileOptions<T>;
  #value: T;
  #signature: string;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  /** Throws (with the path and the parser's message) when the file cannot be read or parsed at start. */
  constructor(options: WatchedFileOptions<T>) {
    this.#o = options;
    try {
      this.#signature = signature(statSync(options.path));
      this.#value = options.parse(readFileSync(options.path, 'utf8'));
    } catch (err) {
      throw new Error(`${options.what} ${options.path}: ${(err as Error).message}`, { cause: err });
    }
    this.#timer = setInterval(() => void this.check(), options.intervalMs);
    this.#timer.unref();
  }

  get value(): T {
    return this.#value;
  }

  /** Re-reads the file if it changed; resolves true when a new content was taken. */
  async check(): Promise<boolean> {
    if (this.#checking || !this.#timer) return false;
    this.#checking = true;
    try {
      const sig = signature(await stat(this.#o.path));
      if (sig === this.#signature) return false;
      this.#signature = sig;
      const value = this.#o.parse(readFileSync(this.#o.path, 'utf8'));
      this.#value = value;
      this.#o.logger.info({ file: this.#o.path }, `${this.#o.what} reloaded`);
      this.#o.onChange?.(value);
      return true;
    } catch (err) {
      this.#o.logger.error({ file: this.#o.path, err: (err as Error).message }, `${this.#o.what} not reloaded: keeping the previous one`);
      return false;
    } finally {
      this.#checking = false;
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
