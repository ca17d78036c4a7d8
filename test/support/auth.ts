// Helpers for the auth suites: what reached a backend (its request log), the parameters of a challenge, and
// the tokens an attacker would forge (alg none, HMAC keyed with the public key, a tampered signature, a key
// the issuer never published).
import { createHmac, createPrivateKey, createPublicKey, sign as signWith, type webcrypto } from 'node:crypto';
import type { BackendProcess } from './backends.ts';
import type { PrivateJwk } from './oidc.ts';

/** MCP requests a backend received (demo backend with --log-requests), health probes left out. */
export function mcpRequestsSeen(backends: BackendProcess[]): Array<{ method: string; headers: string[] }> {
  return backends.flatMap((b) =>
    b.service.json().filter((l) => l.event === 'request' && l.ua !== 'mcp-gateway-health') as Array<{ method: string; headers: string[] }>,
  );
}

/** RFC 9110 §11.6.1 auth-params of a `Bearer` challenge, unescaped. */
export function challengeParams(header: string | null): Record<string, string> {
  if (!header?.startsWith('Bearer ')) throw new Error(`not a Bearer challenge: ${header}`);
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, '$1');
  return out;
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');
const part = (o: object) => b64url(JSON.stringify(o));

function decodePart(token: string, i: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[i] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The same claims, `alg: none`, no signature (RFC 7519 §6: an unsecured JWT). */
export function algNone(token: string): string {
  return `${part({ ...decodePart(token, 0), alg: 'none' })}.${token.split('.')[1]}.`;
}

/** The same claims signed HS256 with the issuer's *public* key as the HMAC secret (the classic confusion). */
export function hmacWithPublicKey(token: string, publicKeyOf: PrivateJwk): string {
  const pem = createPublicKey(createPrivateKey({ key: publicKeyOf as webcrypto.JsonWebKey, format: 'jwk' })).export({ type: 'spki', format: 'pem' });
  const input = `${part({ ...decodePart(token, 0), alg: 'HS256' })}.${token.split('.')[1]}`;
  return `${input}.${b64url(createHmac('sha256', pem).update(input).digest())}`;
}

/** One byte of the signature changed. */
export function tamperSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  sig[4] = (sig[4] as number) ^ 0xff;
  return `${h}.${p}.${b64url(sig)}`;
}

/** The same claims, ES256-signed with `key` (e.g. one the issuer never published). */
export function signEs256(token: string, key: PrivateJwk): string {
  const input = `${part({ ...decodePart(token, 0), alg: 'ES256', kid: key.kid })}.${token.split('.')[1]}`;
  const sig = signWith('sha256', Buffer.from(input), { key: createPrivateKey({ key: key as webcrypto.JsonWebKey, format: 'jwk' }), dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

export function kidOf(token: string): unknown {
  return decodePart(token, 0).kid;
}
