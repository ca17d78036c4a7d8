// `npm run bench -- --auth jwt`: the gateway as an OAuth 2.1 resource server (README "Auth"), measured with
// one valid token that every request carries, so that after its first verification the gateway answers from
// its verified-token cache (auth/verified-cache.ts), as it does for a client that reuses its access token.
// The signing key is made here (ES256, jose) and its JWKS served on loopback: a real JWKS endpoint and a real
// signature, so the gateway runs the same code as in production. Every target gets the same Authorization
// header (the floor, HAProxy and nginx forward it, the fast backend ignores it), so only the gateway's work
// differs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Entry, initializeBody, send } from './mcp-wire.ts';

export type BenchAuthMode = 'none' | 'jwt';
export const BENCH_AUTH_MODES: readonly BenchAuthMode[] = ['none', 'jwt'];

/** What the bench's token says; the gateway checks the audience against --resource-url. */
const RESOURCE_URL = 'http://127.0.0.1/mcp';
const KID = 'bench-1';
/** Longer than any bench run (a token that expired mid-run would turn the figures into 401s). */
const TOKEN_LIFETIME_S = 12 * 3600;

export interface BenchAuth {
  /**
   * The gateway flags that turn JWT auth on against this key, with the per-principal limits off: the bench is
   * one principal at thousands of requests per second, which the defaults (50 req/s, 100 sessions) refuse.
   * Later --gateway-arg flags override them (e.g. --gateway-arg=--rate-limit=1000000 measures the limiter,
   * a store round trip per request).
   */
  gatewayArgs: string[];
  /** `Bearer …`, for every request of every target. */
  authorization: string;
  close(): Promise<void>;
}

export async function startBenchAuth(): Promise<BenchAuth> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] });
  const server: Server = createServer((req, res) => {
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const token = await new SignJWT({ scope: 'mcp' })
    .setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'at+jwt' })
    .setSubject('bench-client')
    .setAudience(RESOURCE_URL)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_LIFETIME_S}s`)
    .sign(privateKey);
  return {
    gatewayArgs: ['--auth', 'jwt', '--resource-url', RESOURCE_URL, '--auth-jwks-url', `http://127.0.0.1:${port}/jwks.json`, '--rate-limit', '0', '--max-sessions-per-principal', '0'],
    authorization: `Bearer ${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The figures are of auth on only if the gateway refuses a request without the token (401, RFC 6750 §3). */
export async function assertAuthEnforced(gatewayUrl: string): Promise<void> {
  const entry = new Entry('auth-check', gatewayUrl, 1);
  try {
    const r = await send(entry, 'POST', initializeBody());
    if (r.status !== 401) throw new Error(`--auth jwt: the gateway answered ${r.status || r.networkError} to a request without a token, not 401`);
  } finally {
    await entry.close();
  }
}
