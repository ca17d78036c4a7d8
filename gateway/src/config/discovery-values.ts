// Parsers for the discovery options (--dns-name, --dns-server, --k8s-service, --k8s-port). Like values.ts,
// each returns the typed value or throws a ValueError saying what was expected.
import { isIP } from 'node:net';
import { ValueError } from './values.ts';

/**
 * What --dns-name names: `host:port` is resolved to A and AAAA records, every address served on that port;
 * an SRV name (`_service._proto.name`, RFC 2782) carries a port per target. A Kubernetes headless Service
 * publishes both: `mcp.ns.svc.cluster.local:8080`, or `_mcp._tcp.mcp.ns.svc.cluster.local` for its port named mcp.
 */
export type DnsTarget = { kind: 'address'; host: string; port: number } | { kind: 'srv'; name: string };

export interface K8sServiceRef {
  /** Undefined: the gateway's own namespace (in a pod) or the kubeconfig context's. */
  namespace: string | undefined;
  name: string;
}

/** A port name (the Service port's name, as EndpointSlices list it) or a port number (the pods' port). */
export type K8sPort = string | number;

// RFC 1123 host names; underscores are allowed because SRV owner names (RFC 2782) start with them.
const DNS_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/;
// Kubernetes object names of Services and namespaces: RFC 1123 labels, lower case.
const K8S_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return bare.length > 0 && bare.length <= 253 && bare.split('.').every((l) => DNS_LABEL.test(l));
}

export function parseDnsTarget(raw: string): DnsTarget {
  const t = raw.trim();
  const expected = `expected host:port (A/AAAA records) or an SRV name such as _mcp._tcp.mcp.default.svc.cluster.local, got '${raw}'`;
  const colon = t.lastIndexOf(':');
  if (colon === -1) {
    if (t.startsWith('_') && isDnsName(t) && t.split('.').length >= 3) return { kind: 'srv', name: t };
    throw new ValueError(expected);
  }
  const host = t.slice(0, colon);
  const portText = t.slice(colon + 1);
  if (!isDnsName(host) || !/^\d{1,5}$/.test(portText)) throw new ValueError(expected);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new ValueError(`expected a port from 1 to 65535 in '${raw}'`);
  return { kind: 'address', host, port };
}

/** Comma-separated resolver addresses: `ip` or `ip:port` (IPv6 as `[addr]:port`), as node:dns takes them. */
export function parseDnsServers(raw: string): string[] {
  const servers = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) throw new ValueError('expected at least one resolver address');
  for (const s of servers) {
    const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(s) ?? [s, s, undefined];
    const ip = m[1] as string;
    const port = m[2] === undefined ? 53 : Number(m[2]);
    if (isIP(ip) === 0 || port < 1 || port > 65535) {
      throw new ValueError(`expected resolver addresses such as 10.96.0.10 or 127.0.0.1:5353 or [::1]:53, got '${s}'`);
    }
  }
  return servers;
}

export function parseK8sService(raw: string): K8sServiceRef {
  const parts = raw.trim().split('/');
  const ok = parts.length <= 2 && parts.every((p) => K8S_LABEL.test(p));
  if (!ok) throw new ValueError(`expected a Service as name or namespace/name (lower-case RFC 1123 labels), got '${raw}'`);
  return parts.length === 2 ? { namespace: parts[0] as string, name: parts[1] as string } : { namespace: undefined, name: parts[0] as string };
}

export function parseK8sPort(raw: string): K8sPort {
  const t = raw.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1 || n > 65535) throw new ValueError(`expected a port number from 1 to 65535, got ${n}`);
    return n;
  }
  if (!K8S_LABEL.test(t)) throw new ValueError(`expected a port name (as in the Service's ports) or number, got '${raw}'`);
  return t;
}
