// What the MCP routes and the auth layer read of a request: Fastify's request satisfies it, and so does
// the front door's (http/front-door.ts), which serves the MCP endpoint's common requests without Fastify.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';

export interface McpRequest {
  /** The request id (X-Request-Id when well-formed, a UUID otherwise). */
  readonly id: string;
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The POST body as bytes; undefined without one. */
  readonly body: unknown;
  readonly socket: Socket;
  readonly raw: IncomingMessage;
  /** Lines about this request (bound to its id). */
  readonly log: FastifyBaseLogger;
}
