// Parsers for option values. Each returns the parsed value or throws a ValueError whose message says what
// was expected; config/load.ts prefixes it with the option's flag and environment variable.

export class ValueError extends Error {}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "15s", "2m", "1h" -> milliseconds. A bare number is refused: its unit would be a guess. */
export function parseDuration(raw: string): number {
  const m = DURATION.exec(raw.trim());
  if (!m) throw new ValueError(`expected a duration such as 500ms, 15s, 2m or 1h, got '${raw}'`);
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
}

export function parseInteger(raw: string, min: number, max: number): number {
  const t = raw.trim();
  if (!/^-?\d+$/.test(t)) throw new ValueError(`expected an integer from ${min} to ${max}, got '${raw}'`);
  const n = Number(t);
  if (n < min || n > max) throw new ValueError(`expected an integer from ${min} to ${max}, got ${n}`);
  return n;
}

export function parseBoolean(raw: string): boolean {
  const t = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new ValueError(`expected true or false, got '${raw}'`);
}

export function parseEnum<T extends string>(raw: string, allowed: readonly T[]): T {
  const t = raw.trim() as T;
  if (!allowed.includes(t)) throw new ValueError(`expected one of ${allowed.join(', ')}, got '${raw}'`);
  return t;
}

export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** An absolute http(s) URL; `what` names it in the message. */
export function parseHttpUrl(raw: string, what = 'URL'): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ValueError(`expected an absolute http(s) ${what}, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValueError(`expected an http or https ${what}, got '${raw}'`);
  }
  if (url.hash) throw new ValueError(`a ${what} may not carry a #fragment: '${raw}'`);
  return url;
}

export function parseRedisUrl(raw: string): string {
  const t = raw.trim();
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new ValueError(`expected redis://[user:password@]host:port[/db] or rediss://…, got an unparsable value`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    // The message must not echo the value: a Redis URL may hold a password.
    throw new ValueError(`expected a redis:// or rediss:// URL, got scheme '${url.protocol}'`);
  }
  return t;
}

/** An HTTP path starting with '/', without query or fragment. */
export function parsePath(raw: string): string {
  const t = raw.trim();
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(t)) {
    throw new ValueError(`expected a path starting with '/', got '${raw}'`);
  }
  // Used exactly as written: a trailing slash is part of the path (a backend may serve only `/messages/`).
  return t;
}
