// DNS-rebinding protection at the edge (MCP Streamable HTTP, "Security & Endpoint": servers MUST validate
// Origin; a present, invalid Origin gets 403 with a JSON-RPC error that has no id). A page that rebinds its
// own domain to the gateway's address sends its own Host and Origin; refusing hosts and origins outside the
// allow-lists keeps such a page away from every backend.
//
// Defaults: a gateway listening on loopback accepts only loopback hosts and origins (the SDKs' default for
// local servers); one listening elsewhere checks nothing unless --allowed-hosts / --allowed-origins are set
// (behind an ingress the public names are the operator's to list).
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors.ts';
import { RecentValues } from './recent-values.ts';

export interface OriginPolicy {
  /** Lower-case host names (no port) allowed in Host; undefined: any. */
  hosts: Set<string> | undefined;
  /** Lower-case origins (scheme://host[:port]) allowed in Origin; undefined: any. '*' allows any. */
  origins: Set<string> | undefined;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

export function isLoopbackListen(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function originPolicy(listenHost: string, allowedHosts: string[], allowedOrigins: string[]): OriginPolicy {
  const loopback = isLoopbackListen(listenHost);
  const hosts = allowedHosts.length > 0 ? allowedHosts : loopback ? LOOPBACK_NAMES : undefined;
  let origins: Set<string> | undefined;
  if (allowedOrigins.includes('*')) origins = undefined;
  else if (allowedOrigins.length > 0) origins = new Set(allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  else origins = loopback ? LOOPBACK_ORIGINS : undefined;
  return { hosts: hosts && !hosts.includes('*') ? new Set(hosts.map((h) => h.toLowerCase())) : undefined, origins };
}

/** Any port of a loopback name, over http or https. */
const LOOPBACK_ORIGINS = new Set<string>(['loopback']);

function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

function originAllowed(origin: string, allowed: Set<string>): boolean {
  const o = origin.trim().toLowerCase().replace(/\/$/, '');
  if (allowed === LOOPBACK_ORIGINS) {
    try {
      const url = new URL(o);
      return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_NAMES.includes(url.hostname);
    } catch {
      return false;
    }
  }
  return allowed.has(o);
}

/** Throws 403 FORBIDDEN_ORIGIN when Host or Origin is outside the policy. Requests without Origin pass. */
/** Verdicts for the Host values seen lately, per allowed-hosts set (http/recent-values.ts). */
const hostVerdicts = new WeakMap<Set<string>, RecentValues<boolean>>();

function hostAllowed(hosts: Set<string>, host: string): boolean {
  let verdicts = hostVerdicts.get(hosts);
  if (!verdicts) hostVerdicts.set(hosts, (verdicts = new RecentValues((h) => hosts.has(hostName(h)))));
  return verdicts.get(host);
}

export function checkOrigin(policy: OriginPolicy, headers: IncomingHttpHeaders): void {
  const host = headers.host;
  if (policy.hosts && (typeof host !== 'string' || !hostAllowed(policy.hosts, host))) {
    throw new GatewayError('FORBIDDEN_ORIGIN', 'Host is not one this gateway serves (DNS rebinding protection)');
  }
  const origin = headers.origin;
  if (origin !== undefined && policy.origins && (typeof origin !== 'string' || !originAllowed(origin, policy.origins))) {
    throw new GatewayError('FORBIDDEN_ORIGIN', 'Origin is not allowed (DNS rebinding protection)');
  }
}
