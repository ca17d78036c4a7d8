// The verified identity on its way to a backend, in the configured headers. Any such header the client
// sent is removed first, on every request (also with auth off), so a backend can trust what it finds there.
// The values are kept beside the request, not in its headers: proxy/headers.ts writes them after removing
// the hop-by-hop fields, so that a client listing them in `Connection` (RFC 9110 §7.6.1) cannot strip them.
import type { IncomingHttpHeaders } from 'node:http';
import type { IdentityHeaderNames } from '../config/auth.ts';
import type { Identity } from './identity.ts';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Header values stay readable for the usual case (printable ASCII) and lossless for the rest: anything
 * outside 0x20-0x7E, and `%` itself, is percent-encoded as UTF-8, so decodeURIComponent always restores it.
 */
export function headerSafe(value: string): string {
  // A lone surrogate (possible in JSON claims) has no UTF-8 form: it becomes U+FFFD first.
  return value.replace(LONE_SURROGATE, '\uFFFD').replace(/[^\x20-\x24\x26-\x7E]/gu, (c) => encodeURIComponent(c));
}

export function stripIdentityHeaders(headers: IncomingHttpHeaders, names: IdentityHeaderNames): void {
  for (const key in names) {
    const name = names[key as keyof IdentityHeaderNames];
    // The usual request carries none of them: a lookup each, no array and no delete per request.
    if (name && headers[name] !== undefined) delete headers[name];
  }
}

/** The identity headers (name -> value) a backend is to see for `identity`. */
export function identityHeaderValues(names: IdentityHeaderNames, identity: Identity, jwt: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (names.subject) headers[names.subject] = headerSafe(identity.subject);
  if (names.client_id && identity.clientId !== undefined) headers[names.client_id] = headerSafe(identity.clientId);
  if (names.scopes) headers[names.scopes] = headerSafe([...identity.scopes].join(' '));
  if (names.issuer && identity.issuer !== undefined) headers[names.issuer] = headerSafe(identity.issuer);
  if (names.jwt && jwt !== undefined) headers[names.jwt] = jwt;
  return headers;
}
