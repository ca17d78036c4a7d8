// The one classifier that decides the path of every request on the MCP endpoint (DESIGN.md, "Protocol eras").
// It reads headers first and looks at the body peek only to tell `initialize` from the rest.
import type { JsonRpcPeek } from './jsonrpc.ts';

/** First revision without protocol-level sessions. */
export const STATELESS_REVISION = '2026-07-28';

export type RequestClass =
  /** 2025-era request on a session: sticky to the session's backend. */
  | { path: 'session'; sessionId: string }
  /** 2025-era initialize: choose a backend, then bind the session id it answers with. */
  | { path: 'initialize' }
  /** No affinity: 2026-07-28 requests, and anything else without a session (the backend answers). */
  | { path: 'stateless' };

export interface ClassifyInput {
  httpMethod: string;
  /** A validated Mcp-Session-Id, when present. */
  sessionId: string | undefined;
  /** MCP-Protocol-Version header. */
  protocolVersion: string | undefined;
  /** POST body summary; undefined for GET/DELETE. */
  peek: JsonRpcPeek | undefined;
}

/** Protocol versions are dates (YYYY-MM-DD), so they order as strings. */
export function isStatelessVersion(version: string | undefined): boolean {
  return version !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= STATELESS_REVISION;
}

export function classify(input: ClassifyInput): RequestClass {
  const version = input.protocolVersion ?? input.peek?.protocolVersion;
  // 2026-07-28 §Backward Compatibility: a session id on a modern request is ignored, never routed by.
  if (isStatelessVersion(version) && !input.peek?.isInitialize) return { path: 'stateless' };
  if (input.sessionId !== undefined) return { path: 'session', sessionId: input.sessionId };
  if (input.httpMethod === 'POST' && input.peek?.isInitialize) return { path: 'initialize' };
  return { path: 'stateless' };
}
