// The test OpenID provider (oidc-provider-server.ts) as a process, and what tests do with it: get tokens
// the OAuth way (client credentials + resource indicator), revoke them, rotate its signing keys.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './backends.ts';
import { spawnService, type Service } from './process.ts';

export interface PrivateJwk {
  kty: string;
  kid: string;
  alg: string;
  use: string;
  [k: string]: unknown;
}

/** A fresh ES256 signing key as a private JWK. */
export function newSigningKey(): PrivateJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kty: 'EC', kid: randomUUID().slice(0, 8), alg: 'ES256', use: 'sig' };
}

export interface TokenOptions {
  scope?: string;
  /** RFC 8707 resource indicator; the token's audience. */
  resource: string;
}

export interface OidcProvider {
  issuer: string;
  service: Service;
  /** Signing keys now in use (private: tests may sign with them to forge a flaw the provider would not). */
  keys: PrivateJwk[];
  /** A client-credentials access token for `clientId` (secret `<id>-secret`). */
  token(clientId: string, o: TokenOptions): Promise<string>;
  /** RFC 7009 revocation, as the token's client. */
  revoke(clientId: string, token: string): Promise<void>;
  /** Replaces the signing keys (the new one first: it signs from now on). */
  rotateKeys(keys: PrivateJwk[]): Promise<void>;
  stop(): Promise<void>;
}

function basic(clientId: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientId}-secret`).toString('base64')}`;
}

export async function startOidcProvider(): Promise<OidcProvider> {
  const keys = [newSigningKey()];
  const dir = mkdtempSync(join(tmpdir(), 'gw-oidc-'));
  const keyFile = join(dir, 'keys.json');
  writeFileSync(keyFile, JSON.stringify({ keys }));
  const service = await spawnService(process.execPath, ['test/support/oidc-provider-server.ts', '--port', '0', '--keys', keyFile], {
    cwd: REPO,
    ready: (l) => l.event === 'listening',
  });
  const issuer = (await service.waitFor((l) => l.event === 'listening')).issuer as string;
  const provider: OidcProvider = {
    issuer,
    service,
    keys,
    async token(clientId, o) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', resource: o.resource });
      if (o.scope !== undefined) form.set('scope', o.scope);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: basic(clientId), 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      const body = (await res.json()) as { access_token?: string };
      if (res.status !== 200 || !body.access_token) throw new Error(`token for ${clientId}: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async revoke(clientId, token) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { authorization: basic(clientId), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
      if (res.status !== 200) throw new Error(`revocation answered ${res.status}: ${await res.text()}`);
    },
    async rotateKeys(next) {
      const res = await fetch(`${issuer}/__test/keys`, { method: 'POST', body: JSON.stringify({ keys: next }) });
      if (res.status !== 204) throw new Error(`key rotation answered ${res.status}`);
      provider.keys = next;
    },
    stop: async () => void (await service.stop()),
  };
  return provider;
}
