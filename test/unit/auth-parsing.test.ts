// The auth layer's parsers and policies: Authorization headers, challenges, scope rules, API key files,
// identity header values, resource metadata URLs, and the auth configuration rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import fc from 'fast-check';
import { pino } from 'pino';
import { parseApiKeys } from '../../gateway/src/auth/api-keys.ts';
import { createAuthGuard } from '../../gateway/src/auth/create.ts';
import { hasQueryToken, readBearer } from '../../gateway/src/auth/bearer.ts';
import { bearerChallenge } from '../../gateway/src/auth/challenge.ts';
import { headerSafe } from '../../gateway/src/auth/identity-headers.ts';
import { AuthFailure, scopesFromClaims } from '../../gateway/src/auth/identity.ts';
import { metadataUrl, protectedResourceMetadata, suffixedMetadataPath } from '../../gateway/src/auth/protected-resource.ts';
import { operationsOf, ScopePolicy } from '../../gateway/src/auth/scope-policy.ts';
import { parseScopeRules } from '../../gateway/src/config/auth.ts';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { configProblems as problems } from '../support/config.ts';
import { peekJsonRpc } from '../../gateway/src/mcp/jsonrpc.ts';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';

test('Authorization: Bearer tokens are read; other schemes are "no credentials"; malformed ones are invalid_request', () => {
  assert.deepEqual(readBearer(undefined), { kind: 'absent', reason: 'missing_token' });
  assert.deepEqual(readBearer('Basic dXNlcjpwdw=='), { kind: 'absent', reason: 'unsupported_scheme' });
  assert.deepEqual(readBearer('bearer abc.DEF-_~+/=='), { kind: 'token', token: 'abc.DEF-_~+/==' });
  for (const bad of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a"b', 'Bearer =abc', `Bearer ${'a'.repeat(9000)}`]) {
    assert.throws(() => readBearer(bad), (e: unknown) => e instanceof AuthFailure && e.reason === 'malformed_header', bad);
  }
  assert.throws(() => readBearer(['Bearer a', 'Bearer b']), AuthFailure);
});

test('readBearer never fails with anything but an AuthFailure, and returns only b64tokens', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string().map((s) => `Bearer ${s}`)), (header) => {
      try {
        const r = readBearer(header);
        if (r.kind === 'token') assert.match(r.token, /^[A-Za-z0-9\-._~+/]+=*$/);
      } catch (err) {
        assert.ok(err instanceof AuthFailure);
      }
    }),
  );
});

test('a token in the query string is recognized (RFC 6750 §2.3, refused by the gateway)', () => {
  assert.equal(hasQueryToken('/mcp?access_token=x'), true);
  assert.equal(hasQueryToken('/mcp?a=1&access_token='), true);
  assert.equal(hasQueryToken('/mcp?token=x'), false);
  assert.equal(hasQueryToken('/mcp'), false);
});

test('challenges follow RFC 6750 §3 and RFC 9728 §5.1', () => {
  const rm = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
  assert.equal(bearerChallenge({ resourceMetadata: rm }), `Bearer resource_metadata="${rm}"`);
  assert.equal(bearerChallenge({ resourceMetadata: rm, scope: ['a', 'b'] }), `Bearer scope="a b", resource_metadata="${rm}"`);
  assert.equal(
    bearerChallenge({ error: 'insufficient_scope', errorDescription: 'needs "b"\\', scope: ['b'], resourceMetadata: rm }),
    `Bearer error="insufficient_scope", error_description="needs \\"b\\"\\\\", scope="b", resource_metadata="${rm}"`,
  );
  // No error code, no description (RFC 6750 §3: a request without credentials gets no error).
  assert.equal(bearerChallenge({ errorDescription: 'x', resourceMetadata: rm }), `Bearer resource_metadata="${rm}"`);
  assert.ok(!/[\r\n]/.test(bearerChallenge({ error: 'invalid_token', errorDescription: 'a\r\nInjected: 1', resourceMetadata: rm })));
});

