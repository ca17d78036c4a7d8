// The everything-server: one replica of an MCP server that implements what the official conformance suite
// (@modelcontextprotocol/conformance) checks, for both requirement sets, on the official SDK v2. Run several
// behind the gateway to judge it, or one alone as the baseline:
//   node test/conformance/everything-server.ts --port 0 --name r1
// Like any real fleet, its replicas share what must survive a request landing elsewhere: MCP_STATE_KEY seals
// multi-round-trip state, REDIS_URL carries change events to every replica's listen streams. 2025-era sessions
// and tasks stay in the replica's memory (the gateway pins them). Prints one JSON line when listening.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { localhostHostValidation, localhostOriginValidation, NodeStreamableHTTPServerTransport, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import { createMcpHandler, createRequestStateCodec, isInitializeRequest, isLegacyRequest, McpServer, type McpHttpHandler } from '@modelcontextprotocol/server';
import { MemoryEventStore } from '../../demo/event-store.ts';
import { TaskRegistry } from '../../demo/tasks.ts';
import { registerContent } from './fixtures/content.ts';
import type { FixtureContext } from './fixtures/context.ts';
import { registerMrtr } from './fixtures/mrtr.ts';
import { refuseWithoutTasks, registerTaskFixtures } from './fixtures/tasks.ts';
import { registerTools } from './fixtures/tools.ts';
import { RedisEventBus } from './redis-bus.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, name: { type: 'string', default: 'everything' } } });
const stateCodec = createRequestStateCodec<Record<string, unknown>>({ key: process.env.MCP_STATE_KEY ?? randomBytes(32), ttlSeconds: 600 });
const tasks = new TaskRegistry({ pollIntervalMs: 100 });
const bus = process.env.REDIS_URL ? new RedisEventBus(process.env.REDIS_URL) : undefined;
await bus?.ready();

function build(era: 'legacy' | 'modern'): McpServer {
  const server = new McpServer(
    { name: 'mcp-gateway-everything-server', version: '1.0.0' },
    {
      capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {}, completions: {} },
      requestState: { verify: stateCodec.verify },
    },
  );
  const log = (data: string) => void server.server.notification({ method: 'notifications/message', params: { level: 'info', logger: 'everything', data } }).catch(() => undefined);
  const ctx: FixtureContext = { server, era, stateCodec, tasks, notify: () => modern.notify, log };
  registerTools(ctx);
  registerMrtr(ctx);
  registerContent(ctx);
  registerTaskFixtures(ctx);
  return server;
}

const modern: McpHttpHandler = createMcpHandler(() => build('modern'), { legacy: 'reject', ...(bus ? { bus } : {}) });
const modernNode = toNodeHandler(modern);
const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
// DNS rebinding protection (MCP transports, Security Warning): a local server refuses foreign Host and Origin.
const hostOk = localhostHostValidation();
const originOk = localhostOriginValidation();

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
const rpcError = (code: number, message: string) => ({ jsonrpc: '2.0', id: null, error: { code, message } });

async function readBody(req: IncomingMessage): Promise<{ ok: boolean; body: unknown }> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw === '') return { ok: true, body: undefined };
  try {
    return { ok: true, body: JSON.parse(raw) };
  } catch {
    return { ok: false, body: undefined };
  }
}

async function serveSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const sid = req.headers['mcp-session-id'];
  if (typeof sid === 'string') {
    const transport = sessions.get(sid);
    if (!transport) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
    return transport.handleRequest(req, res, body);
  }
  if (req.method !== 'POST' || !isInitializeRequest(body)) return sendJson(res, 400, rpcError(-32000, 'Bad Request: Session ID required'));
  const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: new MemoryEventStore(),
    retryInterval: 500,
    onsessioninitialized: (id) => void sessions.set(id, transport),
  });
  const server = build('legacy');
  transport.onclose = () => {
    if (transport.sessionId) sessions.delete(transport.sessionId);
    void server.close();
  };
  await server.connect(transport);
  return transport.handleRequest(req, res, body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hostOk(req, res) || !originOk(req, res)) return;
  if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') return sendJson(res, 404, { error: 'not found' });
  const { ok, body } = req.method === 'POST' ? await readBody(req) : { ok: true, body: undefined };
  if (!ok) return sendJson(res, 400, rpcError(-32700, 'Parse error'));
  if (await isLegacyRequest(await toWebRequest(req, body), body)) return serveSession(req, res, body);
  const refused = refuseWithoutTasks(body);
  if (refused) return sendJson(res, refused.status, refused.body);
  return modernNode(req, res, body);
}

const http = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) sendJson(res, 500, rpcError(-32603, String(err)));
    else res.destroy();
  });
});
http.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: 'listening', replica: values.name, port, url: `http://127.0.0.1:${port}/mcp` })}\n`);
});
const stop = () => {
  for (const t of sessions.values()) void t.close();
  void modern.close();
  void bus?.close();
  http.close(() => process.exit(0));
  http.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
