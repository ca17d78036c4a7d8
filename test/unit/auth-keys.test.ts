// Keys: the issuer's JWKS as the gateway caches it (rotation picked up, refetches rate-limited, stale keys
// kept through an outage), against a real HTTP server on loopback; and the gateway's own identity JWT.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { pino } from 'pino';
import { IdentitySigner, parseSigningKeys } from '../../gateway/src/auth/identity-jwt.ts';
import { AuthFailure, AuthUnavailable, type Identity } from '../../gateway/src/auth/identity.ts';
import { RemoteKeySet } from '../../gateway/src/auth/jwks.ts';
import { JwtVerifier } from '../../gateway/src/auth/jwt-verifier.ts';
import { VerifiedCache } from '../../gateway/src/auth/verified-cache.ts';

const logger = pino({ level: 'silent' });
const ISSUER = 'https://as.example';
const AUD = 'https://mcp.example/mcp';

async function newKey(): Promise<{ privateKey: KeyObject; jwk: JWK }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: randomUUID().slice(0, 8), alg: 'ES256' } };
}

function sign(key: { privateKey: KeyObject; jwk: JWK }, claims: Record<string, unknown> = {}, kid = key.jwk.kid): Promise<string> {
  return new SignJWT({ scope: 'mcp:tools', client_id: 'c1', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: kid as string, typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUD)
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

/** A JWKS endpoint whose keys and health the test controls. */
let server: Server;
let served: JWK[] = [];
let failing = false;
let hits = 0;
let jwksUrl: URL;
before(async () => {
  server = createServer((_req, res) => {
    hits++;
    if (failing) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
});
after(() => new Promise<void>((r) => server.close(() => r())));

function verifier(o: { cooldownMs: number; maxAgeMs?: number }) {
  const keys = new RemoteKeySet({ locate: async () => jwksUrl, cooldownMs: o.cooldownMs, maxAgeMs: o.maxAgeMs ?? 600_000, timeoutMs: 2000, logger });
  return { keys, jwt: new JwtVerifier({ issuer: ISSUER, audiences: [AUD], algorithms: ['ES256'], clockSkewMs: 30_000, keys }) };
}

test('tokens with unknown kids refetch the JWKS at most once per cooldown', async () => {
  const k1 = await newKey();
  served = [k1.jwk];
  failing = false;
  const { keys, jwt } = verifier({ cooldownMs: 60_000 });
  const identity = await jwt.verify(await sign(k1));
  assert.deepEqual([identity.principal, identity.clientId, [...identity.scopes]], [`${ISSUER} user-1`, 'c1', ['mcp:tools']]);
  const forged = await newKey();
  const results = await Promise.allSettled(Array.from({ length: 20 }, async () => jwt.verify(await sign(forged, {}, randomUUID()))));
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof AuthFailure && r.reason.reason === 'unknown_key'));
  assert.equal(keys.fetches, 1, 'a flood of made-up kids caused no refetch inside the cooldown');
});

test('a key rotated in at the issuer is used once the cooldown allows a refetch', async () => {
  const k1 = await newKey();
  served = [k1.jwk];
  const { keys, jwt } = verifier({ cooldownMs: 200 });
  await jwt.verify(await sign(k1));
  const k2 = await newKey();
  served = [k2.jwk, k1.jwk];
  await new Promise((r) => setTimeout(r, 250));
  const identity = await jwt.verify(await sign(k2));
  assert.equal(identity.subject, 'user-1');
  assert.equal(keys.fetches, 2);
});

test('an outage of the JWKS endpoint keeps the keys fetched before; with none yet, it is 503 material', async () => {
  const k1 = await newKey();
  served = [k1.jwk];
  failing = false;
  const { jwt } = verifier({ cooldownMs: 10, maxAgeMs: 10 });
  await jwt.verify(await sign(k1));
  failing = true;
  await new Promise((r) => setTimeout(r, 30));
  const before = hits;
  assert.equal((await jwt.verify(await sign(k1))).subject, 'user-1', 'stale keys still verify');
  assert.ok(hits > before, 'a refetch was tried');
  const cold = verifier({ cooldownMs: 10 });
  await assert.rejects(cold.jwt.verify(await sign(k1)), AuthUnavailable);
  failing = false;
});

test('claims: a sender-constrained token and one without a subject or client are refused', async () => {
  const k1 = await newKey();
  served = [k1.jwk];
  const { jwt } = verifier({ cooldownMs: 10 });
  await assert.rejects(jwt.verify(await sign(k1, { cnf: { jkt: 'x' } })), (e: unknown) => e instanceof AuthFailure && e.reason === 'sender_constrained');
  const anonymous = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: k1.jwk.kid as string })
    .setIssuer(ISSUER)
    .setAudience(AUD)
    .setExpirationTime('5m')
    .sign(k1.privateKey);
  await assert.rejects(jwt.verify(anonymous), (e: unknown) => e instanceof AuthFailure && e.reason === 'missing_claim');
  const noExp = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256', kid: k1.jwk.kid as string }).setIssuer(ISSUER).setAudience(AUD).sign(k1.privateKey);
  await assert.rejects(jwt.verify(noExp), (e: unknown) => e instanceof AuthFailure && e.reason === 'missing_claim');
});

