// GET /sessions/<id>: one binding as the store holds it, for "my session broke". Works for an
// Mcp-Session-Id, a legacy HTTP+SSE session id and a task id alike (one key space). Read-only: the lookup
// renews no TTL. The id is never echoed whole, and the principal only as a digest.
import { createHash } from 'node:crypto';
import { isValidSessionId } from '../mcp/headers.ts';
import { shortId } from '../routing/session-directory.ts';
import type { SessionRecord } from '../sessions/store.ts';
import { backendStateView } from './backend-state.ts';
import type { StatusDeps } from './status-snapshot.ts';

const ERA_OF_KIND: Record<SessionRecord['kind'], string> = {
  streamable: 'Streamable HTTP session (2025-03-26 … 2025-11-25)',
  'legacy-sse': 'legacy HTTP+SSE (2024-11-05)',
  task: 'stateless task (2026-07-28, Tasks extension)',
};

/** Enough to tell two principals apart and to match a log line's digest, never the principal itself. */
export function principalDigest(principal: string): string {
  return `sha256:${createHash('sha256').update(principal).digest('hex').slice(0, 16)}`;
}

export type LookupAnswer = { status: 200; body: Record<string, unknown> } | { status: 400 | 404 | 503; body: { error: string } };

export async function lookupSession(d: StatusDeps, id: string): Promise<LookupAnswer> {
  if (!isValidSessionId(id)) return { status: 400, body: { error: 'not a session or task id (visible ASCII, 1 to 256 characters)' } };
  let found: Awaited<ReturnType<StatusDeps['store']['inspect']>>;
  try {
    found = await d.storeGuard.run('get', () => d.store.inspect(id));
  } catch {
    return { status: 503, body: { error: 'the session store is not answering; try again, or another replica' } };
  }
  if (!found) return { status: 404, body: { error: 'no binding for this id: unknown, expired, deleted, or lost with its backend' } };
  const { record, ttlLeftMs } = found;
  const backend = d.registry.list().find((b) => b.id === record.backend);
  const now = Date.now();
  return {
    status: 200,
    body: {
      id: shortId(id),
      kind: record.kind,
      era: ERA_OF_KIND[record.kind] ?? record.kind,
      protocolVersion: record.protocolVersion ?? null,
      backend: record.backend,
      backendState: backend ? backendStateView(backend).state : 'unknown to this replica',
      incarnation: record.instance ?? null,
      principal: record.principal === undefined ? null : principalDigest(record.principal),
      createdAt: record.createdAt,
      // The TTL slides with use, so the last use is when it was last renewed (to within the batching of
      // renewals, a quarter of the TTL at most: routing/session-directory.ts).
      lastSeenAt: Math.max(record.createdAt, Math.min(now, now - (d.sessionTtlMs - ttlLeftMs))),
      ttlLeftMs,
      // i16-resume adds `resumes` to SessionRecord; 0 until then.
      resumes: (record as SessionRecord & { resumes?: number }).resumes ?? 0,
    },
  };
}

