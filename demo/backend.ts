// One replica of the demo MCP server (official SDK v2) as a standalone process, serving every transport era:
//   node demo/backend.ts --port 3001 --name replica-a [--json]
//  - 2026-07-28 requests (per-request `_meta` envelope): stateless, through the SDK's createMcpHandler;
//  - 2025-era clients (initialize, Mcp-Session-Id): real sessions kept in this process, with an event store
//    for resumable streams, exactly the kind of server that needs a session-aware gateway to scale out;
//  - 2024-11-05 HTTP+SSE clients: GET /sse + POST /messages?sessionId= (the SDK's frozen legacy transport).
// Prints one JSON line when listening. MCP_STATE_KEY (32+ bytes) seals multi-round-trip state; give every
// replica the same key so that a retried request may land on any of them.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { NodeStreamableHTTPServerTransport, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import { createMcpHandler, createRequestStateCodec, isInitializeRequest, isLegacyRequest } from '@modelcontextprotocol/server';
import { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';
import { MemoryEventStore } from './event-store.ts';
import { TaskRegistry } from './tasks.ts';
import { buildDemoServer, type RoundState } from './tools.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3001' },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    name: { type: 'string', default: process.env.REPLICA_NAME },
    path: { type: 'string', default: '/mcp' },
    'sse-path': { type: 'string', default: '/sse' },
    'messages-path': { type: 'string', default: '/messages' },
    // Answer requests with a single JSON body (headers only once the result is ready) instead of SSE.
    json: { type: 'boolean', default: false },
    // One JSON line per request received (method, path, header names: never values), for tests that must
    // prove what reached a backend and what did not.
    'log-requests': { type: 'boolean', default: false },
    // Where the `increment` tool records each run (demo/resume-tools.ts): survives a SIGKILL of this process.
    'side-effects-file': { type: 'string' },
  },
});
const replica = values.name ?? `replica-${values.port}`;
const stateCodec = createRequestStateCodec<RoundState>({ key: process.env.MCP_STATE_KEY ?? randomBytes(32), ttlSeconds: 600 });
const tasks = new TaskRegistry();
const activity = { sleeping: 0 };
const resume = { sideEffectsFile: values['side-effects-file'], subscribers: new Map() };
const build = (era: 'legacy' | 'modern') => buildDemoServer({ replica, era, stateCodec, tasks, activity, resume });

const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
/** Session id -> who created it, as the gateway forwarded it (auth on); absent when no identity came. */
const creators = new Map<string, string>();

/**
 * The caller as the gateway's default identity headers name it (issuer + subject), or undefined without
 * auth. A backend behind the gateway may trust these: the gateway removes any the client sent.
 */
function callerOf(req: IncomingMessage): string | undefined {
  const subject = req.headers['x-auth-subject'];
  if (typeof subject !== 'string') return undefined;
  const issuer = req.headers['x-auth-issuer'];
  return `${typeof issuer === 'string' ? issuer : ''} ${subject}`;
}
const legacySse = new Map<string, SSEServerTransport>();
const modern = createMcpHandler(() => build('modern'), { legacy: 'reject', responseMode: values.json ? 'json' : 'auto' });
const modernNode = toNodeHandler(modern);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
const rpcError = (code: number, message: string) => ({ jsonrpc: '2.0', id: null, error: { code, message } });

async function readBody(req: IncomingMessage): Promise<{ ok: boolean; body: unknown }> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return { ok: true, body: undefined };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false, body: undefined };
  }
}

/** 2025 era: one transport per session, created by initialize. */
async function serveSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const sid = req.headers['mcp-session-id'];
  if (typeof sid === 'string') {
    const transport = sessions.get(sid);
    // A session answers only the identity that created it: what lets the gateway recover sessions with auth
    // on (--session-recovery-identity), since a ping from anyone else gets the same 404 as an unknown id.
    if (!transport || (creators.has(sid) && creators.get(sid) !== callerOf(req))) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
    return transport.handleRequest(req, res, body);
  }
  if (req.method === 'POST' && isInitializeRequest(body)) {
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new MemoryEventStore(),
      enableJsonResponse: values.json,
      // 2025-11-25 polling: after the server closes a stream, the client waits this long before resuming.
      retryInterval: 200,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
        const creator = callerOf(req);
        if (creator !== undefined) creators.set(id, creator);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) {
        sessions.delete(transport.sessionId);
        creators.delete(transport.sessionId);
      }
    };
    await build('legacy').connect(transport);
    return transport.handleRequest(req, res, body);
  }
  return sendJson(res, 400, rpcError(-32000, 'Bad Request: Mcp-Session-Id header is required'));
}

/** 2024-11-05 HTTP+SSE: the stream is the session; messages are POSTed next to it. */
async function serveLegacySse(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method === 'GET' && url.pathname === values['sse-path']) {
    const transport = new SSEServerTransport(values['messages-path'], res);
    legacySse.set(transport.sessionId, transport);
    transport.onclose = () => legacySse.delete(transport.sessionId);
    await build('legacy').connect(transport);
    return;
  }
  const transport = legacySse.get(url.searchParams.get('sessionId') ?? '');
  if (req.method !== 'POST' || !transport) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
  return transport.handlePostMessage(req, res);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (values['log-requests']) {
    const line = { event: 'request', method: req.method, path: url.pathname, headers: Object.keys(req.headers).sort(), ua: req.headers['user-agent'] ?? null };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  if (url.pathname === '/healthz') return sendJson(res, 200, { replica, sessions: sessions.size, legacySse: legacySse.size, ...activity });
  if (url.pathname === values['sse-path'] || url.pathname === values['messages-path']) return serveLegacySse(req, res, url);
  if (url.pathname !== values.path) return sendJson(res, 404, { error: 'not found' });

  const { ok, body } = req.method === 'POST' ? await readBody(req) : { ok: true, body: undefined };
  if (!ok) return sendJson(res, 400, rpcError(-32700, 'Parse error'));
  // The SDK's own era classification, so that this routing never disagrees with createMcpHandler.
  if (await isLegacyRequest(await toWebRequest(req, body), body)) return serveSession(req, res, body);
  return modernNode(req, res, body);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) sendJson(res, 500, rpcError(-32603, String(err)));
    else res.destroy();
  });
});
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: 'listening', replica, port, url: `http://${values.host}:${port}${values.path}` })}\n`);
});

const stop = () => {
  for (const t of sessions.values()) void t.close();
  for (const t of legacySse.values()) void t.close();
  void modern.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
