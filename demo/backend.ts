// One replica of the demo MCP server (Streamable HTTP, sessions, official SDK), as a standalone process:
//   node demo/backend.ts --port 3001 --name replica-a
// It keeps its sessions in process memory, like most deployed MCP servers: exactly the kind of server that
// needs a session-aware gateway in front of it to scale out. Prints one JSON line when listening.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { MemoryEventStore } from './event-store.ts';
import { buildDemoServer } from './tools.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3001' },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    name: { type: 'string', default: process.env.REPLICA_NAME },
    path: { type: 'string', default: '/mcp' },
    // Answer requests with a single JSON body (headers only once the result is ready) instead of SSE.
    json: { type: 'boolean', default: false },
    // One JSON line per request received (method, path, header names: never values), for tests that must
    // prove what reached a backend and what did not.
    'log-requests': { type: 'boolean', default: false },
  },
});
const replica = values.name ?? `replica-${values.port}`;
const sessions = new Map<string, StreamableHTTPServerTransport>();

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (values['log-requests']) {
    const line = { event: 'request', method: req.method, path: url.pathname, headers: Object.keys(req.headers).sort(), ua: req.headers['user-agent'] ?? null };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  if (url.pathname === '/healthz') return sendJson(res, 200, { replica, sessions: sessions.size });
  if (url.pathname !== values.path) return sendJson(res, 404, { error: 'not found' });

  let body: unknown;
  if (req.method === 'POST') {
    try {
      body = await readJson(req);
    } catch {
      return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
  }
  const sid = req.headers['mcp-session-id'];
  if (typeof sid === 'string') {
    const transport = sessions.get(sid);
    if (!transport) return sendJson(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
    return transport.handleRequest(req, res, body);
  }
  if (req.method === 'POST' && isInitializeRequest(body)) {
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new MemoryEventStore(),
      enableJsonResponse: values.json,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await buildDemoServer({ replica }).connect(transport);
    return transport.handleRequest(req, res, body);
  }
  return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' } });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: String(err) } });
    else res.destroy();
  });
});
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: 'listening', replica, port, url: `http://${values.host}:${port}${values.path}` })}\n`);
});

const stop = () => {
  for (const t of sessions.values()) void t.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
