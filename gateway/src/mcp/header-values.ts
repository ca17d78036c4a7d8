// Values of the 2026-07-28 request-metadata headers (Streamable HTTP, "Request Metadata"): `Mcp-Method`
// mirrors the JSON-RPC method; `Mcp-Name` mirrors params.name / params.uri, or params.taskId for tasks/*
// (SEP-2663, "Streamable HTTP: Routing Headers"). A value that is not safe as plain ASCII travels as
// `=?base64?<base64 of the UTF-8 value>?=` ("Value Encoding"), which intermediaries that inspect it MUST decode.

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Longest header value the gateway reads into labels or store keys. */
export const MAX_HEADER_VALUE_LENGTH = 1024;

/**
 * The value a request-metadata header carries: the decoded form of the base64 sentinel, the value itself
 * otherwise. Undefined for an absent header, a repeated one, a malformed sentinel, or an oversized value,
 * so that nobody routes or labels by something the client did not clearly say.
 */
export function decodeHeaderValue(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined || Array.isArray(raw) || raw.length === 0 || raw.length > MAX_HEADER_VALUE_LENGTH) return undefined;
  if (!(raw.startsWith(SENTINEL_PREFIX) && raw.endsWith(SENTINEL_SUFFIX) && raw.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length)) {
    return raw;
  }
  const b64 = raw.slice(SENTINEL_PREFIX.length, raw.length - SENTINEL_SUFFIX.length);
  if (b64.length % 4 !== 0 || !BASE64.test(b64)) return undefined;
  try {
    return utf8.decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** The base64 sentinel form, as a client would send a value that is not plain visible ASCII. */
export function encodeHeaderValue(value: string): string {
  const plain = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX));
  return plain ? value : `${SENTINEL_PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${SENTINEL_SUFFIX}`;
}
