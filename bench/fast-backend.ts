// A minimal, fast MCP-shaped backend for measuring proxy overhead: it does just enough of Streamable HTTP
// (sessions era) that a client and the gateway treat it as an MCP server, and nothing that costs time.
//   initialize          mints a session id (Mcp-Session-Id), answers JSON
//   notification/answer 202, no body
//   tools/call          answers at once with its replica name (body and `x-bench-replica` header)
//   other requests      an empty result
//   GET                 opens an SSE stream that stays open (idle)
//   DELETE              ends the session (and closes its GET streams)
// `--sse` answers every POST that carries a request as a one-event SSE stream (`event: message`), as the
// official SDK servers do by default; without it the answers are JSON.
// `--strict` answers 404 (JSON-RPC -32001) to an id it did not mint, as real MCP servers do: that is what
// exposes a proxy that does not keep sessions on their replica. Without it any id is accepted, so hash-based
// proxies (HAProxy, nginx) can be measured for raw overhead.
//   node bench/fast-backend.ts --port 0 --name a [--strict] [--sse] [--path /mcp]
// Prints one JSON line when listening (same shape as demo/backend.ts).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string', default: 'fast' },
    path: { type: 'string', default: '/mcp' },
    strict: { type: 'boolean', default: false },
    sse: { type: 'boolean', default: false },
  },
});
const replica = values.name;
const strict = values.strict;
const sse = values.sse;
const idPrefix = `${replica}-${randomBytes(4).toString('hex')}-`;
let minted = 0;
/** Live sessions (strict mode) and their open GET streams. */
const sessions = new Map<string, Set<ServerResponse>>();

const JSON_HEADERS = { 'content-type': 'application/json', 'x-bench-replica': replica };
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-bench-replica': replica };
const NOT_FOUND = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });

function answer(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  res.writeHead(status, extra ? { ...JSON_HEADERS, ...extra } : JSON_HEADERS).end(body);
}

/** A JSON-RPC response to a request: one SSE event then the end of the stream (--sse), or a JSON body. */
function respond(res: ServerResponse, body: string, extra?: Record<string, string>): void {
  if (!sse) return answer(res, 200, body, extra);
  res.writeHead(200, extra ? { ...SSE_HEADERS, ...extra } : SSE_HEADERS).end(`event: message\ndata: ${body}\n\n`);
}

function result(id: unknown, value: unknown): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(value)}}`;
}

function known(sid: string): boolean {
  return !strict || sessions.has(sid);
}

function onPost(req: IncomingMessage, res: ServerResponse, raw: string, sid: string | undefined): void {
  let msg: { id?: unknown; method?: string; params?: { name?: string } };
  try {
    msg = JSON.parse(raw) as typeof msg;
  } catch {
    return answer(res, 400, '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
  }
  if (msg.method === 'initialize' && sid === undefined) {
    const id = idPrefix + String(++minted);
    if (strict) sessions.set(id, new Set());
    const init = { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'bench-fast', version: '1.0.0' } };
    return respond(res, result(msg.id, init), { 'mcp-session-id': id });
  }
  if (sid === undefined) return answer(res, 400, '{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Mcp-Session-Id header is required"}}');
  if (!known(sid)) return answer(res, 404, NOT_FOUND);
  if (msg.id === undefined || msg.method === undefined) {
    res.writeHead(202, { 'x-bench-replica': replica }).end();
    return;
  }
  if (msg.method === 'tools/call') {
    return respond(res, result(msg.id, { content: [{ type: 'text', text: replica }], structuredContent: { replica, tool: msg.params?.name ?? null } }));
  }
  return respond(res, result(msg.id, {}));
}

function onGet(res: ServerResponse, sid: string | undefined): void {
  // Without a session a GET is not a stream (health probes land here): 400 like the SDK's servers.
  if (sid === undefined) return answer(res, 400, '{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Mcp-Session-Id header is required"}}');
  if (!known(sid)) return answer(res, 404, NOT_FOUND);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-bench-replica': replica });
  res.flushHeaders();
  const streams = sessions.get(sid);
  if (streams) {
    streams.add(res);
    res.once('close', () => streams.delete(res));
  }
}

function onDelete(res: ServerResponse, sid: string | undefined): void {
  if (sid === undefined || !known(sid)) return answer(res, 404, NOT_FOUND);
  for (const stream of sessions.get(sid) ?? []) stream.end();
  sessions.delete(sid);
  res.writeHead(200, { 'x-bench-replica': replica }).end();
}

const server = createServer((req, res) => {
  const path = req.url === undefined ? '' : req.url.split('?', 1)[0];
  if (path !== values.path) return answer(res, 404, '{"error":"not found"}');
  const header = req.headers['mcp-session-id'];
  const sid = typeof header === 'string' ? header : undefined;
  if (req.method === 'GET') return onGet(res, sid);
  if (req.method === 'DELETE') return onDelete(res, sid);
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST, DELETE' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => onPost(req, res, chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString(), sid));
});
server.keepAliveTimeout = 65_000; // longer than any proxy's idle pool timeout: the proxy closes first
server.maxConnections = 1_000_000;
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: 'listening', replica, port, strict, sse, url: `http://${values.host}:${port}${values.path}` })}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
