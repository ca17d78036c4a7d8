// The one classifier that decides the path of every request the gateway serves (DESIGN.md, "Protocol eras").
// It reads what the endpoint and the headers say first, and looks into the body (`peek`, computed on first
// use) only when they cannot decide: to tell a 2025-era `initialize` from the rest.
//
//   endpoint          era signal                                         path
//   --------          ----------                                         ----
//   legacy SSE path   GET (2024-11-05 HTTP+SSE)                          legacy-sse-open
//   legacy messages   POST ?sessionId=                                   legacy-sse-message
//   MCP endpoint      Mcp-Session-Id (any version header)                session (2026+: `otherwise` below)
//                     MCP-Protocol-Version >= 2026-07-28 + Mcp-Method    stateless (tasks/* + Mcp-Name: task); no body parse
//                     MCP-Protocol-Version >= 2026-07-28, no Mcp-Method  body decides initialize, else stateless
//                     no session id: POST initialize                     initialize
//                     anything else                                      stateless (the backend answers)
import type { JsonRpcPeek } from './jsonrpc.ts';

/** First revision without protocol-level sessions. */
export const STATELESS_REVISION = '2026-07-28';

/** Methods whose answer may be a task handle (SEP-2663 "Supported Methods"). */
export const TASK_CREATING_METHODS: ReadonlySet<string> = new Set(['tools/call']);

/** Methods addressed to an existing task, which carry its id in Mcp-Name (SEP-2663 "Routing Headers"). */
export const TASK_METHODS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);

export type Endpoint = 'mcp' | 'legacy-sse' | 'legacy-messages';

export type RequestClass =
  /** 2024-11-05: open the SSE stream that is the session, on a replica of our choice. */
  | { path: 'legacy-sse-open' }
  /** 2024-11-05: a message for the session a stream holds; the id is in the query. */
  | { path: 'legacy-sse-message'; sessionId: string | undefined }
  /**
   * A request naming a session: sticky to the session's backend, once the lookup and the principal check
   * pass. `otherwise` (a request of 2026-07-28 or later, whose servers ignore the id): how to route it when
   * the id is not the caller's session; the id is then not forwarded. So a session id never reaches a
   * backend unchecked, whatever version the request names (a dual-era server may act on it).
   */
  | { path: 'session'; sessionId: string; otherwise?: SessionlessClass }
  /** 2025-era initialize: choose a backend, then bind the session id it answers with. */
  | { path: 'initialize' }
  /** 2026-07-28 request to an existing task: pinned to the replica holding it, when the gateway knows it. */
  | { path: 'task'; taskId: string }
  /** No affinity; `watchForTask`: the answer may create a task the gateway must learn. */
  | { path: 'stateless'; watchForTask: boolean };

/** What a request is without a session. */
export type SessionlessClass = Extract<RequestClass, { path: 'initialize' | 'task' | 'stateless' }>;

export interface ClassifyInput {
  httpMethod: string;
  endpoint: Endpoint;
  /** A validated Mcp-Session-Id header, when present. */
  sessionId: string | undefined;
  /** `sessionId` in the query of a legacy messages POST. */
  legacySessionId: string | undefined;
  /** MCP-Protocol-Version header. */
  protocolVersion: string | undefined;
  /** Mcp-Method header. */
  mcpMethod: string | undefined;
  /** Mcp-Name header, decoded. */
  mcpName: string | undefined;
  /** Body summary of a POST (computed on first call; may throw a parse error); undefined otherwise. */
  peek: () => JsonRpcPeek | undefined;
}

const VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Protocol versions are dates (YYYY-MM-DD), so they order as strings. The comparison comes first: it settles
 * every 2025-era request without the pattern test (asked three times per request; issue 17).
 */
export function isStatelessVersion(version: string | undefined): boolean {
  return version !== undefined && version >= STATELESS_REVISION && VERSION_SHAPE.test(version);
}

/**
 * True when the headers alone say what the request is: a 2026-07-28 request names its method in Mcp-Method.
 * Headers are trusted only from a revision that requires servers to check them against the body (2026-07-28
 * Streamable HTTP, "Server Validation": intermediaries SHOULD NOT act on unvalidated header values).
 */
export function headersSuffice(input: Pick<ClassifyInput, 'protocolVersion' | 'mcpMethod'>): boolean {
  return isStatelessVersion(input.protocolVersion) && input.mcpMethod !== undefined;
}

export function classify(input: ClassifyInput): RequestClass {
  if (input.endpoint === 'legacy-sse') return { path: 'legacy-sse-open' };
  if (input.endpoint === 'legacy-messages') return { path: 'legacy-sse-message', sessionId: input.legacySessionId };

  const modern = classifyModern(input);
  if (input.sessionId !== undefined) return modern ? { path: 'session', sessionId: input.sessionId, otherwise: modern } : { path: 'session', sessionId: input.sessionId };
  if (modern) return modern;
  if (input.httpMethod === 'POST') {
    const p = input.peek();
    if (p?.isInitialize) return { path: 'initialize' };
    // 2026-07-28 requires the version header, but a body that claims the revision is still sessionless.
    const modernBody = isStatelessVersion(p?.protocolVersion);
    return { path: 'stateless', watchForTask: modernBody && p?.method !== undefined && TASK_CREATING_METHODS.has(p.method) };
  }
  return { path: 'stateless', watchForTask: false };
}

/** A request whose version header names 2026-07-28 or later; undefined for older revisions. */
function classifyModern(input: ClassifyInput): SessionlessClass | undefined {
  if (headersSuffice(input)) {
    const method = input.mcpMethod as string;
    if (method === 'initialize') return { path: 'initialize' };
    if (TASK_METHODS.has(method) && input.mcpName !== undefined) return { path: 'task', taskId: input.mcpName };
    return { path: 'stateless', watchForTask: TASK_CREATING_METHODS.has(method) };
  }
  if (!isStatelessVersion(input.protocolVersion)) return undefined;
  // A modern request without its method header (non-conforming): the body tells initialize from the rest.
  const p = input.httpMethod === 'POST' ? input.peek() : undefined;
  if (p?.isInitialize) return { path: 'initialize' };
  return { path: 'stateless', watchForTask: p?.method !== undefined && TASK_CREATING_METHODS.has(p.method) };
}
