// A session binding as the Redis store keeps it: compact JSON with one-letter keys (every replica reads it on a
// cache miss, and the store holds one per session), read back leniently (a value it cannot read is no binding).
import type { SessionRecord } from './store.ts';

/** Compact wire form of a SessionRecord. */
interface Wire {
  b: string;
  i?: string;
  p?: string;
  v?: string;
  k: SessionRecord['kind'];
  c: number;
  // i16-resume: upstream session id, initialize params, replay list, resume count (absent when unused).
  u?: string;
  n?: string;
  r?: Array<[string, string]>;
  x?: number;
}

export function encodeRecord(r: SessionRecord): string {
  const w: Wire = { b: r.backend, k: r.kind, c: r.createdAt };
  if (r.instance !== undefined) w.i = r.instance;
  if (r.principal !== undefined) w.p = r.principal;
  if (r.protocolVersion !== undefined) w.v = r.protocolVersion;
  if (r.upstreamId !== undefined) w.u = r.upstreamId;
  if (r.init !== undefined) w.n = r.init;
  if (r.replay !== undefined && r.replay.length > 0) w.r = r.replay.map((e) => [e.method, e.params]);
  if (r.resumes !== undefined) w.x = r.resumes;
  return JSON.stringify(w);
}

export function decodeRecord(text: string): SessionRecord | undefined {
  try {
    const w = JSON.parse(text) as Partial<Wire>;
    if (typeof w.b !== 'string' || typeof w.c !== 'number') return undefined;
    const r: SessionRecord = { backend: w.b, kind: w.k ?? 'streamable', createdAt: w.c };
    if (typeof w.i === 'string') r.instance = w.i;
    if (typeof w.p === 'string') r.principal = w.p;
    if (typeof w.v === 'string') r.protocolVersion = w.v;
    if (typeof w.u === 'string') r.upstreamId = w.u;
    if (typeof w.n === 'string') r.init = w.n;
    if (Array.isArray(w.r)) r.replay = w.r.filter((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string').map(([method, params]) => ({ method, params }));
    if (typeof w.x === 'number') r.resumes = w.x;
    return r;
  } catch {
    return undefined;
  }
}
