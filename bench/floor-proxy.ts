// The floor: the least a Node proxy can do to route MCP by session id, as the baseline the gateway is
// measured against (issue 17). A node:http server, a Map of session id -> backend, one undici Pool per
// backend, bodies streamed both ways, and nothing else: no auth, no limits, no metrics, no logs, no Redis.
//   initialize (no Mcp-Session-Id)  round robin; the Mcp-Session-Id the backend answers with is remembered
//   a known Mcp-Session-Id          its backend
//   an unknown one                  404 with the JSON-RPC error -32001 (what routing needs, nothing more)
//   node bench/floor-proxy.ts --port 0 --backends http://127.0.0.1:P1/mcp,http://127.0.0.1:P2/mcp
// --buffer-request-bodies: read a request's body whole before sending it on, as the gateway does (it checks
// the body), instead of streaming it. Not the issue's floor; a second baseline (README "Figures": in some
// processes the streamed body costs the floor a large share of its CPU in garbage collection).
// Prints one JSON line when listening.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    backends: { type: 'string' },
    'buffer-request-bodies': { type: 'boolean', default: false },
  },
});
if (!values.backends) throw new Error('--backends is required (comma-separated backend URLs)');
const backends = values.backends.split(',').map((u) => {
  const url = new URL(u);
  return { path: url.pathname, pool: new Pool(url.origin, { connections: 256, pipelining: 1, bodyTimeout: 0 }) };
});
const sessions = new Map<string, (typeof backends)[number]>();
let turn = 0;
// Headers undici refuses to send or that belong to one hop (RFC 9110 §7.6.1).
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);
const bufferBodies = values['buffer-request-bodies'];
const NOT_FOUND = '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}';

function forward(req: IncomingMessage, res: ServerResponse): void {
  const sid = req.headers['mcp-session-id'];
  let backend;
  if (typeof sid === 'string') {
    backend = sessions.get(sid);
    if (!backend) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' }).end(NOT_FOUND);
      return;
    }
  } else backend = backends[turn++ % backends.length] as (typeof backends)[number];
  const headers: Record<string, string | string[]> = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k] as string | string[];
  const chosen = backend;
  const bodiless = req.method === 'GET' || req.method === 'HEAD';
  if (!bufferBodies || bodiless) return send(req, res, sid, chosen, headers, bodiless ? null : req);
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => send(req, res, sid, chosen, headers, Buffer.concat(chunks)));
}

function send(req: IncomingMessage, res: ServerResponse, sid: string | string[] | undefined, chosen: (typeof backends)[number], headers: Record<string, string | string[]>, body: IncomingMessage | Buffer | null): void {
  chosen.pool
    .stream({ path: chosen.path, method: req.method as 'POST', headers, body }, ({ statusCode, headers: up }) => {
      const out: Record<string, string | string[]> = {};
      for (const k in up) if (!HOP.has(k)) out[k] = up[k] as string | string[];
      const minted = up['mcp-session-id'];
      if (sid === undefined && typeof minted === 'string') sessions.set(minted, chosen);
      if (req.method === 'DELETE' && typeof sid === 'string' && statusCode < 300) sessions.delete(sid);
      res.writeHead(statusCode, out);
      return res;
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Bad gateway"}}');
      else res.destroy();
    });
}

const server = createServer(forward);
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: 'listening', port, url: `http://${values.host}:${port}` })}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
