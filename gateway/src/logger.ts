// pino, JSON lines on stdout. Secrets are redacted wherever they could appear in a logged object (headers,
// tokens, keys, passwords); payloads are never logged in the first place.
import type { FastifyBaseLogger } from 'fastify';
import { pino, type Logger } from 'pino';
import { LogWriter } from './log-writer.ts';

export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'apiKey',
  'secret',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.token',
  '*.apiKey',
  '*.secret',
  '*.clientSecret',
  // Secrets of the auth configuration (config/options.ts), should a config object ever be logged.
  '*.authClientSecret',
  '*.authApiKeys',
  '*.identityJwtKey',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: isoTimeCached,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

let lastSecond = -1;
let secondPrefix = '';
let lastMs = -1;
let lastTime = '';
/**
 * pino's isoTime, built from a prefix formatted once per second: under load many lines share a second, and
 * Date#toISOString showed in the bench profile (issue 17). Same output (UTC, milliseconds, `Z`).
 */
export function isoTimeCached(): string {
  const now = Date.now();
  if (now === lastMs) return lastTime;
  lastMs = now;
  const second = Math.floor(now / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    secondPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`; // …THH:MM:SS.
  }
  const ms = now - second * 1000;
  lastTime = `${secondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  return lastTime;
}

/**
 * stdout, written asynchronously in batches (log-writer.ts): one write per few kilobytes of log lines instead
 * of one per request line (a write is a syscall, and the bench profile put syscalls first among the gateway's
 * costs). Every logger of the process shares it, so lines never interleave. Flushed every `flushMs`, so a
 * line is out within that time even when traffic is low, and synchronously when the process exits.
 */
export function createLogDestination(flushMs = 100): pino.DestinationStream & { flushSync(): void } {
  const dest = new LogWriter();
  const timer = setInterval(() => dest.flush(), flushMs);
  timer.unref();
  process.once('exit', () => dest.flushSync());
  return dest;
}

/** A Redis URL with any password replaced, for logs and error messages. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparsable url]';
  }
}

/**
 * Fastify's `request.log`, made only when a request actually logs something (rare: warnings of the routes).
 * Fastify's default builds a pino child (bindings serialized and redacted) for every request, which was
 * about 1.5% of the gateway's busy CPU in the SSE profile (issue 17). Same lines, same `reqId` binding. One
 * object per request (methods on the prototype), not a closure per level.
 */
export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: pino.Bindings): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings);
}

class LazyChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: pino.Bindings;
  #child: FastifyBaseLogger | undefined;
  constructor(parent: FastifyBaseLogger, bindings: pino.Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }
  #get(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings));
  }
  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }
  set level(value: string) {
    this.#get().level = value;
  }
  fatal(...a: Parameters<pino.LogFn>): void {
    this.#get().fatal(...a);
  }
  error(...a: Parameters<pino.LogFn>): void {
    this.#get().error(...a);
  }
  warn(...a: Parameters<pino.LogFn>): void {
    this.#get().warn(...a);
  }
  info(...a: Parameters<pino.LogFn>): void {
    this.#get().info(...a);
  }
  debug(...a: Parameters<pino.LogFn>): void {
    this.#get().debug(...a);
  }
  trace(...a: Parameters<pino.LogFn>): void {
    this.#get().trace(...a);
  }
  silent(...a: Parameters<pino.LogFn>): void {
    this.#get().silent(...a);
  }
  child(...a: Parameters<FastifyBaseLogger['child']>): FastifyBaseLogger {
    return this.#get().child(...a);
  }
}
