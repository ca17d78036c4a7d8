// The two other credential kinds: opaque tokens validated by RFC 7662 introspection at a real OpenID
// provider (revocation included), and static API keys configured by digest (rotation by file, no restart).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { challengeParams, mcpRequestsSeen } from '../support/auth.ts';
import { startBackend, type BackendProcess } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { startOidcProvider, type OidcProvider } from '../support/oidc.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { MCP_HEADERS, messagesOf, modernPost, post, rawCall, rawHttpPost, rawSession, rpc } from '../support/raw-mcp.ts';
import { freePort, startRedis, type RedisServer } from '../support/redis.ts';

const INIT = rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const dir = mkdtempSync(join(tmpdir(), 'gw-auth-opaque-'));

/** Polls `attempt` until it returns true, for what settles asynchronously (cache expiry, file reload). */
async function eventually(what: string, attempt: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  const res = await post(url, INIT, headers);
  await res.body?.cancel();
  return res.status;
}

async function failures(gw: GatewayProcess, reason: string): Promise<number> {
  return metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_auth_failures_total', { reason });
}

let backend: BackendProcess;
before(async () => {
  backend = await startBackend('a', 'demo/backend.ts', ['--log-requests']);
});
after(async () => backend?.stop());

describe('opaque tokens through RFC 7662 introspection', () => {
  let op: OidcProvider;
  let gw: GatewayProcess;
  let resource: string;
  const token = (client: string, res = resource) => op.token(client, { resource: res, scope: 'mcp:tools' });

  before(async () => {
    op = await startOidcProvider();
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    const secretFile = join(dir, 'client-secret');
    writeFileSync(secretFile, 'gateway-secret\n');
    gw = await startGateway({
      backends: [backend.url],
      args: ['--port', String(port), '--auth', 'introspection', '--resource-url', resource, '--auth-issuer', op.issuer],
      env: {
        AUTH_INTROSPECTION_URL: `${op.issuer}/token/introspection`,
        AUTH_CLIENT_ID: 'gateway',
        AUTH_CLIENT_SECRET_FILE: secretFile,
        AUTH_INTROSPECTION_CACHE: '1s',
        AUTH_REQUIRED_SCOPES: 'mcp:tools',
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await op?.stop();
  });

  test('an opaque token opens a session; the backend sees the identity, not the token', async () => {
    const t = bearer(await token('carol'));
    const sid = await rawSession(gw.mcpUrl, t);
    const echoed = await rawCall(gw.mcpUrl, sid, 'echo_headers', {}, t);
    const headers = echoed.result?.headers as Record<string, string>;
    assert.equal(headers.authorization, undefined);
    // A client-credentials token has no resource owner: the subject is the client (RFC 9068 §2.2).
    assert.deepEqual([headers['x-auth-subject'], headers['x-auth-client-id'], headers['x-auth-scopes'], headers['x-auth-issuer']], ['carol', 'carol', 'mcp:tools', op.issuer]);
  });

  test('revoked, foreign-audience and JWT tokens are refused with 401 invalid_token, and nothing is forwarded', async () => {
    const revoked = await token('carol');
    await op.revoke('carol', revoked);
    const cases = [
      { name: 'revoked before use', token: revoked, reason: 'inactive' },
      { name: 'issued for another resource', token: await token('carol', 'http://other.invalid/mcp'), reason: 'wrong_audience' },
      // oidc-provider will not introspect a structured token: a JWT is no opaque token of this resource.
      { name: 'a JWT', token: await token('alice'), reason: 'inactive' },
      { name: 'made up', token: randomBytes(32).toString('base64url'), reason: 'inactive' },
    ];
    const forwardedBefore = mcpRequestsSeen([backend]).length;
    const inactiveBefore = await failures(gw, 'inactive');
    for (const c of cases) {
      const res = await post(gw.mcpUrl, INIT, bearer(c.token));
      assert.equal(res.status, 401, c.name);
      assert.equal(challengeParams(res.headers.get('www-authenticate')).error, 'invalid_token', c.name);
      await res.body?.cancel();
    }
    assert.equal((await failures(gw, 'inactive')) - inactiveBefore, 3);
    assert.equal(mcpRequestsSeen([backend]).length, forwardedBefore, 'nothing reached the backend');
  });

  test('a token revoked while in use is refused once its cached answer expires', async () => {
    const t = await token('carol');
    const sid = await rawSession(gw.mcpUrl, bearer(t));
    await op.revoke('carol', t);
    // --auth-introspection-cache 1s: the gateway asks again within about a second.
    await eventually('refused after revocation', async () => (await rawCall(gw.mcpUrl, sid, 'whoami', {}, bearer(t))).status === 401);
  });
});

describe('static API keys', () => {
  let gw: GatewayProcess;
  const keyFile = join(dir, 'api-keys');
  const digest = (key: string) => createHash('sha256').update(key).digest('hex');
  const fileKey = randomBytes(32).toString('hex');
  const envKey = randomBytes(32).toString('hex');
  /** Replaces the file the way a Kubernetes Secret update does: a new file moved into place. */
  const writeKeys = (text: string) => {
    writeFileSync(`${keyFile}.tmp`, text);
    renameSync(`${keyFile}.tmp`, keyFile);
  };

  before(async () => {
    writeKeys(`# id  digest  scopes\nci-bot sha256:${digest(fileKey)} mcp:tools\n`);
    gw = await startGateway({
      backends: [backend.url],
      args: ['--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp', '--auth-api-keys-file', keyFile, '--auth-required-scopes', 'mcp:tools'],
      env: { AUTH_API_KEYS: `ops sha256:${digest(envKey)} mcp:tools mcp:admin` },
    });
  });
  after(async () => gw?.stop());

  test('a key from the file and one from the environment open sessions bound to their key ids', async () => {
    const sid = await rawSession(gw.mcpUrl, bearer(fileKey));
    const headers = (await rawCall(gw.mcpUrl, sid, 'echo_headers', {}, bearer(fileKey))).result?.headers as Record<string, string>;
    assert.equal(headers.authorization, undefined);
    assert.deepEqual([headers['x-auth-subject'], headers['x-auth-scopes'], headers['x-auth-issuer']], ['ci-bot', 'mcp:tools', undefined]);
    const opsSid = await rawSession(gw.mcpUrl, bearer(envKey));
    const ops = (await rawCall(gw.mcpUrl, opsSid, 'echo_headers', {}, bearer(envKey))).result?.headers as Record<string, string>;
    assert.deepEqual([ops['x-auth-subject'], ops['x-auth-scopes']], ['ops', 'mcp:tools mcp:admin']);
    assert.equal((await rawCall(gw.mcpUrl, sid, 'whoami', {}, bearer(envKey))).status, 404, "another key's session is unknown to it");
  });

  test('a client listing every identity header in Connection can neither strip nor forge them', async () => {
    const sid = await rawSession(gw.mcpUrl, bearer(fileKey));
    // fetch refuses such a Connection header: node:http sends what an attacker would.
    const names = ['x-auth-subject', 'x-auth-client-id', 'x-auth-scopes', 'x-auth-issuer', 'x-auth-identity'];
    const res = await rawHttpPost(gw.mcpUrl, rpc('tools/call', { name: 'echo_headers', arguments: {} }, 7), {
      ...MCP_HEADERS,
      ...bearer(fileKey),
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
      connection: names.join(', '),
      'x-auth-subject': 'admin',
    });
    assert.equal(res.status, 200);
    const reply = (await messagesOf(res)).find((m) => m.id === 7) as { result?: { structuredContent?: { headers: Record<string, string> } } };
    const seen = reply.result?.structuredContent?.headers ?? {};
    assert.deepEqual([seen['x-auth-subject'], seen['x-auth-scopes']], ['ci-bot', 'mcp:tools'], 'the verified identity reached the backend');
  });

  test("a 2026-07-28 request naming another key's session id is checked: the id never reaches a backend", async () => {
    const sid = await rawSession(gw.mcpUrl, bearer(fileKey));
    const mismatches = async () => metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_sessions_lost_total', { reason: 'principal_mismatch' });
    const before = await mismatches();
    const res = await modernPost(gw.mcpUrl, 'tools/call', { name: 'echo_headers', arguments: {} }, { id: 8, headers: { ...bearer(envKey), 'mcp-session-id': sid } });
    assert.equal(res.status, 200, 'routed as the sessionless request it says it is');
    const reply = (await messagesOf(res)).find((m) => m.id === 8) as { result?: { structuredContent?: { headers: Record<string, string> } } };
    const seen = reply.result?.structuredContent?.headers;
    assert.ok(seen, 'the backend answered the tool call');
    assert.equal(seen['mcp-session-id'], undefined, "another principal's session id is not forwarded");
    assert.equal(seen['x-auth-subject'], 'ops');
    assert.equal((await mismatches()) - before, 1, 'counted as principal_mismatch');
  });

  test('an unknown key is refused with 401 invalid_token and nothing is forwarded', async () => {
    const forwardedBefore = mcpRequestsSeen([backend]).length;
    const before = await failures(gw, 'unknown_api_key');
    const res = await post(gw.mcpUrl, INIT, bearer(randomBytes(32).toString('hex')));
    assert.equal(res.status, 401);
    const params = challengeParams(res.headers.get('www-authenticate'));
    assert.deepEqual([params.error, params.resource_metadata], ['invalid_token', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp']);
    await res.body?.cancel();
    assert.equal((await failures(gw, 'unknown_api_key')) - before, 1);
    assert.equal(mcpRequestsSeen([backend]).length, forwardedBefore);
  });

  test('a key rotated in the file takes effect without a restart; the sessions of its id live on', async () => {
    const sid = await rawSession(gw.mcpUrl, bearer(fileKey));
    const rotated = randomBytes(32).toString('hex');
    writeKeys(`ci-bot sha256:${digest(rotated)} mcp:tools\n`);
    await eventually('new key accepted', async () => (await statusOf(gw.mcpUrl, bearer(rotated))) === 200);
    assert.equal(await statusOf(gw.mcpUrl, bearer(fileKey)), 401, 'the old key is gone');
    assert.equal((await rawCall(gw.mcpUrl, sid, 'whoami', {}, bearer(rotated))).status, 200, 'same key id, same principal');
    // A broken file keeps the keys that work.
    writeKeys('ci-bot not-a-digest\n');
    await gw.service.waitFor((l) => l.msg === 'API key file not reloaded: keeping the previous one');
    assert.equal(await statusOf(gw.mcpUrl, bearer(rotated)), 200);
    assert.equal(gw.service.exited, false);
  });

  test('the protected resource metadata has no authorization server for API keys', async () => {
    const res = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', gw.mcpUrl));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { resource: 'https://mcp.example.com/mcp', scopes_supported: ['mcp:tools'], bearer_methods_supported: ['header'] });
  });
});

describe('a rollout that turns API-key auth on, replicas sharing Redis', () => {
  // Mid-rollout one replica still runs without auth, the next with it. A session bound without a principal
  // is nobody's to claim, and one bound to a principal is not open to callers without one.
  const key = randomBytes(32).toString('hex');
  const digest = createHash('sha256').update(key).digest('hex');
  let redis: RedisServer;
  let open: GatewayProcess;
  let guarded: GatewayProcess;
  before(async () => {
    redis = await startRedis();
    [open, guarded] = await Promise.all([
      startGateway({ backends: [backend.url], redisUrl: redis.url }),
      startGateway({ backends: [backend.url], redisUrl: redis.url, args: ['--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp'], env: { AUTH_API_KEYS: `ci-bot sha256:${digest}` } }),
    ]);
  });
  after(async () => {
    await Promise.allSettled([open?.stop(), guarded?.stop()]);
    await redis?.stop();
  });

  test('a session bound without a principal answers 404 to a key holder, and a key holder\'s session 404 to no-auth callers', async () => {
    const anonymous = await rawSession(open.mcpUrl);
    assert.equal((await rawCall(open.mcpUrl, anonymous, 'whoami')).status, 200);
    assert.equal((await rawCall(guarded.mcpUrl, anonymous, 'whoami', {}, bearer(key))).status, 404, 'not claimed by the first key holder');

    const owned = await rawSession(guarded.mcpUrl, bearer(key));
    assert.equal((await rawCall(guarded.mcpUrl, owned, 'whoami', {}, bearer(key))).status, 200);
    assert.equal((await rawCall(open.mcpUrl, owned, 'whoami')).status, 404, 'not open to callers without a principal');

    for (const gw of [open, guarded]) {
      assert.equal(metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_sessions_lost_total', { reason: 'principal_mismatch' }), 1);
    }
    assert.equal((await rawCall(open.mcpUrl, anonymous, 'whoami')).status, 200, 'each still works where it belongs');
  });
});
