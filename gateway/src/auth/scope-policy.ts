// Which scopes a request needs: the ones every request needs (--auth-required-scopes), plus those of the
// JSON-RPC methods and named tools/prompts it calls (--auth-method-scopes). The method and name come from
// the body, which is what the backend acts on, never from headers a client could set to something else.
import type { ScopeRule } from '../config/auth.ts';
import type { JsonRpcPeek } from '../mcp/jsonrpc.ts';

export interface Operation {
  method: string;
  name: string | undefined;
}

/**
 * The operations of a POST body. The peek knows the first message; a batch (JSON-RPC 2.0 §6, allowed by
 * MCP 2025-03-26) is read whole, or a call to a guarded tool could hide behind a harmless first message.
 */
export function operationsOf(peek: JsonRpcPeek | undefined, body: Buffer | undefined): Operation[] {
  if (!peek) return [];
  if (!peek.batch || !body) return peek.method === undefined ? [] : [{ method: peek.method, name: peek.name }];
  const out: Operation[] = [];
  // The peek parsed this body already, so it is valid JSON (an array of messages).
  for (const m of JSON.parse(body.toString('utf8')) as unknown[]) {
    if (typeof m !== 'object' || m === null) continue;
    const { method, params } = m as { method?: unknown; params?: unknown };
    if (typeof method !== 'string') continue;
    const name = typeof params === 'object' && params !== null && typeof (params as { name?: unknown }).name === 'string' ? (params as { name: string }).name : undefined;
    out.push({ method, name });
  }
  return out;
}

export class ScopePolicy {
  /** Scopes every request needs. */
  readonly required: readonly string[];
  readonly #rules: readonly ScopeRule[];

  constructor(required: readonly string[], rules: readonly ScopeRule[]) {
    this.required = required;
    this.#rules = rules;
  }

  get hasRules(): boolean {
    return this.#rules.length > 0;
  }

  /** Every scope the operations need, the required ones first; empty when no rule applies. */
  scopesFor(ops: readonly Operation[]): string[] {
    const out = new Set<string>();
    for (const op of ops) {
      for (const r of this.#rules) {
        if (r.method === op.method && (r.name === undefined || r.name === op.name)) for (const s of r.scopes) out.add(s);
      }
    }
    if (out.size === 0) return [];
    return [...new Set([...this.required, ...out])];
  }
}
