// What the gateway checks before any routing: the transport rules of the MCP spec that a request can be
// judged on by itself. Each failure is a GatewayError with the status and JSON-RPC code the spec implies.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors.ts';
import { acceptsEventStream, acceptsPostResponse, isJsonContentType } from '../mcp/accept.ts';
import { H, isValidSessionId, singleHeader } from '../mcp/headers.ts';
import { peekJsonRpc, type JsonRpcPeek } from '../mcp/jsonrpc.ts';

export interface CheckedRequest {
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  peek: JsonRpcPeek | undefined;
  body: Buffer | undefined;
}

export function checkRequest(httpMethod: string, headers: IncomingHttpHeaders, rawBody: unknown): CheckedRequest {
  const sid = singleHeader(headers[H.SESSION_ID]);
  if (!sid.valid || (sid.value !== undefined && !isValidSessionId(sid.value))) {
    // Visible ASCII only (spec: Session Management); a repeated header is ambiguous, so refused too.
    throw new GatewayError('INVALID_SESSION_ID');
  }
  const version = singleHeader(headers[H.PROTOCOL_VERSION]);
  if (!version.valid) throw new GatewayError('BAD_REQUEST', 'repeated MCP-Protocol-Version header');

  const out: CheckedRequest = { sessionId: sid.value, protocolVersion: version.value, peek: undefined, body: undefined };
  if (httpMethod === 'POST') {
    if (!isJsonContentType(headers['content-type'])) throw new GatewayError('UNSUPPORTED_MEDIA_TYPE');
    const body = Buffer.isBuffer(rawBody) ? rawBody : undefined;
    if (!body || body.length === 0) throw new GatewayError('PARSE_ERROR', 'empty body');
    out.body = body;
    // Parsed before the Accept check so that its error can carry the request's id.
    out.peek = peekJsonRpc(body);
    if (!acceptsPostResponse(headers.accept)) {
      throw new GatewayError('NOT_ACCEPTABLE', 'the client must accept both application/json and text/event-stream', { rpcId: out.peek.id });
    }
  } else if (httpMethod === 'GET') {
    if (!acceptsEventStream(headers.accept)) {
      throw new GatewayError('NOT_ACCEPTABLE', 'a GET stream must accept text/event-stream');
    }
  }
  return out;
}
