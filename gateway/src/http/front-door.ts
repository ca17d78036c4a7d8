// The MCP endpoint's common requests, served in front of Fastify. Fastify's per-request work (request and
// reply objects, routing, the hook chain, the body parser) was about a tenth of the gateway's CPU per
// proxied request (issue 17, bench/ profiles). The front door takes only what its headers show to be the
// common case, and answers it exactly as the Fastify route does: the same edge refusals, origin check and
// auth hook in the same order, the same request id and request logger, then the same handler
// (http/mcp-handler.ts). Everything else goes to Fastify untouched, before a byte of the body is read:
// other paths and methods, a POST that is not JSON, without a Content-Length or over --max-body-bytes, a
// GET or DELETE with a body, `Expect`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { authRefusalOf, type AuthGuard } from '../auth/guard.ts';
import type { GatewayConfig } from '../config/options.ts';
import { GatewayError } from '../errors.ts';
import { isJsonContentType } from '../mcp/accept.ts';
import { lazyRequestLogger } from '../logger.ts';
import { refuseAtEdge } from './exchange.ts';
import { handleMcpRequest, type McpHandlerDeps } from './mcp-handler.ts';
import type { McpRequest } from './mcp-request.ts';

export interface FrontDoorDeps extends McpHandlerDeps {
  logger: Logger;
  auth: AuthGuard;
  /** The refusals every request of the MCP port gets before anything else (shutdown, limits). */
  edgeRefusal(request: McpRequest): GatewayError | undefined;
  /** DNS rebinding protection: a refusal for a foreign Host or Origin. */
  originRefusal(request: McpRequest): GatewayError | undefined;
  requestId(req: IncomingMessage): string;
}

/** Returns a request listener that answers what it takes and returns false for what Fastify should. */
export function frontDoor(config: GatewayConfig, d: FrontDoorDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const path = config.mcpPath;
  const pathSlash = path.endsWith('/') ? path.slice(0, -1) : `${path}/`; // Fastify's ignoreTrailingSlash
  return (req, res) => {
    if (!takes(req, path, pathSlash, config.maxBodyBytes)) return false;
    const id = d.requestId(req);
    const request: McpRequest & { body: Buffer | undefined } = {
      id,
      method: req.method as string,
      url: req.url as string,
      headers: req.headers,
      body: undefined,
      socket: req.socket,
      raw: req,
      log: lazyRequestLogger(d.logger, { reqId: id }),
    };
    const edge = d.edgeRefusal(request);
    if (edge) {
      res.setHeader('connection', 'close');
      refuseAtEdge(d, request, res, edge);
      req.resume();
      return true;
    }
    const origin = d.originRefusal(request);
    if (origin) {
      refuseAtEdge(d, request, res, origin);
      req.resume();
      return true;
    }
    d.auth.hook(request, undefined, (err) => {
      if (err) {
        const gwErr = err instanceof GatewayError ? err : new GatewayError('INTERNAL', undefined, { cause: err });
        if (gwErr.code === 'INTERNAL') request.log.error({ err }, 'unexpected failure');
        refuseAtEdge(d, request, res, gwErr, authRefusalOf(request));
        req.resume();
        return;
      }
      if (req.method !== 'POST') return void handleMcpRequest(d, 'mcp', request, res);
      readBody(req, (body) => {
        request.body = body;
        void handleMcpRequest(d, 'mcp', request, res);
      });
    });
    return true;
  };
}

/** Whether the front door serves this request (judged on the request line and headers alone). */
function takes(req: IncomingMessage, path: string, pathSlash: string, maxBodyBytes: number): boolean {
  const url = req.url;
  if (url === undefined) return false;
  const q = url.indexOf('?');
  const p = q < 0 ? url : url.slice(0, q);
  if (p !== path && p !== pathSlash) return false;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h.expect !== undefined) return false;
  const length = h['content-length'];
  switch (req.method) {
    case 'GET':
    case 'DELETE':
      return length === undefined || length === '0';
    case 'POST': {
      if (length === undefined || !DIGITS.test(length)) return false;
      const n = Number(length);
      return n > 0 && n <= maxBodyBytes && isJsonContentType(h['content-type']);
    }
    default:
      return false;
  }
}
const DIGITS = /^\d{1,15}$/;

/** The whole body (its length is known and within the limit); nothing when the client goes away first. */
function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
  req.on('error', ignore); // the client went away: its response's 'close' ends the exchange
}
const ignore = (): void => undefined;
