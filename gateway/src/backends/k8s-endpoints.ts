// EndpointSlices -> backends. The pod an endpoint points at (targetRef) is the backend's identity, never the
// address alone: pod IPs are handed to the next pod as soon as they are free, and a session must not follow
// an address to a process that never heard of it. Conditions follow the EndpointSlice API (KEP-1672):
//   ready        the pod may take new work                    -> ready
//   serving      it still answers, even while terminating     -> (with terminating) draining: keep its sessions
//   terminating  it is going away                             -> never new sessions
// An endpoint that leaves every slice is gone: the registry drops it and its sessions are unbound.
import { isIP } from 'node:net';
import type { K8sPort } from '../config/discovery-values.ts';
import type { BackendSpec } from './backend.ts';

/** The fields of a discovery.k8s.io/v1 EndpointSlice that discovery reads (client-node's V1EndpointSlice fits). */
export interface SliceLike {
  metadata?: { name?: string };
  addressType: string;
  ports?: Array<{ name?: string; port?: number; protocol?: string; appProtocol?: string }> | null;
  endpoints?: Array<{
    addresses: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null } | null;
    targetRef?: { kind?: string; name?: string; uid?: string } | null;
  }> | null;
}

export interface SliceMapping {
  specs: BackendSpec[];
  /** Slices that offer no usable port, with the reason (logged once per change). */
  skipped: Array<{ slice: string; reason: string }>;
}

/** The slice's port that serves MCP: by name, by number, or (none asked) the first, i.e. the Service's first. */
function pickPort(slice: SliceLike, wanted: K8sPort | undefined): { port: number; https: boolean } | string {
  const ports = slice.ports ?? [];
  // No ports listed means "all ports" (API reference): only a number asked for can be used then.
  if (ports.length === 0) return typeof wanted === 'number' ? { port: wanted, https: false } : 'the slice lists no ports';
  const p =
    wanted === undefined ? ports[0] : typeof wanted === 'number' ? ports.find((x) => x.port === wanted) : ports.find((x) => x.name === wanted);
  if (!p || p.port === undefined) return `no port ${wanted === undefined ? '' : `'${wanted}' `}among ${ports.map((x) => x.name || x.port).join(', ')}`;
  if (p.protocol !== undefined && p.protocol !== 'TCP') return `port ${p.name || p.port} is ${p.protocol}, MCP needs TCP`;
  return { port: p.port, https: p.appProtocol === 'https' };
}

const FAMILY_RANK: Record<string, number> = { IPv4: 0, IPv6: 1, FQDN: 2 };

interface Candidate {
  spec: BackendSpec;
  rank: number;
}

/** Lower is better: taking work > draining > not ready; then IPv4, IPv6, FQDN (dual-stack pods sit in two slices). */
function rankOf(spec: BackendSpec, addressType: string): number {
  const state = spec.ready ? 0 : spec.draining ? 1 : 2;
  return state * 10 + (FAMILY_RANK[addressType] ?? 3);
}

export function slicesToSpecs(slices: readonly SliceLike[], wanted: K8sPort | undefined, mcpPath: string): SliceMapping {
  const best = new Map<string, Candidate>();
  const skipped: SliceMapping['skipped'] = [];
  for (const slice of slices) {
    const port = pickPort(slice, wanted);
    if (typeof port === 'string') {
      if ((slice.endpoints ?? []).length > 0) skipped.push({ slice: slice.metadata?.name ?? '?', reason: port });
      continue;
    }
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses[0]; // the API: consumers use the first; the others are the same pod
      if (!address) continue;
      const host = isIP(address) === 6 ? `[${address}]` : address;
      const url = new URL(`${port.https ? 'https' : 'http'}://${host}:${port.port}${mcpPath}`);
      const c = ep.conditions ?? {};
      // Unknown (nil) readiness is to be read as ready; serving defaults to ready; terminating to false.
      const ready = c.ready ?? true;
      const terminating = c.terminating ?? false;
      const pod = ep.targetRef?.kind === 'Pod' && ep.targetRef.name ? ep.targetRef : undefined;
      const spec: BackendSpec = {
        // Endpoints that are not pods (hand-made slices) have nothing better than their address.
        id: pod ? (pod.name as string) : url.href,
        url,
        ready: ready && !terminating,
        draining: terminating,
        ...(pod?.uid ? { instance: pod.uid } : {}),
      };
      const candidate = { spec, rank: rankOf(spec, slice.addressType) };
      const seen = best.get(spec.id);
      if (!seen || candidate.rank < seen.rank || (candidate.rank === seen.rank && spec.url.href < seen.spec.url.href)) {
        best.set(spec.id, candidate);
      }
    }
  }
  const specs = [...best.values()].map((c) => c.spec).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { specs, skipped };
}