test('scope rules: per method and per named tool, unioned with the required scopes', () => {
  const rules = parseScopeRules('tools/call=mcp:call, tools/call:deploy=deploy:write ops,resources/read=files:read');
  assert.deepEqual(rules[1], { method: 'tools/call', name: 'deploy', scopes: ['deploy:write', 'ops'] });
  const policy = new ScopePolicy(['mcp:tools'], rules);
  assert.deepEqual(policy.scopesFor([{ method: 'tools/call', name: 'deploy' }]), ['mcp:tools', 'mcp:call', 'deploy:write', 'ops']);
  assert.deepEqual(policy.scopesFor([{ method: 'tools/call', name: 'whoami' }]), ['mcp:tools', 'mcp:call']);
  assert.deepEqual(policy.scopesFor([{ method: 'tools/list', name: undefined }]), []);
  for (const bad of ['tools/call', '=x', 'tools/call:=x', 'tools/call=', 'bad method=x']) assert.throws(() => parseScopeRules(bad), bad);
});

test('every message of a batch is an operation (a guarded call cannot hide behind the first)', () => {
  const body = Buffer.from(
    JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'deploy' } },
      { jsonrpc: '2.0', id: 3, result: {} },
    ]),
  );
  assert.deepEqual(operationsOf(peekJsonRpc(body), body), [
    { method: 'ping', name: undefined },
    { method: 'tools/call', name: 'deploy' },
  ]);
  const single = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }));
  assert.deepEqual(operationsOf(peekJsonRpc(single), single), [{ method: 'tools/call', name: 'x' }]);
  assert.deepEqual(operationsOf(undefined, undefined), []);
});

test('scopes come from `scope` (space-separated) or `scp` (array or string)', () => {
  assert.deepEqual([...scopesFromClaims({ scope: 'a  b' })], ['a', 'b']);
  assert.deepEqual([...scopesFromClaims({ scp: ['a', 3, 'c'] })], ['a', 'c']);
  assert.deepEqual([...scopesFromClaims({ scp: 'x y' })], ['x', 'y']);
  assert.deepEqual([...scopesFromClaims({})], []);
});

test('API key files hold digests, never keys; bad lines are reported with their number', () => {
  const d = 'ab'.repeat(32);
  const keys = parseApiKeys(`# comment\n\nbot sha256:${d.toUpperCase()} mcp:tools mcp:admin\n`);
  assert.deepEqual(keys.get(d), { id: 'bot', scopes: ['mcp:tools', 'mcp:admin'] });
  assert.throws(() => parseApiKeys('bot my-plain-key'), /entry 1: .*never in clear/);
  assert.throws(() => parseApiKeys(`a sha256:${d}\na sha256:${'cd'.repeat(32)}`), /entry 2: key id 'a' is listed twice/);
  assert.throws(() => parseApiKeys(`a sha256:${d.slice(2)}`), /entry 1/);
});

test('identity header values are printable ASCII and decode back to the original', () => {
  assert.equal(headerSafe('https://issuer.example/t1'), 'https://issuer.example/t1');
  assert.equal(headerSafe('Zoë 100%'), 'Zo%C3%AB 100%25');
  assert.equal(headerSafe('a\r\nb'), 'a%0D%0Ab');
  assert.equal(headerSafe('\uD800x'), '%EF%BF%BDx', 'a lone surrogate becomes U+FFFD');
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const v = headerSafe(s);
      assert.match(v, /^[\x20-\x7E]*$/);
      assert.equal(decodeURIComponent(v), s);
    }),
  );
});

test('protected resource metadata URLs insert the well-known path before the resource path (RFC 9728 §3.1)', () => {
  assert.equal(suffixedMetadataPath('https://h.example/mcp'), '/.well-known/oauth-protected-resource/mcp');
  assert.equal(suffixedMetadataPath('https://h.example/public/mcp/'), '/.well-known/oauth-protected-resource/public/mcp');
  assert.equal(suffixedMetadataPath('https://h.example'), '/.well-known/oauth-protected-resource');
  assert.equal(metadataUrl('https://h.example:8443/mcp'), 'https://h.example:8443/.well-known/oauth-protected-resource/mcp');
  assert.deepEqual(protectedResourceMetadata({ resource: 'https://h.example/mcp', issuer: 'https://as.example', scopes: [] }), {
    resource: 'https://h.example/mcp',
    authorization_servers: ['https://as.example'],
    bearer_methods_supported: ['header'],
  });
});

const B = ['--backends', 'http://a:3000/mcp'];

