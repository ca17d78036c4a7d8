// The gateway as an OAuth 2.1 resource server (MCP authorization spec) with JWT access tokens from a real
// OpenID provider: sessions through two gateway replicas on Redis, every refusal with its status and
// challenge and nothing forwarded, per-tool step-up, session binding to the principal, the RFC 9728
// metadata a client discovers the authorization server from, identity forwarding, and key rotation.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { algNone, challengeParams, hmacWithPublicKey, kidOf, mcpRequestsSeen, signEs256, tamperSignature } from '../support/auth.ts';
import { connectClient } from '../support/mcp-client.ts';
import { newSigningKey, startOidcProvider, type OidcProvider } from '../support/oidc.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { MCP_HEADERS, post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { freePort } from '../support/redis.ts';
import { startBackend, type BackendProcess } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { SseReader } from '../support/sse-reader.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const INIT = rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } });

describe('JWT bearer auth', () => {
  let op: OidcProvider;
  let topo: Topology;
  let resource: string;
  let metadataUrl: string;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const token = (client: string, scope = 'mcp:tools', res = resource) => op.token(client, { resource: res, scope });

  before(async () => {
    op = await startOidcProvider();
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
    const dir = mkdtempSync(join(tmpdir(), 'gw-auth-'));
    const keyFile = join(dir, 'identity.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const common = ['--auth', 'jwt', '--resource-url', resource, '--auth-issuer', op.issuer, '--auth-required-scopes', 'mcp:tools'];
    common.push('--auth-method-scopes', 'tools/call:sleep=mcp:admin', '--auth-jwks-cooldown', '1s', '--identity-jwt-key-file', keyFile);
    topo = await startTopology({
      store: 'redis',
      backends: ['a', 'b'],
      backendArgs: ['--log-requests'],
      // Replica 0 listens on the port of the resource URL, so that the SDK's discovery can reach it.
      gatewayArgs: (i) => (i === 0 ? [...common, '--port', String(port)] : common),
    });
  });
  after(async () => {
    await topo?.stop();
    await op?.stop();
  });

  test('an SDK client with a token completes a session through both replicas: sampling, elicitation, GET stream, DELETE', async () => {
    const t = await token('alice');
    // Identity headers the client makes up are replaced by the verified ones.
    const c = await connectClient(topo.entries(), { headers: { ...bearer(t), 'x-auth-subject': 'mallory', 'x-auth-identity': 'forged' } });
    try {
      const who = await c.call<{ replica: string }>('whoami');
      const sampled = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: 'q1' });
      assert.equal(sampled.answer, 'model says: q1');
      const elicited = await c.call<{ replica: string; answer: string }>('ask_user', { question: 'q2?' });
      assert.equal(elicited.answer, 'user says: q2?');
      assert.deepEqual(new Set([who.replica, sampled.replica, elicited.replica]).size, 1, 'one replica served the session');
      await c.call('announce', { message: 'over the GET stream', count: 2 });
      const deadline = Date.now() + 10_000;
      while (c.notifications.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(c.notifications.length, 2, 'notifications arrived on the authenticated GET stream');

      const { headers } = await c.call<{ headers: Record<string, string> }>('echo_headers');
      assert.equal(headers.authorization, undefined, 'the token never reaches a backend');
      assert.equal(headers['x-auth-subject'], 'alice');
      assert.equal(headers['x-auth-client-id'], 'alice');
      assert.equal(headers['x-auth-scopes'], 'mcp:tools');
      assert.equal(headers['x-auth-issuer'], op.issuer);
      const jwks = createRemoteJWKSet(new URL(`${topo.gateways[0]!.adminUrl}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(headers['x-auth-identity'] as string, jwks, {
        issuer: resource,
        audience: 'mcp-backend',
        typ: 'mcp-identity+jwt',
      });
      assert.equal(protectedHeader.alg, 'ES256');
      assert.deepEqual([payload.sub, payload.client_id, payload.scope, payload.auth_iss], ['alice', 'alice', 'mcp:tools', op.issuer]);
      assert.ok((payload.exp as number) - (payload.iat as number) <= 60, 'short-lived');

      assert.equal(new Set(c.entries).size, 2, 'the client reached both gateway replicas');
      assert.equal(c.answered.sampling, 1);
      assert.equal(c.answered.elicitation, 1);
      await c.transport.terminateSession();
      const gone = await post(topo.entries()[1] as string, rpc('tools/list'), { ...bearer(t), 'mcp-session-id': c.sessionId() });
      assert.equal(gone.status, 404, 'DELETE (authenticated) ended the session');
      const seen = mcpRequestsSeen(topo.backends);
      assert.ok(seen.length > 0);
      assert.ok(seen.every((r) => !r.headers.includes('authorization')), 'no backend request ever carried Authorization');
    } finally {
      await c.close();
    }
  });

  test('requests without a valid token are refused with the spec status and challenge, and nothing is forwarded', async () => {
    const alice = await token('alice');
    const issuerKey = op.keys[0]!;
    const cases: Array<{ name: string; headers: Record<string, string>; url?: string; status: number; error?: string; reason: string }> = [
      { name: 'no token', headers: {}, status: 401, reason: 'missing_token' },
      { name: 'another scheme', headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' }, status: 401, reason: 'unsupported_scheme' },
      { name: 'empty Bearer', headers: { authorization: 'Bearer' }, status: 400, error: 'invalid_request', reason: 'malformed_header' },
      { name: 'not a b64token', headers: { authorization: 'Bearer a b' }, status: 400, error: 'invalid_request', reason: 'malformed_header' },
      { name: 'token in the query', headers: bearer(alice), url: '?access_token=x', status: 400, error: 'invalid_request', reason: 'token_in_query' },
      { name: 'not a JWT', headers: bearer('opaque-garbage'), status: 401, error: 'invalid_token', reason: 'malformed_token' },
      { name: 'bad signature', headers: bearer(tamperSignature(alice)), status: 401, error: 'invalid_token', reason: 'bad_signature' },
      { name: 'alg none', headers: bearer(algNone(alice)), status: 401, error: 'invalid_token', reason: 'disallowed_algorithm' },
      { name: 'HMAC keyed with the public key', headers: bearer(hmacWithPublicKey(alice, issuerKey)), status: 401, error: 'invalid_token', reason: 'disallowed_algorithm' },
      { name: 'a key the issuer never published', headers: bearer(signEs256(alice, newSigningKey())), status: 401, error: 'invalid_token', reason: 'unknown_key' },
      { name: 'wrong issuer', headers: bearer(await token('foreign-iss')), status: 401, error: 'invalid_token', reason: 'wrong_issuer' },
      { name: 'wrong audience', headers: bearer(await token('alice', 'mcp:tools', 'http://other.invalid/mcp')), status: 401, error: 'invalid_token', reason: 'wrong_audience' },
      { name: 'expired', headers: bearer(await token('expired')), status: 401, error: 'invalid_token', reason: 'expired' },
      { name: 'not yet valid', headers: bearer(await token('early')), status: 401, error: 'invalid_token', reason: 'not_yet_valid' },
      { name: 'missing scope', headers: bearer(await token('alice', '')), status: 403, error: 'insufficient_scope', reason: 'insufficient_scope' },
    ];
    const gw = topo.gateways[0]!;
    const before = parsePrometheus(await gw.metricsText());
    const forwardedBefore = mcpRequestsSeen(topo.backends).length;
    for (const c of cases) {
      const res = await post(`${gw.mcpUrl}${c.url ?? ''}`, INIT, c.headers);
      assert.equal(res.status, c.status, c.name);
      const params = challengeParams(res.headers.get('www-authenticate'));
      assert.equal(params.resource_metadata, metadataUrl, `${c.name}: resource_metadata`);
      assert.equal(params.error, c.error, `${c.name}: error`);
      if (c.status !== 400) assert.equal(params.scope, 'mcp:tools', `${c.name}: scope`);
      const body = (await res.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(body.id, null, `${c.name}: refused before the body was read`);
      assert.equal(body.error.code, -32000);
    }
    // The other transport paths: a GET stream and a DELETE without a token.
    const get = await fetch(gw.mcpUrl, { headers: { accept: 'text/event-stream' } });
    assert.equal(get.status, 401);
    assert.deepEqual(challengeParams(get.headers.get('www-authenticate')), { scope: 'mcp:tools', resource_metadata: metadataUrl });
    await get.body?.cancel();
    const del = await fetch(gw.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': 'some-session' } });
    assert.equal(del.status, 401);
    assert.equal(challengeParams(del.headers.get('www-authenticate')).resource_metadata, metadataUrl);
    await del.body?.cancel();

    assert.equal(mcpRequestsSeen(topo.backends).length, forwardedBefore, 'no refused request reached a backend');
    const after = parsePrometheus(await gw.metricsText());
    const delta = (reason: string) =>
      metricSum(after, 'mcp_gateway_auth_failures_total', { reason }) - metricSum(before, 'mcp_gateway_auth_failures_total', { reason });
    for (const reason of new Set(cases.map((c) => c.reason))) {
      const expected = cases.filter((c) => c.reason === reason).length + (reason === 'missing_token' ? 2 : 0);
      assert.equal(delta(reason), expected, `auth failures counted for ${reason}`);
    }
    const lines = gw.service.lines.join('\n');
    assert.ok(!lines.includes(alice), 'no token appears in the gateway log');
  });

  test('a tool that needs another scope answers 403 insufficient_scope with the request id; a stepped-up token calls it', async () => {
    const entry = topo.entries()[0] as string;
    const narrow = bearer(await token('alice'));
    const sid = await rawSession(entry, narrow);
    const forwardedBefore = mcpRequestsSeen(topo.backends).length;
    const res = await post(entry, rpc('tools/call', { name: 'sleep', arguments: { ms: 1 } }, 'call-7'), {
      ...narrow,
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    });
    assert.equal(res.status, 403);
    const params = challengeParams(res.headers.get('www-authenticate'));
    assert.deepEqual([params.error, params.scope, params.resource_metadata], ['insufficient_scope', 'mcp:tools mcp:admin', metadataUrl]);
    const body = (await res.json()) as { id: unknown; error: { data: { reason: string } } };
    assert.equal(body.id, 'call-7', 'the error echoes the request id');
    assert.equal(body.error.data.reason, 'insufficient_scope');
    // A batch cannot hide the guarded call behind a harmless first message.
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 1 } } },
    ]);
    const batched = await post(entry, batch, { ...narrow, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(batched.status, 403);
    await batched.body?.cancel();
    assert.equal(mcpRequestsSeen(topo.backends).length, forwardedBefore, 'the refused calls reached no backend');
    // Step-up: a new token with the scope, same principal, same live session.
    const wide = bearer(await token('alice', 'mcp:tools mcp:admin'));
    const called = await rawCall(entry, sid, 'sleep', { ms: 1 }, wide);
    assert.equal(called.status, 200);
    assert.equal(called.result?.slept, 1);
  });

  test("another principal's token with a live session id gets 404, counted and logged", async () => {
    const [first, second] = topo.entries() as [string, string];
    const alice = bearer(await token('alice'));
    const sid = await rawSession(first, alice);
    const before = parsePrometheus(await topo.gateways[1]!.metricsText());
    const forwardedBefore = mcpRequestsSeen(topo.backends).length;
    const bob = bearer(await token('bob'));
    for (const [method, extra] of [['POST', {}], ['GET', { accept: 'text/event-stream' }], ['DELETE', {}]] as const) {
      const res = await fetch(second, {
        method,
        headers: { ...MCP_HEADERS, ...extra, ...bob, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        ...(method === 'POST' ? { body: rpc('tools/list', {}, 5) } : {}),
      });
      assert.equal(res.status, 404, `${method} with another principal's token`);
      const body = (await res.json()) as { error: { code: number } };
      assert.equal(body.error.code, -32001, 'answered exactly like an unknown session');
    }
    assert.equal(mcpRequestsSeen(topo.backends).length, forwardedBefore, 'nothing reached the backend');
    const after = parsePrometheus(await topo.gateways[1]!.metricsText());
    const lost = (s: typeof after) => metricSum(s, 'mcp_gateway_sessions_lost_total', { reason: 'principal_mismatch' });
    assert.equal(lost(after) - lost(before), 3);
    await topo.gateways[1]!.service.waitFor((l) => l.msg === 'binding presented by another principal: treated as unknown');
    const who = await rawCall(second, sid, 'whoami', {}, alice);
    assert.equal(who.status, 200, 'the owner still uses the session');
  });

  test('the protected resource metadata is what RFC 9728 and the MCP spec require, and leads a client to the authorization server', async () => {
    const expected = { resource, authorization_servers: [op.issuer], scopes_supported: ['mcp:tools'], bearer_methods_supported: ['header'] };
    for (const gw of topo.gateways) {
      const origin = new URL(gw.mcpUrl).origin;
      for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
        const res = await fetch(`${origin}${path}`);
        assert.equal(res.status, 200, `${path} needs no token`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        assert.deepEqual(await res.json(), expected);
      }
    }
    // By hand, as the spec's discovery sequence: 401 -> resource_metadata -> authorization server metadata.
    const refused = await post(resource, INIT);
    const prm = (await (await fetch(challengeParams(refused.headers.get('www-authenticate')).resource_metadata as string)).json()) as typeof expected;
    const as = new URL(prm.authorization_servers[0] as string);
    const asMeta = (await (await fetch(new URL('/.well-known/oauth-authorization-server', as))).json()) as { issuer: string; token_endpoint: string };
    assert.equal(asMeta.issuer, op.issuer, 'RFC 8414 §3.3: the metadata names the same issuer');
    assert.ok(asMeta.token_endpoint.startsWith(op.issuer));
    // And by the SDK's own OAuth flow: 401 -> metadata -> authorization server -> token for the RFC 8707
    // resource the metadata names. (The SDK's client-credentials flow asks for its configured scope, not
    // the challenge's, hence `scope` here.)
    const c = await connectClient([resource], {
      authProvider: new ClientCredentialsProvider({ clientId: 'bob', clientSecret: 'bob-secret', expectedIssuer: op.issuer, scope: 'mcp:tools' }),
    });
    try {
      const { headers } = await c.call<{ headers: Record<string, string> }>('echo_headers');
      assert.equal(headers['x-auth-subject'], 'bob');
      assert.equal(headers['x-auth-scopes'], 'mcp:tools');
    } finally {
      await c.close();
    }
  });

  test('key rotation at the provider is picked up by every replica without a restart', async () => {
    const old = await token('alice');
    for (const entry of topo.entries()) assert.equal((await post(entry, INIT, bearer(old))).status, 200);
    const next = newSigningKey();
    await op.rotateKeys([next]);
    const fresh = await token('alice');
    assert.equal(kidOf(fresh), next.kid, 'the provider signs with the new key');
    for (const entry of topo.entries()) {
      // The first attempts may fall inside the 1 s JWKS cooldown; the refetch follows.
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        const res = await post(entry, INIT, bearer(fresh));
        status = res.status;
        await res.body?.cancel();
        if (status !== 200) await new Promise((r) => setTimeout(r, 300));
      }
      assert.equal(status, 200, `${entry} accepts a token signed with the new key`);
      const retired = await post(entry, INIT, bearer(old));
      assert.equal(retired.status, 401, 'a token signed with the retired key is refused');
      await retired.body?.cancel();
    }
    for (const gw of topo.gateways) {
      assert.equal(gw.service.exited, false);
      assert.equal(gw.service.json().filter((l) => l.msg === 'gateway listening').length, 1, 'never restarted');
    }
  });
});

describe('JWT bearer auth: a listening stream ends when its token expires', () => {
  let op: OidcProvider;
  let gw: GatewayProcess;
  let backend: BackendProcess;
  let resource: string;

  before(async () => {
    op = await startOidcProvider();
    backend = await startBackend('a');
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    gw = await startGateway({
      backends: [backend.url],
      args: ['--port', String(port), '--auth', 'jwt', '--resource-url', resource, '--auth-issuer', op.issuer, '--auth-clock-skew', '1s', '--sse-keepalive', '500ms'],
    });
  });
  after(async () => {
    await gw?.stop();
    await backend?.stop();
    await op?.stop();
  });

  test('a token verified once is admitted from the cache on later requests: identity headers as verified, forged ones replaced, another principal refused', async () => {
    // No identity JWT key here, so the requests after the first take the synchronous cached path (auth/guard.ts).
    const alice = { authorization: `Bearer ${await op.token('alice', { resource, scope: 'mcp:tools' })}` };
    const sid = await rawSession(gw.mcpUrl, alice);
    for (let i = 0; i < 3; i++) {
      const called = await rawCall(gw.mcpUrl, sid, 'echo_headers', {}, { ...alice, 'x-auth-subject': 'mallory', 'x-auth-scopes': 'mcp:admin' });
      assert.equal(called.status, 200);
      const headers = (called.result as { headers: Record<string, string> }).headers;
      assert.equal(headers.authorization, undefined, 'the token never reaches a backend');
      assert.deepEqual([headers['x-auth-subject'], headers['x-auth-scopes']], ['alice', 'mcp:tools'], `request ${i + 2}: the verified identity, not the forged one`);
    }
    const bob = { authorization: `Bearer ${await op.token('bob', { resource, scope: 'mcp:tools' })}` };
    assert.equal((await rawCall(gw.mcpUrl, sid, 'whoami', {}, bob)).status, 404, "another principal cannot use alice's session");
    assert.equal((await rawCall(gw.mcpUrl, sid, 'whoami', {}, alice)).status, 200, 'alice still can');
    assert.equal((await rawCall(gw.mcpUrl, sid, 'whoami', {}, { authorization: `${alice.authorization}x` })).status, 401, 'a tampered token is judged afresh and refused');
  });

  const openGet = (sid: string, token: string) =>
    fetch(gw.mcpUrl, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' } });

  test('the stream of a 3-second token ends cleanly after it (plus the skew); a long-lived one stays; reconnecting needs a fresh token', async () => {
    const [short, long] = [await op.token('short-lived', { resource, scope: 'mcp:tools' }), await op.token('alice', { resource, scope: 'mcp:tools' })];
    const shortSid = await rawSession(gw.mcpUrl, { authorization: `Bearer ${short}` });
    const longSid = await rawSession(gw.mcpUrl, { authorization: `Bearer ${long}` });
    const [shortRes, longRes] = await Promise.all([openGet(shortSid, short), openGet(longSid, long)]);
    assert.deepEqual([shortRes.status, longRes.status], [200, 200]);
    const [shortStream, longStream] = [new SseReader(shortRes), new SseReader(longRes)];

    await shortStream.until((r) => r.ended, 15_000);
    assert.equal(shortStream.failed, undefined, 'ended cleanly (a terminating chunk), not torn down');
    assert.ok(shortStream.comments >= 1, 'it was a live stream until then');
    await longStream.until((r) => r.comments >= shortStream.comments + 2, 5_000);
    assert.equal(longStream.ended, false, "a token that is still valid keeps its stream");

    const line = await gw.service.waitFor((l) => l.msg === 'request' && l.outcome === 'credential-expired');
    assert.equal(line.http, 'GET');
    assert.equal(metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_streams_credential_expired_total'), 1);

    const again = await openGet(shortSid, short);
    assert.equal(again.status, 401, 'the expired token cannot reopen it');
    await again.body?.cancel();
    const fresh = await openGet(shortSid, await op.token('short-lived', { resource, scope: 'mcp:tools' }));
    assert.equal(fresh.status, 200, 'the same principal with a fresh token resumes listening on its session');
    await fresh.body?.cancel();
    await longStream.cancel();
  });
});
