// The one verdict on a binding a request presents (a session id, a legacy stream's id, a task id): whether
// this request may use it. Every route asks here, so that every route refuses alike and counts alike.
// Someone else's binding must look exactly like an unknown one to the client (ids cannot be probed), yet the
// operator sees it: the caller counts `other-principal` as mcp_gateway_sessions_lost_total{reason=
// "principal_mismatch"}. Whether the binding's backend still holds it is the route's question (backends/).
import type { SessionRecord } from '../sessions/store.ts';

export type BindingVerdict =
  /** The request may use it. */
  | 'usable'
  /** No replica knows the id. */
  | 'unknown'
  /** Bound, but by another transport (a task id presented as a session, …). */
  | 'other-kind'
  /**
   * Bound by another principal. A binding made without a principal (auth off, during a rollout that turns
   * auth on) is nobody's to claim, and one made by a principal is not open to all when auth is turned off.
   */
  | 'other-principal';

export function judgeBinding(record: SessionRecord | undefined, kind: SessionRecord['kind'], principal: string | undefined): BindingVerdict {
  if (record === undefined) return 'unknown';
  if (record.kind !== kind) return 'other-kind';
  if (record.principal !== principal) return 'other-principal';
  return 'usable';
}
