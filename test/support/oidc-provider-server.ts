// A real OpenID provider (the `oidc-provider` package) for the auth tests, as its own process on loopback:
//   node test/support/oidc-provider-server.ts --port 0 --keys keys.json
// It issues client-credentials access tokens for any resource indicator (RFC 8707: aud = the resource),
// as JWTs (RFC 9068) or opaque tokens, and offers introspection (RFC 7662), revocation (RFC 7009) and
// OpenID / RFC 8414 metadata. Some test clients get tokens with a flaw the provider itself writes into the
// JWT (expired, not yet valid, another issuer), so that even the negative cases are issued by the provider.
// POST /__test/keys with a private JWKS replaces the signing keys (key rotation), keeping everything else.
// Prints one JSON line when listening.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, keys: { type: 'string' } } });

const SCOPES = ['mcp:tools', 'mcp:admin'];
/** Clients whose tokens are opaque (introspection); all others get JWTs. */
const OPAQUE_CLIENTS = new Set(['carol']);
const CLIENTS = ['alice', 'bob', 'carol', 'expired', 'early', 'foreign-iss', 'short-lived'];

type Payload = Record<string, unknown> & { iat: number; exp: number };

/** The flaws written into the JWTs of some clients (formats.customizers.jwt runs before signing). */
function customize(clientId: string, payload: Payload): void {
  const now = Math.floor(Date.now() / 1000);
  if (clientId === 'expired') Object.assign(payload, { iat: now - 3600, exp: now - 600 });
  if (clientId === 'early') payload.nbf = now + 600;
  if (clientId === 'short-lived') payload.exp = now + 3; // valid, for three seconds
  if (clientId === 'foreign-iss') payload.iss = 'http://issuer.invalid';
}

function buildProvider(issuer: string, keys: unknown[]): Provider {
  return new Provider(issuer, {
    clients: [
      ...CLIENTS.map((id) => ({
        client_id: id,
        client_secret: `${id}-secret`,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: SCOPES.join(' '),
      })),
      // The gateway's own client, for introspection only.
      { client_id: 'gateway', client_secret: 'gateway-secret', grant_types: [], redirect_uris: [], response_types: [] },
    ],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys },
    scopes: SCOPES,
    ttl: { ClientCredentials: 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: { clientId: string }) => ({
          scope: SCOPES.join(' '),
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: OPAQUE_CLIENTS.has(client.clientId) ? 'opaque' : 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    formats: {
      customizers: {
        jwt: (_ctx: unknown, token: { clientId: string }, jwt: { payload: Payload }) => customize(token.clientId, jwt.payload),
      },
    },
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const initialKeys = (JSON.parse(readFileSync(values.keys as string, 'utf8')) as { keys: unknown[] }).keys;
let provider: Provider | undefined;
let handle: ReturnType<Provider['callback']> | undefined;
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/__test/keys') {
    readBody(req).then(
      (text) => {
        provider = buildProvider(provider!.issuer, (JSON.parse(text) as { keys: unknown[] }).keys);
        handle = provider.callback();
        res.writeHead(204).end();
      },
      () => res.writeHead(400).end(),
    );
    return;
  }
  handle!(req, res);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  provider = buildProvider(issuer, initialKeys);
  handle = provider.callback();
  process.stdout.write(`${JSON.stringify({ event: 'listening', issuer, port })}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
