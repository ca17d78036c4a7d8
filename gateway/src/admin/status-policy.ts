// Where the status page is served, and to whom. The page shows every backend, every replica and any
// session's binding: an operator's view. It is served without a token only where the admin listener cannot
// be reached from outside the pod network (SECURITY.md "Status page"), and always needs --status-token when
// one is set.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** How far the admin listener's bind address can be reached from. */
export type Reach = 'loopback' | 'private' | 'pod-network' | 'exposed';

export interface StatusPolicy {
  enabled: boolean;
  tokenRequired: boolean;
  reach: Reach;
  /** Why, for the start-up log line. */
  reason: string;
}

const V4_PRIVATE: Array<[number, number]> = [
  [0x0a000000, 8], // 10.0.0.0/8 (RFC 1918)
  [0xac100000, 12], // 172.16.0.0/12 (RFC 1918)
  [0xc0a80000, 16], // 192.168.0.0/16 (RFC 1918)
  [0x64400000, 10], // 100.64.0.0/10 (RFC 6598, shared address space: many pod networks)
  [0xa9fe0000, 16], // 169.254.0.0/16 (RFC 3927, link-local)
];

function v4(addr: string): number {
  return addr.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(addr: string, [net, bits]: [number, number]): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((v4(addr) & mask) >>> 0) === net;
}

/**
 * The reach of a bind address. A wildcard (0.0.0.0, ::) binds every interface: inside a Kubernetes pod
 * (KUBERNETES_SERVICE_HOST is set in every pod) that is the pod network, which only a Service or Ingress the
 * operator creates extends; anywhere else it may be a public interface. A host name other than localhost is
 * taken as exposed: what it resolves to can change.
 */
export function reachOf(host: string, env: NodeJS.ProcessEnv = process.env): Reach {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  const mapped = h.startsWith('::ffff:') && isIP(h.slice(7)) === 4 ? h.slice(7) : h;
  if (mapped === 'localhost' || mapped === '::1' || (isIP(mapped) === 4 && mapped.startsWith('127.'))) return 'loopback';
  if (mapped === '' || mapped === '0.0.0.0' || mapped === '::') return env.KUBERNETES_SERVICE_HOST ? 'pod-network' : 'exposed';
  if (isIP(mapped) === 4) return V4_PRIVATE.some((r) => inV4(mapped, r)) ? 'private' : 'exposed';
  if (isIP(mapped) === 6) return /^f[cd]/.test(mapped) || /^fe[89ab]/.test(mapped) ? 'private' : 'exposed'; // fc00::/7 (RFC 4193), fe80::/10
  return 'exposed';
}

export function statusPolicy(o: { statusPage: boolean; statusToken: string | undefined; adminHost: string }, env: NodeJS.ProcessEnv = process.env): StatusPolicy {
  const reach = reachOf(o.adminHost, env);
  if (!o.statusPage) return { enabled: false, tokenRequired: false, reach, reason: 'turned off (--no-status-page)' };
  if (o.statusToken !== undefined) return { enabled: true, tokenRequired: true, reach, reason: 'served with its own token (--status-token)' };
  if (reach === 'exposed') {
    return { enabled: false, tokenRequired: false, reach, reason: `off: the admin listener binds ${o.adminHost}, which may be reachable from outside; set STATUS_TOKEN to serve it` };
  }
  return { enabled: true, tokenRequired: false, reach, reason: `served without a token: the admin listener binds a ${reach} address` };
}

/**
 * Whether an Authorization header carries the status token. Both sides are hashed first so that the
 * comparison takes the same time whatever the length or content of the guess (timingSafeEqual needs equal
 * lengths). The token is never logged: admin requests are not logged at all.
 */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}
