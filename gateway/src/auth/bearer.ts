// Reading the credential off a request (RFC 6750 §2.1: the Authorization request header field only; the MCP
// authorization spec: "Access tokens MUST NOT be included in the URI query string").
import { AuthFailure } from './identity.ts';

/** Longest token accepted; real ones are a few hundred bytes to a few KiB. */
export const MAX_TOKEN_LENGTH = 8192;

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export type BearerResult =
  /** No credential at all, or one of another scheme: the challenge carries no error code (RFC 6750 §3). */
  | { kind: 'absent'; reason: 'missing_token' | 'unsupported_scheme' }
  | { kind: 'token'; token: string };

/** Throws AuthFailure('malformed_header') for a Bearer credential that is not well formed (400 invalid_request). */
export function readBearer(authorization: string | string[] | undefined): BearerResult {
  if (authorization === undefined) return { kind: 'absent', reason: 'missing_token' };
  // Node keeps only the first Authorization header; an array would mean a proxy joined several.
  if (Array.isArray(authorization)) throw new AuthFailure('malformed_header', 'more than one Authorization header');
  const value = authorization.trim();
  if (value === '') return { kind: 'absent', reason: 'missing_token' };
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  // RFC 9110 §11.1: the scheme is case-insensitive.
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'absent', reason: 'unsupported_scheme' };
  const token = space < 0 ? '' : value.slice(space + 1).trim();
  if (token === '') throw new AuthFailure('malformed_header', 'the Bearer credential is empty');
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthFailure('malformed_header', 'the bearer token is too long');
  if (!B64TOKEN.test(token)) throw new AuthFailure('malformed_header', 'the bearer token is not a b64token (RFC 6750 §2.1)');
  return { kind: 'token', token };
}

/** True when the URL carries an access_token query parameter (RFC 6750 §2.3), which the gateway refuses. */
export function hasQueryToken(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  return new URLSearchParams(url.slice(q + 1)).has('access_token');
}
