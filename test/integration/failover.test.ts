// What happens when parts die mid-run: a backend replica (its sessions answer 503 + Retry-After while it
// is only suspected, then 404 once nothing has listened at its address for the refused grace, so clients
// re-initialize; nobody else notices) and, with Redis, a gateway replica (the other carries on).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient, type TestClient } from '../support/mcp-client.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { sessionStatus } from '../support/raw-mcp.ts';
import { startTopology, type StoreKind, type Topology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

const REFUSED_GRACE_MS = 1_000;
const PROBE_INTERVAL_MS = 500; // test/support/gateway.ts

for (const store of ['memory', 'redis'] as StoreKind[]) {
  describe(`a backend killed mid-run (${store} store)`, () => {
    let topo: Topology;
    before(async () => {
      topo = await startTopology({ store, gatewayArgs: ['--backend-refused-grace', `${REFUSED_GRACE_MS}ms`, '--backend-wait', '1s'] });
    });
    after(async () => topo?.stop());

    test('its sessions answer 404, re-initialize on live replicas, and other sessions notice nothing', async () => {
      const clients: TestClient[] = [];
      for (let i = 0; i < 12; i++) clients.push(await connectClient(() => topo.entries()));
      const home = new Map<TestClient, string>();
      for (const c of clients) home.set(c, (await c.call<{ replica: string }>('whoami')).replica);
      assert.ok([...home.values()].includes('b'), 'some sessions live on b');
      const survivors = clients.filter((c) => home.get(c) !== 'b');
      const victims = clients.filter((c) => home.get(c) === 'b');

      // Keep the survivors busy while b dies, so the kill lands mid-run.
      let running = true;
      let answered = 0;
      const background = survivors.map(async (c) => {
        let calls = 0;
        while (running) {
          const r = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: 'still there?' });
          assert.equal(r.replica, home.get(c), 'a surviving session stays on its replica');
          calls++;
          answered++;
        }
        return calls;
      });
      await eventually('the survivors under way', () => answered >= survivors.length);
      await topo.backends.find((b) => b.name === 'b')!.kill();
      const killedAt = Date.now();

      // Until the gateway has proof (refused on every probe for the grace), a session of b is only suspected
      // lost: 503 + Retry-After, which keeps the client's session. Then 404, so the client re-initializes.
      let allLostAt = 0;
      for (const v of victims) {
        for (const entry of topo.entries()) {
          const r = await eventually(`a session of the killed replica answers 404 through ${entry}`, async () => {
            const started = Date.now();
            const seen = await sessionStatus(entry, v.sessionId());
            assert.ok(Date.now() - started < 5_000, 'promptly, not after a hang');
            if (seen.status === 404) return seen;
            assert.equal(seen.status, 503, `before the proof: 503, not ${seen.status}`);
            return undefined;
          });
          assert.deepEqual(r, { status: 404, code: -32001 });
          allLostAt = Math.max(allLostAt, Date.now());
        }
      }
      const backendsNow = await topo.gateways[0]!.admin<Array<{ id: string; state: string; stateCause: string }>>('/backends');
      const lostView = backendsNow.find((x) => topo.backendName(x.id) === 'b');
      assert.deepEqual([lostView?.state, lostView?.stateCause], ['lost', 'refused'], 'lost on proof: nothing listens at its address');
      // The bound: the grace plus one probe interval, with slack for a loaded machine (the probe
      // timeout, one scrape of every session); a failure here means the proof came far too late.
      const tookMs = allLostAt - killedAt;
      assert.ok(tookMs < REFUSED_GRACE_MS + PROBE_INTERVAL_MS + 8_000, `every session answered 404 ${tookMs} ms after the kill`);
      // Re-initialized sessions, and all new ones, land on live replicas.
      const fresh: TestClient[] = [];
      for (let i = 0; i < victims.length + 6; i++) fresh.push(await connectClient(() => topo.entries()));
      for (const f of fresh) assert.notEqual((await f.call<{ replica: string }>('whoami')).replica, 'b');

      running = false;
      const counts = await Promise.all(background);
      assert.ok(counts.every((n) => n > 0), 'every surviving session kept working throughout');

      const backends = await topo.gateways[0]!.admin<Array<{ id: string; healthy: boolean; state: string }>>('/backends');
      const b = backends.find((x) => topo.backendName(x.id) === 'b');
      assert.equal(b?.healthy, false, '/backends shows the killed replica as unhealthy');
      assert.equal(b?.state, 'lost');
      const samples = parsePrometheus(await topo.gateways[0]!.metricsText());
      assert.equal(metricSum(samples, 'mcp_gateway_backend_up', { backend: b!.id }), 0);
      assert.equal(metricSum(samples, 'mcp_gateway_backend_state', { backend: b!.id, state: 'lost' }), 1);
      assert.ok(metricSum(samples, 'mcp_gateway_backend_ejections_total', { backend: b!.id }) >= 1, 'ejected (suspicion) before it was lost (proof)');
      // Per replica: the replicas that noticed b go down split its sessions between them; the sum counts each once.
      let lost = 0;
      for (const gw of topo.gateways) lost += metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_sessions_lost_total', { reason: 'backend_down' });
      assert.equal(lost, victims.length, 'every session of the killed replica is counted as lost, once');
      await Promise.all([...clients, ...fresh].map((c) => c.close()));
    });
  });
}

describe('a gateway replica killed mid-run (redis store)', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'redis' });
  });
  after(async () => topo?.stop());

  test('the other replica carries every live session on, on the same backend replica', async () => {
    const clients: TestClient[] = [];
    for (let i = 0; i < 20; i++) clients.push(await connectClient(() => topo.entries()));
    const home = new Map<TestClient, string>();
    for (const c of clients) home.set(c, (await c.call<{ replica: string }>('ask_user', { question: 'ready?' })).replica);

    await topo.gateways[0]!.kill();
    assert.equal(topo.entries().length, 1);

    for (const c of clients) {
      const sampled = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: 'after the crash' });
      assert.equal(sampled.replica, home.get(c), 'same backend replica as before the crash');
      assert.equal(sampled.answer, 'model says: after the crash');
      const elicited = await c.call<{ replica: string; action: string }>('ask_user', { question: 'still you?' });
      assert.equal(elicited.replica, home.get(c));
    }
    await Promise.all(clients.map((c) => c.close()));
  });
});