const identity: Identity = {
  kind: 'jwt',
  issuer: ISSUER,
  subject: 'user-1',
  clientId: 'c1',
  scopes: new Set(['mcp:tools']),
  principal: `${ISSUER} user-1`,
  expiresAt: undefined,
};

test('the identity JWT verifies with the published JWKS, is explicitly typed and short-lived', async () => {
  for (const pem of [
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }),
  ] as string[]) {
    const signer = new IdentitySigner({ inline: pem, issuer: AUD, audience: 'mcp-backend', ttlMs: 60_000, logger });
    const jwt = await signer.sign(identity);
    assert.equal(await signer.sign(identity), jwt, 'reused while young');
    const jwks = signer.jwks();
    assert.ok(jwks.keys.every((k) => !('d' in k)), 'only public keys are published');
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: AUD, audience: 'mcp-backend', typ: 'mcp-identity+jwt' });
    assert.deepEqual([payload.sub, payload.client_id, payload.scope, payload.auth_iss, payload.auth_kind], ['user-1', 'c1', 'mcp:tools', ISSUER, 'jwt']);
    assert.equal((payload.exp as number) - (payload.iat as number), 60);
    assert.equal(protectedHeader.kid, jwks.keys[0]?.kid);
    await signer.close();
  }
});

test('identity JWT keys: a JWKS signs with its first key; public, weak or unknown keys are refused', async () => {
  const a = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const b = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const keys = parseSigningKeys(JSON.stringify({ keys: [{ ...a, kid: 'new' }, b] }));
  assert.deepEqual(keys.map((k) => [k.kid.length > 0, k.alg]), [[true, 'ES256'], [true, 'EdDSA']]);
  assert.equal(keys[0]?.kid, 'new');
  const { d: _d, ...publicOnly } = a;
  assert.throws(() => parseSigningKeys(JSON.stringify(publicOnly)), /public key/);
  assert.throws(() => parseSigningKeys(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), /2048/);
  assert.throws(() => parseSigningKeys('not a key'));
});

test('verified tokens are reused until exp (at most maxAge); a JWKS refetch with other keys forgets them', async () => {
  const k1 = await newKey();
  served = [k1.jwk];
  failing = false;
  let changes = 0;
  const keys = new RemoteKeySet({ locate: async () => jwksUrl, cooldownMs: 10, maxAgeMs: 600_000, timeoutMs: 2000, logger, onChange: () => changes++ });
  let verifications = 0;
  const inner = new JwtVerifier({ issuer: ISSUER, audiences: [AUD], algorithms: ['ES256'], clockSkewMs: 30_000, keys });
  const counting = { verify: (t: string) => (verifications++, inner.verify(t)), close: async () => {} };
  const cache = new VerifiedCache(counting, { maxAgeMs: 60_000 });
  const token = await sign(k1);
  assert.equal(cache.cached(token), undefined, 'nothing cached before the first verification');
  for (let i = 0; i < 5; i++) assert.equal((await cache.verify(token)).subject, 'user-1');
  assert.equal(verifications, 1, 'one signature verification for five requests');
  assert.equal(cache.cached(token)?.subject, 'user-1', 'the synchronous lookup finds what verify() cached');
  assert.equal(cache.cached(`${token}x`), undefined, 'another token is not found');
  // Nearly expired: cached no longer than its exp; past it, judged afresh.
  const shortLived = await new SignJWT({ sub: 'u2' }).setProtectedHeader({ alg: 'ES256', kid: k1.jwk.kid as string }).setIssuer(ISSUER).setAudience(AUD).setExpirationTime(Math.floor(Date.now() / 1000)).sign(k1.privateKey);
  await cache.verify(shortLived);
  assert.equal(cache.cached(shortLived), undefined, 'a token at its exp is not found synchronously either');
  await cache.verify(shortLived);
  assert.equal(verifications, 3, 'a token at its exp is not reused');
  // The same key set again: nothing changes. Another key set: the cache is told.
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(cache.verify(await sign(await newKey(), {}, 'unknown-1')));
  assert.equal(changes, 0);
  served = [(await newKey()).jwk];
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(cache.verify(await sign(await newKey(), {}, 'unknown-2')));
  assert.equal(changes, 1);
  cache.clear(); // what the refetch's onChange does in auth/create.ts
  assert.equal(cache.cached(token), undefined, 'forgotten after the key set changed');
});