test('auth configuration: what each mode needs is checked, naming the option', () => {
  const r = ['--resource-url', 'https://mcp.example.com/mcp'];
  assert.deepEqual(problems([...B, '--auth', 'jwt']).sort(), [
    '--auth-issuer (AUTH_ISSUER) or --auth-jwks-url (AUTH_JWKS_URL): --auth jwt needs one of them to find the signing keys',
    '--resource-url (RESOURCE_URL): required with --auth jwt: it is the audience tokens must carry (RFC 8707) and the resource of the protected resource metadata (RFC 9728)',
  ]);
  assert.deepEqual(problems([...B, ...r, '--auth', 'jwt', '--auth-issuer', 'https://as.example']), []);
  const intro = problems([...B, ...r, '--auth', 'introspection']);
  assert.equal(intro.length, 3, intro.join('\n'));
  assert.ok(intro.some((p) => p.startsWith('--auth-introspection-url (AUTH_INTROSPECTION_URL)')));
  assert.ok(intro.some((p) => p.startsWith('--auth-client-id (AUTH_CLIENT_ID)')));
  assert.ok(intro.some((p) => p.startsWith('AUTH_CLIENT_SECRET or --auth-client-secret-file')));
  assert.deepEqual(problems([...B, ...r, '--auth', 'api-key']), ['--auth-api-keys-file (AUTH_API_KEYS_FILE) or AUTH_API_KEYS: --auth api-key needs at least one key']);
  assert.deepEqual(problems([...B, '--auth-required-scopes', 'a']), ['--auth-required-scopes (AUTH_REQUIRED_SCOPES): has no effect with --auth none; set --auth']);
  assert.deepEqual(problems([...B, '--resource-url', 'https://mcp.example.com/mcp#x', '--auth', 'jwt', '--auth-jwks-url', 'https://as.example/jwks']), [
    "--resource-url (RESOURCE_URL): a resource URL may not carry a #fragment: 'https://mcp.example.com/mcp#x'",
  ]);
});

test('secrets are never taken from the command line, and are from the environment', () => {
  const base = [...B, '--resource-url', 'https://m.example/mcp', '--auth', 'introspection', '--auth-introspection-url', 'https://as.example/i', '--auth-client-id', 'gw'];
  const p = problems([...base, '--auth-client-secret', 's3cret']);
  assert.ok(p.some((m) => m.startsWith('--auth-client-secret (AUTH_CLIENT_SECRET): a secret is not taken from the command line')), p.join('\n'));
  assert.ok(p.every((m) => !m.includes('s3cret')), 'the message does not echo the secret');
  assert.deepEqual(problems(base, { AUTH_CLIENT_SECRET: 's3cret' }), []);
  assert.ok(problems([...B, '--auth-api-keys', 'x'])[0]?.startsWith('--auth-api-keys (AUTH_API_KEYS): a secret is not taken'));
});

test('only asymmetric JWS algorithms are accepted; identity headers cannot take reserved names', () => {
  const p = (alg: string) => problems([...B, '--auth-algorithms', alg]);
  assert.match(p('ES256,none')[0] ?? '', /'none' is never accepted/);
  assert.match(p('HS256')[0] ?? '', /HS256 is refused/);
  assert.match(p('ES257')[0] ?? '', /expected algorithms from/);
  assert.deepEqual(p('ES256,RS256,EdDSA'), []);
  assert.match(problems([...B, '--identity-headers', 'subject=authorization'])[0] ?? '', /already uses/);
  assert.match(problems([...B, '--identity-headers', 'subject=mcp-session-id'])[0] ?? '', /already uses/);
  assert.match(problems([...B, '--identity-headers', 'who=x-who'])[0] ?? '', /expected field=header-name/);
  assert.deepEqual(problems([...B, '--identity-headers', 'none']), []);
});

test('with auth off, the hook still removes identity headers a client sends, and asks nothing', async () => {
  const config = (loadConfig([...B], {}) as Extract<ReturnType<typeof loadConfig>, { kind: 'run' }>).config;
  const guard = createAuthGuard(config, { metrics: createMetrics(undefined, { processMetrics: false }), logger: pino({ level: 'silent' }) });
  const headers: Record<string, string> = { 'x-auth-subject': 'mallory', 'x-auth-identity': 'forged', 'x-other': 'kept' };
  const request = { raw: { headers }, method: 'POST', url: '/mcp?access_token=x', headers } as unknown as FastifyRequest;
  let calledBack: unknown = 'not called';
  guard.hook(request, undefined, (err) => (calledBack = err));
  assert.equal(calledBack, undefined, 'the hook finishes at once, without an error');
  assert.deepEqual(headers, { 'x-other': 'kept' });
  assert.deepEqual(guard.routes(), [], 'no protected resource metadata without auth');
  await guard.close();
});
