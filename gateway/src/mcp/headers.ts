// MCP transport header names and the checks the gateway makes on them.
// Spec: Streamable HTTP, "Session Management" (2025-03-26 … 2025-11-25).

/** Header names as Node presents them (lower case). */
export const H = {
  SESSION_ID: 'mcp-session-id',
  PROTOCOL_VERSION: 'mcp-protocol-version',
  LAST_EVENT_ID: 'last-event-id',
  /** 2026-07-28: method and name mirrored from the body so that intermediaries need not parse it. */
  METHOD: 'mcp-method',
  NAME: 'mcp-name',
  REQUEST_ID: 'x-request-id',
} as const;

/** Longest session id the gateway accepts; real ones are UUIDs or similar (~36 chars). */
export const MAX_SESSION_ID_LENGTH = 256;

/**
 * "The session ID MUST only contain visible ASCII characters (ranging from 0x21 to 0x7E)."
 * Anything else (spaces, control characters, a repeated header) is refused before it reaches a store key.
 */
export function isValidSessionId(value: string): boolean {
  if (value.length === 0 || value.length > MAX_SESSION_ID_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** A header that must appear once: a repeated one (array in Node) counts as absent-but-invalid. */
export function singleHeader(value: string | string[] | undefined): { present: boolean; value?: string; valid: boolean } {
  if (value === undefined) return { present: false, valid: true };
  if (Array.isArray(value)) return { present: true, valid: false };
  return { present: true, value, valid: true };
}
