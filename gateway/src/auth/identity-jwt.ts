// A short-lived JWT, signed by the gateway, that tells a backend who the verified caller is, in a form the
// backend can check (the token the client sent is never forwarded: MCP "Token Passthrough"). Its public
// keys are served on the admin port at /.well-known/jwks.json. Explicitly typed (RFC 8725 §3.11), so it can
// never be taken for an access token.
//
// Key: a PEM private key, a private JWK, or a JWKS of private keys (the first signs, all are published:
// publish a new key second, then move it first, then drop the old one). EC P-256/384/521, Ed25519, RSA.
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject, type webcrypto } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { Identity } from './identity.ts';
import { WatchedFile } from './watched-file.ts';

export const IDENTITY_JWT_TYPE = 'mcp-identity+jwt';

export interface SigningKey {
  key: KeyObject;
  alg: string;
  kid: string;
  publicJwk: JWK;
}

function algorithmOf(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const alg = ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as Record<string, string>)[details.namedCurve ?? ''];
      if (!alg) throw new Error(`EC curve ${details.namedCurve} is not one of P-256, P-384, P-521`);
      return alg;
    }
    case 'ed25519':
      return 'EdDSA';
    case 'rsa':
    case 'rsa-pss':
      if ((details.modulusLength ?? 0) < 2048) throw new Error('an RSA key needs at least 2048 bits');
      return key.asymmetricKeyType === 'rsa' ? 'RS256' : 'PS256';
    default:
      throw new Error(`key type ${key.asymmetricKeyType} cannot sign identity JWTs (use EC, Ed25519 or RSA)`);
  }
}

/** RFC 7638 JWK thumbprint: SHA-256 over the required members, in lexicographic order, base64url. */
export function jwkThumbprint(jwk: JWK): string {
  const members: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };
  const names = members[jwk.kty ?? ''];
  if (!names) throw new Error(`no thumbprint for key type ${jwk.kty}`);
  const canonical = JSON.stringify(Object.fromEntries(names.map((n) => [n, (jwk as Record<string, unknown>)[n]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

export function parseSigningKeys(text: string): SigningKey[] {
  const t = text.trim();
  const sources: Array<{ key: KeyObject; kid?: string }> = [];
  if (t.startsWith('{')) {
    const doc = JSON.parse(t) as { keys?: JWK[] } & JWK;
    for (const jwk of Array.isArray(doc.keys) ? doc.keys : [doc]) {
      if (typeof jwk.d !== 'string') throw new Error('a JWK without "d" is a public key; the gateway needs the private key');
      sources.push({ key: createPrivateKey({ key: jwk as webcrypto.JsonWebKey, format: 'jwk' }), ...(jwk.kid ? { kid: jwk.kid } : {}) });
    }
  } else {
    sources.push({ key: createPrivateKey(t) });
  }
  if (sources.length === 0) throw new Error('no key');
  return sources.map(({ key, kid }) => {
    const alg = algorithmOf(key);
    const publicJwk = createPublicKey(key).export({ format: 'jwk' }) as JWK;
    const id = kid ?? jwkThumbprint(publicJwk);
    return { key, alg, kid: id, publicJwk: { ...publicJwk, kid: id, alg, use: 'sig' } };
  });
}

export interface IdentitySignerOptions {
  /** The key itself (IDENTITY_JWT_KEY) … */
  inline?: string;
  /** … or a file, re-read when it changes. */
  file?: { path: string; reloadIntervalMs: number };
  issuer: string;
  audience: string;
  ttlMs: number;
  logger: Logger;
}

export class IdentitySigner {
  readonly #o: IdentitySignerOptions;
  readonly #inline: SigningKey[] | undefined;
  readonly #file: WatchedFile<SigningKey[]> | undefined;
  /** Signed tokens reused for half their life: signing every request would cost for nothing. */
  readonly #cache = new Map<string, { jwt: string; renewAt: number }>();

  /** Throws with a message naming the source when the key cannot be used. */
  constructor(o: IdentitySignerOptions) {
    this.#o = o;
    try {
      this.#inline = o.inline !== undefined ? parseSigningKeys(o.inline) : undefined;
    } catch (err) {
      throw new Error(`IDENTITY_JWT_KEY: ${(err as Error).message}`, { cause: err });
    }
    this.#file = o.file
      ? new WatchedFile({
          path: o.file.path,
          what: 'identity JWT key file',
          parse: parseSigningKeys,
          intervalMs: o.file.reloadIntervalMs,
          logger: o.logger,
          onChange: () => this.#cache.clear(),
        })
      : undefined;
    if (!this.#inline && !this.#file) throw new Error('an identity signer needs a key');
  }

  get #keys(): SigningKey[] {
    return this.#file?.value ?? (this.#inline as SigningKey[]);
  }

  /** The public keys, for backends (JWKS, RFC 7517 §5). */
  jwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((k) => k.publicJwk) };
  }

  async sign(identity: Identity): Promise<string> {
    const signing = this.#keys[0] as SigningKey;
    const cacheKey = `${signing.kid}\n${identity.principal}\n${identity.clientId ?? ''}\n${[...identity.scopes].join(' ')}`;
    const now = Date.now();
    const hit = this.#cache.get(cacheKey);
    if (hit && hit.renewAt > now) return hit.jwt;
    const iat = Math.floor(now / 1000);
    const exp = iat + Math.max(1, Math.round(this.#o.ttlMs / 1000));
    const jwt = await new SignJWT({
      ...(identity.clientId !== undefined ? { client_id: identity.clientId } : {}),
      scope: [...identity.scopes].join(' '),
      ...(identity.issuer !== undefined ? { auth_iss: identity.issuer } : {}),
      auth_kind: identity.kind,
    })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: IDENTITY_JWT_TYPE })
      .setIssuer(this.#o.issuer)
      .setAudience(this.#o.audience)
      .setSubject(identity.subject)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(signing.key);
    this.#cache.set(cacheKey, { jwt, renewAt: now + this.#o.ttlMs / 2 });
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
    return jwt;
  }

  async close(): Promise<void> {
    this.#file?.close();
    this.#cache.clear();
  }
}
