// Header hygiene between client and backend (RFC 9110 §7.6.1: hop-by-hop fields are not forwarded) and the
// X-Forwarded-* fields. MCP headers (Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Accept,
// Mcp-Method, Mcp-Name, Mcp-Param-*) pass through untouched in both directions.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Connection-specific fields (RFC 9110 §7.6.1, RFC 9112 §9.6) plus those we set ourselves. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/**
 * Not copied upstream: hop-by-hop fields; what the gateway terminates or sets itself (no token passthrough,
 * its own Content-Length); the X-Forwarded-* fields, which it writes from the client's values below. One
 * set, one lookup per field (issue 17).
 */
const NOT_COPIED_UPSTREAM = new Set([...HOP_BY_HOP, 'authorization', 'content-length', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/**
 * The usual values (`keep-alive`, `close`) name only hop-by-hop fields, which go anyway. Compared, not looked
 * up in a Set: a Set lookup with the parser's new string costs V8 an internalization (issue 17).
 */
function onlyHopByHop(v: string): boolean {
  return v === 'keep-alive' || v === 'close' || v === 'Keep-Alive' || v === 'Close';
}

/** The field names a Connection header lists (RFC 9110 §7.6.1); undefined when it lists none but hop-by-hop ones. */
function connectionListed(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): ReadonlySet<string> | undefined {
  const v = headers.connection;
  if (v === undefined || (typeof v === 'string' && onlyHopByHop(v))) return undefined;
  const out = new Set<string>();
  for (const item of Array.isArray(v) ? v : v ? [v] : []) {
    for (const name of item.split(',')) out.add(name.trim().toLowerCase());
  }
  return out;
}

export interface ForwardedInfo {
  /** Peer address of the client connection. */
  remoteAddress: string | undefined;
  /** Trust X-Forwarded-* already on the request (the gateway sits behind another proxy). */
  trustProxy: boolean;
}

/**
 * Headers for the upstream request: the client's, minus hop-by-hop, plus X-Forwarded-*, plus `own` (the
 * verified identity). `own` is written last, after everything the client listed in `Connection` is gone:
 * a hop-by-hop list names the client's own fields (RFC 9110 §7.6.1), never the gateway's, so a client can
 * neither remove nor replace them.
 */
export function upstreamHeaders(
  incoming: IncomingHttpHeaders,
  forwarded: ForwardedInfo,
  bodyLength: number | undefined,
  own: Readonly<Record<string, string>> = {},
): Record<string, string | string[]> {
  const listed = connectionListed(incoming);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || NOT_COPIED_UPSTREAM.has(name) || listed?.has(name)) continue;
    // RFC 7239 Forwarded from an untrusted client could spoof what the backend believes; dropped.
    if (name === 'forwarded' && !forwarded.trustProxy) continue;
    out[name] = value;
  }
  // Host is kept as the client sent it: a backend that guards against DNS rebinding checks it, and must
  // see the client's view, not ours. X-Forwarded-Host says the same explicitly.
  const host = typeof incoming.host === 'string' ? incoming.host : undefined;
  const priorFor = forwarded.trustProxy ? joinHeader(incoming['x-forwarded-for']) : undefined;
  const peer = forwarded.remoteAddress ?? 'unknown';
  out['x-forwarded-for'] = priorFor ? `${priorFor}, ${peer}` : peer;
  out['x-forwarded-proto'] = (forwarded.trustProxy && firstValue(incoming['x-forwarded-proto'])) || 'http';
  const fwdHost = (forwarded.trustProxy && firstValue(incoming['x-forwarded-host'])) || host;
  if (fwdHost) out['x-forwarded-host'] = fwdHost;
  if (bodyLength !== undefined) out['content-length'] = String(bodyLength);
  for (const name in own) out[name] = own[name] as string;
  return out;
}

/** Headers for the client: the backend's, minus hop-by-hop. */
export function downstreamHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const listed = connectionListed(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function joinHeader(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.split(',')[0]?.trim() || undefined;
}
