// Redis is not a single point of failure for live sessions: stopped mid-run, restarted empty, or flushed,
// no session is lost. Replicas route from their caches, bind new sessions locally and write them back, and a
// session no replica knows is found on its backend with a ping.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { connectClient, type TestClient } from '../support/mcp-client.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { redisCli } from '../support/redis-deployments.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function sessionKeys(topo: Topology): number {
  return Number(redisCli(['-p', String(topo.redis!.port), 'eval', "return #redis.call('keys', 'mcpgw:s:*')", '0']));
}

async function openSessions(topo: Topology, n: number): Promise<Map<TestClient, string>> {
  const home = new Map<TestClient, string>();
  for (let i = 0; i < n; i++) {
    const c = await connectClient(() => topo.entries());
    home.set(c, (await c.call<{ replica: string }>('whoami')).replica);
  }
  return home;
}

async function allStillHome(home: Map<TestClient, string>): Promise<void> {
  for (const [c, replica] of home) {
    // Twice: the rotating client reaches both gateway replicas.
    for (let i = 0; i < 2; i++) assert.equal((await c.call<{ replica: string }>('whoami')).replica, replica, 'session still on its replica');
    assert.equal((await c.call<{ answer: string }>('ask_model', { prompt: 'p' })).answer, 'model says: p');
  }
}

describe('Redis stopped mid-run', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'redis', gatewayArgs: ['--store-timeout', '300ms'] });
  });
  after(async () => topo?.stop());

  test('known sessions keep routing, new ones are created and written back, readiness says degraded', async () => {
    const home = await openSessions(topo, 6);
    await topo.redis!.stop();

    const started = Date.now();
    await allStillHome(home);
    // A new session during the outage: bound locally on the replica that saw initialize; the other replica
    // finds it on its backend with a ping.
    const born = await openSessions(topo, 3);
    await allStillHome(born);
    assert.ok(Date.now() - started < 30_000);

    for (const gw of topo.gateways) {
      const res = await fetch(`${gw.adminUrl}/readyz`);
      assert.equal(res.status, 200, 'a store outage keeps readiness');
      const body = (await res.json()) as { status: string; store: { failing: boolean } };
      assert.deepEqual([body.status, body.store.failing], ['degraded', true]);
      const m = parsePrometheus(await gw.metricsText());
      assert.ok(metricSum(m, 'mcp_gateway_session_store_errors_total') > 0, 'store errors are counted');
    }

    await topo.redis!.start();
    // Written back: every session is in Redis again, including those born in the outage.
    await waitUntil(() => sessionKeys(topo) === home.size + born.size, 'write-back of all sessions');
    await allStillHome(home);
    await allStillHome(born);
    for (const gw of topo.gateways) {
      await waitUntil(async () => ((await gw.admin<{ status: string }>('/readyz')).status === 'ready'), 'ready again');
    }
    await Promise.all([...home.keys(), ...born.keys()].map((c) => c.close()));
  });
});

