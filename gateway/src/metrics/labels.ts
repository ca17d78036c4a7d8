// Bounded label values. A label fed from client input (method, tool name) goes through one of these so that
// no client can grow the number of series without limit.

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

/** Label for requests that carry no JSON-RPC method: GET streams, DELETE, JSON-RPC responses. */
export function methodLabel(httpMethod: string, rpcMethod: string | undefined, isResponse = false): string {
  if (rpcMethod !== undefined) return KNOWN_METHODS.has(rpcMethod) ? rpcMethod : 'other';
  if (isResponse) return 'response';
  if (httpMethod === 'GET') return 'stream';
  if (httpMethod === 'DELETE') return 'session/delete';
  return 'other';
}

export const SESSION_LOSS_REASONS = ['backend_down', 'backend_removed', 'backend_forgot', 'unknown_session', 'principal_mismatch'] as const;
export type SessionLossReason = (typeof SESSION_LOSS_REASONS)[number];

export const STORE_OPERATIONS = ['get', 'bind', 'touch', 'unbind', 'unbind_backend', 'count', 'publish', 'ping'] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

export const UPSTREAM_FAILURE_KINDS = ['connect', 'timeout', 'reset', 'other'] as const;

/**
 * Tool names are chosen by clients, so the label keeps the first `limit` distinct names it sees and files
 * the rest under `other`. (The observability issue may seed it from the backends' tools/list.)
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  readonly #limit: number;
  constructor(limit: number) {
    this.#limit = limit;
  }
  label(value: string | undefined): string {
    if (value === undefined) return '';
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#limit || value.length > 64) return 'other';
    this.#seen.add(value);
    return value;
  }
}
