// The status page's routes on the admin listener (never on the MCP listener): the page itself (static, no
// data in it), its script and style, and the JSON API it polls. The JSON needs the status token when one is
// set (status-policy.ts); the static parts never carry data, so they are served to anyone who reaches them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PAGE_HTML } from './page/html.ts';
import { PAGE_SCRIPT } from './page/script.ts';
import { PAGE_STYLE } from './page/style.ts';
import { lookupSession } from './session-lookup.ts';
import { tokenMatches, type StatusPolicy } from './status-policy.ts';
import { statusSnapshot, type StatusDeps } from './status-snapshot.ts';

/** Everything the page loads comes from this origin; nothing inline, nothing from a CDN. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

export const STATUS_ENDPOINTS = ['/', '/status.json', '/sessions/<id>'];

function asset(reply: FastifyReply, type: string, body: string) {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .type(type)
    .send(body);
}

/** A Fastify plugin with the status routes, registered on the admin listener when the policy serves the page. */
export function statusRoutes(d: StatusDeps, policy: StatusPolicy, token: string | undefined) {
  return async (app: FastifyInstance) => registerStatusRoutes(app, d, policy, token);
}

function registerStatusRoutes(app: FastifyInstance, d: StatusDeps, policy: StatusPolicy, token: string | undefined): void {
  app.get('/', (_request, reply) => asset(reply, 'text/html; charset=utf-8', PAGE_HTML));
  app.get('/status.js', (_request, reply) => asset(reply, 'text/javascript; charset=utf-8', PAGE_SCRIPT));
  app.get('/status.css', (_request, reply) => asset(reply, 'text/css; charset=utf-8', PAGE_STYLE));

  // RFC 6750 §3: a missing or wrong token answers 401 with a Bearer challenge.
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    if (!policy.tokenRequired || token === undefined) return;
    if (tokenMatches(request.headers.authorization, token)) return;
    return reply.code(401).header('www-authenticate', 'Bearer realm="mcp-gateway-status"').send({ error: 'the status token is required (Authorization: Bearer <STATUS_TOKEN>)' });
  };

  app.get('/status.json', { onRequest: guard }, async () => statusSnapshot(d));
  app.get('/sessions/*', { onRequest: guard }, async (request, reply) => {
    const id = (request.params as { '*': string })['*'];
    const answer = await lookupSession(d, id);
    return reply.code(answer.status).send(answer.body);
  });
}
