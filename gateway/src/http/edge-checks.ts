// What the gateway checks before any routing: the transport rules of the MCP spec that a request can be
// judged on by itself. Each failure is a GatewayError with the status and JSON-RPC code the spec implies.
// The body is parsed only when something needs it (`peek`, memoized): never on the 2026-07-28 path where the
// headers name the method, unless an error must echo the request's id.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors.ts';
import { acceptsEventStream, acceptsPostResponse, isJsonContentType } from '../mcp/accept.ts';
import { headersSuffice, type Endpoint } from '../mcp/classify.ts';
import { decodeHeaderValue } from '../mcp/header-values.ts';
import { H, isValidSessionId, singleHeader } from '../mcp/headers.ts';
import { peekJsonRpc, type JsonRpcPeek } from '../mcp/jsonrpc.ts';

export interface CheckedRequest {
  endpoint: Endpoint;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  /** Mcp-Method and Mcp-Name (decoded), as the client sent them. */
  mcpMethod: string | undefined;
  mcpName: string | undefined;
  /** `sessionId` from the query of a legacy messages POST. */
  legacySessionId: string | undefined;
  body: Buffer | undefined;
  /** The body's JSON-RPC summary, parsed on first call (throws PARSE_ERROR / INVALID_REQUEST). */
  peek(): JsonRpcPeek | undefined;
  /** The summary if something already asked for it. */
  readonly peeked: JsonRpcPeek | undefined;
}

export function checkRequest(
  endpoint: Endpoint,
  httpMethod: string,
  headers: IncomingHttpHeaders,
  rawBody: unknown,
  query: URLSearchParams,
): CheckedRequest {
  const sid = singleHeader(headers[H.SESSION_ID]);
  if (!sid.valid || (sid.value !== undefined && !isValidSessionId(sid.value))) {
    // Visible ASCII only (spec: Session Management); a repeated header is ambiguous, so refused too.
    throw new GatewayError('INVALID_SESSION_ID');
  }
  const version = singleHeader(headers[H.PROTOCOL_VERSION]);
  if (!version.valid) throw new GatewayError('BAD_REQUEST', 'repeated MCP-Protocol-Version header');

  const body = httpMethod === 'POST' && Buffer.isBuffer(rawBody) ? rawBody : undefined;
  let peeked: JsonRpcPeek | undefined;
  const out: CheckedRequest = {
    endpoint,
    sessionId: sid.value,
    protocolVersion: version.value,
    mcpMethod: decodeHeaderValue(headers[H.METHOD]),
    mcpName: decodeHeaderValue(headers[H.NAME]),
    legacySessionId: undefined,
    body,
    peek: () => (body === undefined ? undefined : (peeked ??= peekJsonRpc(body))),
    get peeked() {
      return peeked;
    },
  };

  if (httpMethod === 'POST') {
    if (!isJsonContentType(headers['content-type'])) throw new GatewayError('UNSUPPORTED_MEDIA_TYPE');
    if (!body || body.length === 0) throw new GatewayError('PARSE_ERROR', 'empty body');
  }
  if (endpoint === 'legacy-messages') {
    // 2024-11-05: messages for the session named in the query; clients need not send an Accept header.
    out.peek();
    const id = query.getAll('sessionId');
    if (id.length !== 1 || !isValidSessionId(id[0] as string)) throw new GatewayError('BAD_REQUEST', 'a sessionId query parameter is required', { rpcId: out.peeked?.id });
    out.legacySessionId = id[0];
  } else if (httpMethod === 'POST') {
    // Parsed before the Accept check so that its error can carry the request's id, except where the headers
    // say everything: there the id is looked up only if the check fails.
    if (!headersSuffice(out)) out.peek();
    if (!acceptsPostResponse(headers.accept)) {
      throw new GatewayError('NOT_ACCEPTABLE', 'the client must accept both application/json and text/event-stream', { rpcId: idIfParsable(out) });
    }
  } else if (httpMethod === 'GET') {
    if (!acceptsEventStream(headers.accept)) throw new GatewayError('NOT_ACCEPTABLE', 'a GET stream must accept text/event-stream');
  }
  return out;
}

function idIfParsable(req: CheckedRequest): JsonRpcPeek['id'] {
  try {
    return req.peek()?.id;
  } catch {
    return undefined;
  }
}
