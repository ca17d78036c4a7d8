// Peeks into a POST body: just enough of JSON-RPC 2.0 to route (is it `initialize`?), to label metrics
// (method, tool) and to answer errors with the request's id. The body itself is forwarded byte for byte.
import { isUtf8 } from 'node:buffer';
import { GatewayError, type JsonRpcId } from '../errors.ts';

export interface JsonRpcPeek {
  /** The first message's id, for echoing in the gateway's own errors. */
  id: JsonRpcId | undefined;
  /** Method of the first request or notification; undefined for a body of responses only. */
  method: string | undefined;
  /** params.name of a tools/call (or prompts/get) request. */
  name: string | undefined;
  /**
   * What the 2026-07-28 Mcp-Name header mirrors for the first request: params.name, params.uri, or (tasks/*)
   * params.taskId; the gateway checks the header against it (http/edge-checks.ts).
   */
  mirroredName: string | undefined;
  /** `initialize` appears in the body. */
  isInitialize: boolean;
  /** params.protocolVersion of initialize, or the 2026-07-28 `_meta` protocol version. */
  protocolVersion: string | undefined;
  batch: boolean;
  /** Number of JSON-RPC requests (messages with both method and id). */
  requests: number;
}

/** 2026-07-28: "io.modelcontextprotocol/protocolVersion" in the request's `_meta`. */
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';

/**
 * Deepest nesting of arrays and objects accepted. JSON-RPC messages are shallow; a body of a million `[`
 * costs V8 half a second of CPU to parse, so it is refused by a linear scan before parsing.
 */
export const MAX_JSON_DEPTH = 128;

/** True when brackets outside strings nest deeper than `max`. */
export function nestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}


function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** One message must be a request, a notification or a response (JSON-RPC 2.0 §4, §5). */
function isMessage(m: unknown): m is Record<string, unknown> {
  if (!isObject(m) || m.jsonrpc !== '2.0') return false;
  if (typeof m.method === 'string') return m.id === undefined || isId(m.id);
  const isResponse = 'result' in m || ('error' in m && isObject(m.error));
  return isResponse && (isId(m.id) || m.id === null);
}

export function peekJsonRpc(body: Buffer): JsonRpcPeek {
  // A body no longer than the bound cannot nest deeper than it: the scan is for big bodies.
  if (body.length > MAX_JSON_DEPTH && nestsDeeperThan(body, MAX_JSON_DEPTH)) throw new GatewayError('INVALID_REQUEST', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let parsed: unknown;
  // Invalid UTF-8 is a parse error, not something to repair with U+FFFD and forward. A leading BOM is
  // skipped (RFC 8259 §8.1 lets a parser ignore it), as the WHATWG UTF-8 decoder did here before.
  if (!isUtf8(body)) throw new GatewayError('PARSE_ERROR');
  const bom = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  try {
    parsed = JSON.parse(body.toString('utf8', bom));
  } catch {
    throw new GatewayError('PARSE_ERROR');
  }
  const batch = Array.isArray(parsed);
  const messages: unknown[] = batch ? (parsed as unknown[]) : [parsed];
  const firstId = isObject(messages[0]) && isId(messages[0].id) ? messages[0].id : undefined;
  if (messages.length === 0 || !messages.every(isMessage)) {
    throw new GatewayError('INVALID_REQUEST', undefined, { rpcId: firstId });
  }

  const peek: JsonRpcPeek = {
    id: firstId,
    method: undefined,
    name: undefined,
    // Every field set here, so that every summary has one shape (one hidden class for the code that reads it).
    mirroredName: undefined,
    isInitialize: false,
    protocolVersion: undefined,
    batch,
    requests: 0,
  };
  for (const m of messages as Record<string, unknown>[]) {
    if (typeof m.method !== 'string') continue;
    if (m.id !== undefined) peek.requests++;
    const params = isObject(m.params) ? m.params : undefined;
    if (peek.method === undefined) {
      peek.method = m.method;
      if (typeof params?.name === 'string') peek.name = params.name;
      const mirrored = params?.name ?? params?.uri ?? params?.taskId;
      if (typeof mirrored === 'string') peek.mirroredName = mirrored;
      const meta = isObject(params?._meta) ? params._meta : undefined;
      if (typeof meta?.[META_PROTOCOL_VERSION] === 'string') peek.protocolVersion = meta[META_PROTOCOL_VERSION];
    }
    if (m.method === 'initialize' && m.id !== undefined) {
      peek.isInitialize = true;
      if (typeof params?.protocolVersion === 'string') peek.protocolVersion = params.protocolVersion;
    }
  }
  return peek;
}
