// Proof of loss, not suspicion (README "Reliability"), with real processes: a backend that stalls (SIGSTOP,
// then SIGCONT), that is blackholed (toxiproxy `timeout`) or refuses connections (proxy disabled) keeps
// every session while the fault is shorter than its bound, and its sessions' requests meanwhile get
// 503 + Retry-After, never 404; past the bound (--backend-lost-after, --backend-refused-grace) its sessions
// are unbound and answered 404, so clients re-initialize.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startBackend, type BackendProcess } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';
import { startToxiproxy, type ToxiProxy, type Toxiproxy } from '../support/toxiproxy.ts';
import { eventually } from '../support/wait.ts';

interface BackendView {
  id: string;
  healthy: boolean;
  state: 'serving' | 'ejected' | 'lost';
  stateCause: string;
  stateSince: number;
}

async function stateOf(gw: GatewayProcess, id: string): Promise<BackendView> {
  const found = (await gw.admin<BackendView[]>('/backends')).find((b) => b.id === id);
  assert.ok(found, `the gateway knows ${id}`);
  return found;
}

/** A session request that must be answered 503 + Retry-After (the session is kept), never 404. */
async function assertKeptButUnavailable(url: string, sid: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await post(url, rpc('tools/call', { name: 'whoami', arguments: {} }, 5), { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
  const body = (await res.json()) as { id: unknown; error?: { code: number; data?: { reason?: string } } };
  assert.equal(res.status, 503, `503 while the backend is suspected, not ${res.status}`);
  assert.ok(Number(res.headers.get('retry-after')) >= 1, 'with Retry-After');
  assert.equal(body.id, 5, 'a JSON-RPC error that echoes the request id');
  assert.equal(body.error?.data?.reason, 'backend_ejected');
}

const PROBE_TIMEOUT_MS = 300;
const PROBE_INTERVAL_MS = 500; // test/support/gateway.ts

for (const auth of [false, true]) {
  describe(`a backend stalled past two probe timeouts, then resumed (two gateway replicas, Redis, auth ${auth ? 'on' : 'off'})`, () => {
    // API keys (test/integration/store-outage.test.ts does the same): recovery is off for sessions with a principal.
    const key = randomBytes(32).toString('hex');
    const headers: Record<string, string> = auth ? { authorization: `Bearer ${key}` } : {};
    let topo: Topology;
    before(async () => {
      topo = await startTopology({
        store: 'redis',
        gatewayArgs: [...(auth ? ['--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp'] : []), '--health-timeout', `${PROBE_TIMEOUT_MS}ms`, '--backend-wait', '1s'],
        ...(auth ? { gatewayEnv: { AUTH_API_KEYS: `alice sha256:${createHash('sha256').update(key).digest('hex')}` } } : {}),
      });
    });
    after(async () => {
      const b = topo?.backends.find((x) => x.name === 'b');
      if (b?.service.proc.pid) process.kill(b.service.proc.pid, 'SIGCONT');
      await topo?.stop();
    });

    test('every session survives, through both replicas; meanwhile its requests get 503 + Retry-After', async () => {
      const entries = topo.entries();
      const home = new Map<string, string>();
      for (let i = 0; i < 30; i++) {
        const sid = await rawSession(entries[i % 2]!, headers);
        home.set(sid, (await rawCall(entries[(i + 1) % 2]!, sid, 'whoami', {}, headers)).result?.replica as string);
      }
      const victims = [...home].filter(([, replica]) => replica === 'b').map(([sid]) => sid);
      assert.ok(victims.length > 0, 'some sessions live on b');
      const b = topo.backends.find((x) => x.name === 'b')!;
      const bId = b.url;
      const pid = b.service.proc.pid!;

      process.kill(pid, 'SIGSTOP');
      try {
        for (const gw of topo.gateways) await eventually('b ejected by every replica', async () => (await stateOf(gw, bId)).state === 'ejected');
        for (const entry of entries) await assertKeptButUnavailable(entry, victims[0]!, headers);
        // New sessions go elsewhere meanwhile.
        const fresh = await rawSession(entries[0]!, headers);
        assert.notEqual((await rawCall(entries[1]!, fresh, 'whoami', {}, headers)).result?.replica, 'b');
        await eventually('stalled past two probe timeouts on every replica', async () => {
          for (const gw of topo.gateways) {
            const s = await stateOf(gw, bId);
            if (s.state !== 'ejected' || Date.now() - s.stateSince < 2 * (PROBE_TIMEOUT_MS + PROBE_INTERVAL_MS)) return false;
          }
          return true;
        });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      for (const gw of topo.gateways) await eventually('b serving again on every replica', async () => (await stateOf(gw, bId)).state === 'serving');
      for (const [sid, replica] of home) {
        for (const entry of entries) {
          const r = await rawCall(entry, sid, 'whoami', {}, headers);
          assert.equal(r.status, 200, `session of ${replica} still answered through ${entry}`);
          assert.equal(r.result?.replica, replica, 'on the replica that holds it');
        }
      }
      let lost = 0;
      for (const gw of topo.gateways) {
        const m = parsePrometheus(await gw.metricsText());
        lost += metricSum(m, 'mcp_gateway_sessions_lost_total');
        assert.ok(metricSum(m, 'mcp_gateway_backend_ejections_total', { backend: bId, cause: 'probe-timeout' }) >= 1, 'the ejection is counted, by cause');
        assert.equal(metricSum(m, 'mcp_gateway_backend_state', { backend: bId, state: 'serving' }), 1);
        assert.equal(metricSum(m, 'mcp_gateway_backend_state', { backend: bId, state: 'lost' }), 0);
        assert.equal(metricSum(m, 'mcp_gateway_backend_up', { backend: bId }), 1);
      }
      assert.equal(lost, 0, '0 sessions lost');
    });
  });
}

describe('a backend blackholed or refusing, for less and for more than the bound (through toxiproxy)', () => {
  let toxi: Toxiproxy;
  let sick: BackendProcess;
  let healthy: BackendProcess;
  let proxy: ToxiProxy;
  let gateway: GatewayProcess;
  let sickUrl: string;
  const LOST_AFTER_MS = 4_000;
  const REFUSED_GRACE_MS = 2_000;

  before(async () => {
    toxi = await startToxiproxy();
    sick = await startBackend('sick');
    healthy = await startBackend('healthy');
    proxy = await toxi.proxy('backend', `127.0.0.1:${sick.port}`);
    sickUrl = `http://${proxy.listen}/mcp`;
    gateway = await startGateway({
      backends: [sickUrl, healthy.url],
      args: [
        '--health-timeout',
        `${PROBE_TIMEOUT_MS}ms`,
        '--backend-wait',
        '500ms',
        '--backend-lost-after',
        `${LOST_AFTER_MS}ms`,
        '--backend-refused-grace',
        `${REFUSED_GRACE_MS}ms`,
        '--upstream-connect-timeout',
        '1s',
      ],
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.allSettled([sick?.stop(), healthy?.stop()]);
    await toxi?.stop();
  });

  /** A fresh session on the sick backend (through the proxy). */
  async function sessionOnSick(): Promise<string> {
    await eventually('the sick backend serving', async () => (await stateOf(gateway, sickUrl)).state === 'serving');
    return eventually('a session on the sick backend', async () => {
      const sid = await rawSession(gateway.mcpUrl);
      return (await rawCall(gateway.mcpUrl, sid, 'whoami')).result?.replica === 'sick' ? sid : undefined;
    });
  }

  async function lostCount(): Promise<number> {
    return metricSum(parsePrometheus(await gateway.metricsText()), 'mcp_gateway_sessions_lost_total', { reason: 'backend_down' });
  }

  test('blackholed for less than --backend-lost-after: ejected, 503 meanwhile, the session survives', async () => {
    const sid = await sessionOnSick();
    const lostBefore = await lostCount();
    await proxy.addToxic('hole', { type: 'timeout', attributes: { timeout: 0 } });
    try {
      await eventually('ejected for probe timeouts', async () => {
        const s = await stateOf(gateway, sickUrl);
        return s.state === 'ejected' && s.stateCause === 'probe-timeout';
      });
      await assertKeptButUnavailable(gateway.mcpUrl, sid);
      for (let i = 0; i < 3; i++) assert.equal((await rawCall(gateway.mcpUrl, await rawSession(gateway.mcpUrl), 'whoami')).result?.replica, 'healthy', 'new sessions go elsewhere');
    } finally {
      await proxy.removeToxic('hole');
    }
    await eventually('serving again', async () => (await stateOf(gateway, sickUrl)).state === 'serving');
    const r = await rawCall(gateway.mcpUrl, sid, 'whoami');
    assert.deepEqual([r.status, r.result?.replica], [200, 'sick'], 'the session is still there');
    assert.equal(await lostCount(), lostBefore);
  });

  test('blackholed for more than --backend-lost-after: lost, and its sessions answer 404', async () => {
    const sid = await sessionOnSick();
    const lostBefore = await lostCount();
    await proxy.addToxic('hole', { type: 'timeout', attributes: { timeout: 0 } });
    try {
      await eventually(
        'lost after the upper bound',
        async () => {
          const s = await stateOf(gateway, sickUrl);
          return s.state === 'lost' && s.stateCause === 'ejected-too-long';
        },
        { timeoutMs: LOST_AFTER_MS + 30_000 },
      );
      const res = await post(gateway.mcpUrl, rpc('tools/list', {}, 9), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32001);
    } finally {
      await proxy.removeToxic('hole');
    }
    assert.ok((await lostCount()) >= lostBefore + 1, 'its sessions (this one and any other left there) are counted as lost');
    await eventually('back in rotation once it answers again', async () => (await stateOf(gateway, sickUrl)).state === 'serving');
  });

  test('refusing for less than --backend-refused-grace: ejected, 503 meanwhile, the session survives', async () => {
    const sid = await sessionOnSick();
    const lostBefore = await lostCount();
    await proxy.setEnabled(false);
    try {
      await eventually('ejected for refused connections', async () => {
        const s = await stateOf(gateway, sickUrl);
        return s.state === 'ejected' && s.stateCause === 'connect-refused';
      });
      await assertKeptButUnavailable(gateway.mcpUrl, sid);
    } finally {
      await proxy.setEnabled(true);
    }
    await eventually('serving again', async () => (await stateOf(gateway, sickUrl)).state === 'serving');
    const r = await rawCall(gateway.mcpUrl, sid, 'whoami');
    assert.deepEqual([r.status, r.result?.replica], [200, 'sick'], 'the session is still there');
    assert.equal(await lostCount(), lostBefore);
  });

  test('refusing for more than --backend-refused-grace: lost, and its sessions answer 404', async () => {
    const sid = await sessionOnSick();
    const lostBefore = await lostCount();
    await proxy.setEnabled(false);
    try {
      await eventually('lost after the grace', async () => {
        const s = await stateOf(gateway, sickUrl);
        return s.state === 'lost' && s.stateCause === 'refused';
      });
      const res = await post(gateway.mcpUrl, rpc('tools/list', {}, 9), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
      assert.equal(res.status, 404);
    } finally {
      await proxy.setEnabled(true);
    }
    assert.ok((await lostCount()) >= lostBefore + 1, 'counted as lost');
    await eventually('back in rotation once it answers again', async () => (await stateOf(gateway, sickUrl)).state === 'serving');
  });
});
