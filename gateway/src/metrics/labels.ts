// Bounded label values. A label fed from client input (method, tool name) goes through one of these so that
// no client can grow the number of series without limit.
import { RecentValues } from '../http/recent-values.ts';

/** JSON-RPC methods of MCP (all revisions); anything else is labelled `other`. */
export const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'subscriptions/listen',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/update',
  'tasks/cancel',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message',
]);

/**
 * The label of each method seen lately (http/recent-values.ts: the last one is compared first, since a Set
 * lookup with each request's new method string costs V8 an internalization; issue 17).
 */
const knownMethodLabels = new RecentValues((method) => (KNOWN_METHODS.has(method) ? method : 'other'));

/** Label for requests that carry no JSON-RPC method: GET streams, DELETE, JSON-RPC responses. */
export function methodLabel(httpMethod: string, rpcMethod: string | undefined, isResponse = false): string {
  if (rpcMethod !== undefined) return knownMethodLabels.get(rpcMethod);
  if (isResponse) return 'response';
  if (httpMethod === 'GET') return 'stream';
  if (httpMethod === 'DELETE') return 'session/delete';
  return 'other';
}

/**
 * Why a session ended without a DELETE: its backend went down or left discovery, its backend no longer knew
 * it (404), it expired (counted by the in-memory store; Redis expires keys silently), or another principal
 * presented it (refused as if unknown).
 */
export const SESSION_LOSS_REASONS = ['backend_down', 'backend_removed', 'backend_forgot', 'expired', 'principal_mismatch'] as const;
export type SessionLossReason = (typeof SESSION_LOSS_REASONS)[number];

/** Outcomes of asking the backends for a session no replica knows (routing/session-recovery.ts). */
/** i16-resume: mcp_gateway_sessions_resumed_total{outcome} (routing/session-resume.ts). */
export const RESUME_OUTCOMES = ['resumed', 'replayed', 'not_replayed', 'failed'] as const;
export type ResumeOutcome = (typeof RESUME_OUTCOMES)[number];

export const RECOVERY_RESULTS = ['recovered', 'not_found', 'ambiguous', 'busy', 'failed'] as const;

/** Limits that refuse requests (http/limits.ts and the edge checks). */
export const LIMITS = [
  'header_bytes',
  'header_count',
  'request_timeout',
  'malformed_http',
  'connections',
  'body_bytes',
  'rate',
  'sessions_per_principal',
  'streams_per_session',
  'streams_per_principal',
  'origin',
] as const;
/** Why the auth layer refused a request (mcp_gateway_auth_failures_total). Never more than these. */
export const AUTH_FAILURE_REASONS = [
  'missing_token',
  'unsupported_scheme',
  'malformed_header',
  'token_in_query',
  'malformed_token',
  'disallowed_algorithm',
  'unknown_key',
  'bad_signature',
  'wrong_issuer',
  'wrong_audience',
  'expired',
  'not_yet_valid',
  'missing_claim',
  'sender_constrained',
  'inactive',
  'unknown_api_key',
  'insufficient_scope',
  'auth_server_unavailable',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export const STORE_OPERATIONS = ['get', 'bind', 'touch', 'unbind', 'unbind_backend', 'count', 'publish', 'ping', 'rate', 'resume_claim', 'replace'] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

export const UPSTREAM_FAILURE_KINDS = ['connect', 'timeout', 'reset', 'local', 'other'] as const;
