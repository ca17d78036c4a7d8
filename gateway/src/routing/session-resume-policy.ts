// Replay safety for --session-resume (issue 16): which request may the gateway send a second time, on the
// new upstream session, after the first attempt may have reached a backend that is now gone?
//  - Methods the MCP spec defines as reads: listing, reading, completing, pinging. Running one twice
//    changes nothing (MCP 2025-11-25: server features "Listing …", "Reading …", utilities "Ping",
//    "Completion").
//  - `tools/call` of a tool whose last `tools/list` answer (learned as it passed through the gateway)
//    declared `readOnlyHint: true` or `idempotentHint: true` (MCP "Tools", ToolAnnotations). Annotations
//    are hints the server gives about its own tools; the gateway only ever trusts what a backend said,
//    never the client.
// Anything else (a tool without those hints, sampling answers, notifications, unknown methods) is never
// sent twice: the client is told the call may or may not have run (session-resume-answer.ts).
// The requests the gateway records and replays after a resume (state the client set on the session) are
// listed here too, so one file says what resume sends on the client's behalf.
import { jsonRpcMessages } from '../mcp/body-messages.ts';

/** Methods that only read: safe to send again on a new upstream session. */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set([
  'ping',
  'tools/list',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'prompts/list',
  'prompts/get',
  'completion/complete',
]);

/** State-setting requests recorded per session and replayed after a resume, when the backend accepted them. */
export const REPLAYED_STATE_METHODS: ReadonlySet<string> = new Set(['logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

/** Tools remembered; a fleet with more tools than this resends calls of the rest never (the safe default). */
const MAX_TOOLS = 2000;
const MAX_NAME_LENGTH = 128;

/**
 * What the backends' `tools/list` answers said about each tool: true when a repeat is harmless
 * (`readOnlyHint` or `idempotentHint`). Every answer that passes overwrites what an earlier one said.
 */
export class ToolReplaySafety {
  readonly #safe = new Map<string, boolean>();

  /** Learns from a tools/list response body (JSON, or an SSE stream of JSON-RPC messages). */
  learnFromToolsList(body: string): void {
    for (const message of jsonRpcMessages(body)) {
      const tools = (message as { result?: { tools?: unknown } } | undefined)?.result?.tools;
      if (!Array.isArray(tools)) continue;
      for (const tool of tools as Array<{ name?: unknown; annotations?: { readOnlyHint?: unknown; idempotentHint?: unknown } }>) {
        if (typeof tool?.name !== 'string' || tool.name.length > MAX_NAME_LENGTH) continue;
        const a = tool.annotations;
        const safe = a?.readOnlyHint === true || a?.idempotentHint === true;
        if (!this.#safe.has(tool.name) && this.#safe.size >= MAX_TOOLS) continue;
        this.#safe.set(tool.name, safe);
      }
    }
  }

  /** True only when a backend declared the tool read-only or idempotent. */
  isSafe(tool: string | undefined): boolean {
    return tool !== undefined && this.#safe.get(tool) === true;
  }
}

/** May the request (`method`, and `tool` for tools/call) be sent again after an attempt that may have run? */
export function mayResend(method: string | undefined, tool: string | undefined, tools: ToolReplaySafety | undefined): boolean {
  if (method === undefined) return false;
  if (READ_ONLY_METHODS.has(method)) return true;
  return method === 'tools/call' && tools?.isSafe(tool) === true;
}
