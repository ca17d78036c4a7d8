// Turns DNS answers into backends. Kept apart from the polling loop (dns-discovery.ts) so that the rules
// (which answers count as "no backends", SRV priorities, URL forms) are tested on their own.
import { isIP } from 'node:net';
import type { DnsTarget } from '../config/discovery-values.ts';
import type { BackendSpec } from './backend.ts';

/** The part of node:dns's promise Resolver that discovery uses (a fake-free seam for unit tests). */
export interface DnsLookup {
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
  resolveSrv(name: string): Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
}

export interface ResolvedEndpoint {
  address: string;
  port: number;
}

/**
 * Answers that say authoritatively "there is nothing here": the name does not exist (NXDOMAIN) or has no
 * record of the type (NODATA). A headless Service with no ready pod answers like this, so it means "no
 * backends". Anything else (timeout, SERVFAIL, refused) says nothing about the backends: keep the last set.
 */
export function isAuthoritativeEmpty(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

/** A and AAAA of one host; empty when both are authoritatively empty; throws on any other failure of both. */
async function addressesOf(dns: DnsLookup, host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  const [v4, v6] = await Promise.allSettled([dns.resolve4(host), dns.resolve6(host)]);
  const out: string[] = [];
  const failures: unknown[] = [];
  for (const r of [v4, v6]) {
    if (r.status === 'fulfilled') out.push(...r.value);
    else if (!isAuthoritativeEmpty(r.reason)) failures.push(r.reason);
  }
  // One family answering is enough (single-stack clusters answer NODATA, or time out, for the other).
  if (out.length === 0 && failures.length > 0) throw failures[0];
  return out;
}

export async function resolveTarget(dns: DnsLookup, target: DnsTarget): Promise<ResolvedEndpoint[]> {
  if (target.kind === 'address') {
    return (await addressesOf(dns, target.host)).map((address) => ({ address, port: target.port }));
  }
  let records: Awaited<ReturnType<DnsLookup['resolveSrv']>>;
  try {
    records = await dns.resolveSrv(target.name);
  } catch (err) {
    if (isAuthoritativeEmpty(err)) return [];
    throw err;
  }
  // RFC 2782: a target of "." means the service is decidedly not available at this domain; clients use the
  // lowest priority value they can reach, the others are backups. Weights are left to least-sessions placement.
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  if (usable.length === 0) return [];
  const best = Math.min(...usable.map((r) => r.priority));
  const out: ResolvedEndpoint[] = [];
  for (const r of usable.filter((x) => x.priority === best)) {
    for (const address of await addressesOf(dns, r.name)) out.push({ address, port: r.port });
  }
  return out;
}

/** Backends for resolved endpoints: identified by URL (DNS knows no pods), always ready, sorted, unique. */
export function endpointsToSpecs(endpoints: readonly ResolvedEndpoint[], mcpPath: string): BackendSpec[] {
  const byId = new Map<string, BackendSpec>();
  for (const e of endpoints) {
    const host = isIP(e.address) === 6 ? `[${e.address}]` : e.address;
    const url = new URL(`http://${host}:${e.port}${mcpPath}`);
    byId.set(url.href, { id: url.href, url, ready: true, draining: false });
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
