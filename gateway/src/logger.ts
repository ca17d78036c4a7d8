// pino, JSON lines on stdout. Secrets are redacted wherever they could appear in a logged object (headers,
// tokens, keys, passwords); payloads are never logged in the first place.
import { pino, type Logger } from 'pino';

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

let lastMs = 0;
let lastTime = '';
/**
 * pino's isoTime, formatted once per millisecond instead of once per line: under load several request
 * lines share a millisecond, and Date#toISOString showed in the bench profile (issue 17). Same output.
 */
export function isoTimeCached(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * The logger of the one line per request (http/exchange.ts). That line is built field by field from values
 * the gateway chose (methods, status, shortened ids; never headers, tokens or payloads), so it skips the
 * redaction pass, which cost about 5% of the gateway's CPU under load (bench profile).
 */
export function createAccessLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: isoTimeCached,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * stdout, written asynchronously in batches: one write per few kilobytes of log lines instead of one per
 * request line (a write is a syscall, and the bench profile put syscalls first among the gateway's costs).
 * Every logger of the process shares it, so lines never interleave. Flushed every `flushMs`, so a line is
 * out within that time even when traffic is low, and synchronously when the process exits.
 */
export function createLogDestination(flushMs = 100): pino.DestinationStream & { flushSync(): void } {
  const dest = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => dest.flush(), flushMs);
  timer.unref();
  process.once('exit', () => {
    try {
      dest.flushSync();
    } catch {
      // stdout already gone: nothing to flush into
    }
  });
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