describe('Redis restarted empty', () => {
  let topo: Topology;
  const late: GatewayProcess[] = [];
  before(async () => {
    topo = await startTopology({ store: 'redis' });
  });
  after(async () => {
    await Promise.allSettled(late.map((g) => g.stop()));
    await topo?.stop();
  });

  test('write-back alone (recovery off on the newcomer): replicas restore every binding they know', async () => {
    const home = await openSessions(topo, 8);
    await topo.redis!.stop();
    await topo.redis!.start();
    await waitUntil(() => sessionKeys(topo) === home.size, 'replicas to write back their bindings');
    // A replica that never saw these sessions, with recovery off, routes them from the restored store.
    const newcomer = await startGateway({ backends: topo.backends.map((b) => b.url), redisUrl: topo.redis!.url, args: ['--no-session-recovery'] });
    late.push(newcomer);
    for (const [c, replica] of home) {
      const { status, result } = await rawCall(newcomer.mcpUrl, c.sessionId(), 'whoami');
      assert.equal(status, 200);
      assert.equal(result?.replica, replica);
    }
    const written = topo.gateways.reduce(async (acc, g) => (await acc) + metricSum(parsePrometheus(await g.metricsText()), 'mcp_gateway_session_writebacks_total'), Promise.resolve(0));
    assert.ok((await written) >= home.size, 'write-backs are counted');
    await Promise.all([...home.keys()].map((c) => c.close()));
  });

  test('recovery alone: a replica with an empty cache finds sessions on their backends; made-up ids still 404', async () => {
    const home = await openSessions(topo, 5);
    // Every replica that knew them dies, and Redis comes back empty: nobody can write them back.
    for (const g of topo.gateways) await g.kill();
    await topo.redis!.stop();
    await topo.redis!.start();
    const newcomer = await startGateway({ backends: topo.backends.map((b) => b.url), redisUrl: topo.redis!.url });
    late.push(newcomer);
    for (const [c, replica] of home) {
      const { status, result } = await rawCall(newcomer.mcpUrl, c.sessionId(), 'whoami');
      assert.equal(status, 200, 'recovered, not 404');
      assert.equal(result?.replica, replica);
    }
    for (let i = 0; i < 3; i++) {
      const res = await fetch(newcomer.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'made-up-session-id' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      assert.equal(res.status, 404);
    }
    const m = parsePrometheus(await newcomer.metricsText());
    assert.equal(metricSum(m, 'mcp_gateway_session_recoveries_total', { result: 'recovered' }), home.size);
    assert.equal(metricSum(m, 'mcp_gateway_session_recoveries_total', { result: 'not_found' }), 1, 'a made-up id is probed once, then cached as unknown');
    await Promise.all([...home.keys()].map((c) => c.close()));
  });
});

describe('Redis restarted empty, auth on: recovery never weakens auth', () => {
  // API keys: the principal is the key id, forwarded to backends as x-auth-subject. The demo backend answers a
  // session's requests only for the identity that created it (demo/backend.ts), which is the check
  // --session-recovery-identity relies on.
  const keys = { alice: randomBytes(32).toString('hex'), bob: randomBytes(32).toString('hex') };
  const digest = (k: string) => createHash('sha256').update(k).digest('hex');
  const authEnv = { AUTH_API_KEYS: `alice sha256:${digest(keys.alice)};bob sha256:${digest(keys.bob)}` };
  const authArgs = ['--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp'];
  let topo: Topology;
  const late: GatewayProcess[] = [];
  before(async () => {
    topo = await startTopology({ store: 'redis', gatewayArgs: authArgs, gatewayEnv: authEnv });
  });
  after(async () => {
    await Promise.allSettled(late.map((g) => g.stop()));
    await topo?.stop();
  });

  const whoami = (url: string, sid: string, key: string) =>
    post(url, rpc('tools/call', { name: 'whoami', arguments: {} }, 3), { authorization: `Bearer ${key}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });

  test("a session nobody knows: 404 by default; with --session-recovery-identity, recovered for its creator only", async () => {
    const home = new Map<string, string>();
    for (let i = 0; i < 3; i++) {
      const sid = await rawSession(topo.entries()[i % 2]!, { authorization: `Bearer ${keys.alice}` });
      home.set(sid, (await rawCall(topo.entries()[0]!, sid, 'whoami', {}, { authorization: `Bearer ${keys.alice}` })).result?.replica as string);
    }
    // Every replica that knew them dies, and Redis comes back empty: nobody can write them back.
    for (const g of topo.gateways) await g.kill();
    await topo.redis!.stop();
    await topo.redis!.start();
    const gw = (args: string[]) => startGateway({ backends: topo.backends.map((b) => b.url), redisUrl: topo.redis!.url, args: [...authArgs, ...args], env: authEnv });
    const [strict, trusting] = await Promise.all([gw([]), gw(['--session-recovery-identity'])]);
    late.push(strict, trusting);

    const [first] = home.keys();
    const refused = await whoami(strict.mcpUrl, first!, keys.alice);
    assert.equal(refused.status, 404, 'auth on, no flag: even the creator starts over, nobody is handed the session');
    await refused.text();
    assert.equal(metricSum(parsePrometheus(await strict.metricsText()), 'mcp_gateway_session_recoveries_total'), 0, 'no probe at all');

    for (const [sid, replica] of home) {
      const intruder = await whoami(trusting.mcpUrl, sid, keys.bob);
      assert.equal(intruder.status, 404, "another principal presenting the id first: the backend refuses bob's identity");
      await intruder.text();
      const owner = await whoami(trusting.mcpUrl, sid, keys.alice);
      assert.equal(owner.status, 200, "the creator's request recovers it (bob's miss is not cached for alice)");
      assert.match(await owner.text(), new RegExp(`"replica":"${replica}"`));
      const after = await whoami(trusting.mcpUrl, sid, keys.bob);
      assert.equal(after.status, 404, 're-bound to alice: bob gets what any other principal gets');
      await after.text();
    }
    const m = parsePrometheus(await trusting.metricsText());
    assert.equal(metricSum(m, 'mcp_gateway_session_recoveries_total', { result: 'recovered' }), home.size);
    assert.equal(metricSum(m, 'mcp_gateway_session_recoveries_total', { result: 'not_found' }), home.size, "bob's probes found nothing");
    assert.equal(metricSum(m, 'mcp_gateway_sessions_lost_total', { reason: 'principal_mismatch' }), home.size, "bob's later tries meet alice's binding");
  });
});
