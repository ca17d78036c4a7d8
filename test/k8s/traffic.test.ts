// End to end on the cluster: the chart's demo Deployment, a host for each of its pods at the pod's own IP
// (a network namespace and veth pair this test makes: support/pod-hosts.ts), and the gateway following the
// pods with the chart's ServiceAccount. Real SDK sessions (sampling, elicitation) go through the gateway:
// they stick to their pod; a draining pod keeps its sessions and gets no new ones; the sessions of a pod that
// is gone answer 404 and initialize again elsewhere. Every namespace, link and process is removed after.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GatewayProcess } from '../support/gateway.ts';
import { connectClient, type TestClient } from '../support/mcp-client.ts';
import { sessionStatus } from '../support/raw-mcp.ts';
import { eventually } from '../support/wait.ts';
import { helm, kubectl, requireCluster } from './support/cluster.ts';
import { PodHosts } from './support/pod-hosts.ts';
import { backendsOf, demoPods, installChart, startChartGateway, type BackendView, type Release } from './support/release.ts';

const GRACE_SECONDS = 8;
const WAIT = { timeoutMs: 60_000 };
const DEMO_PORT = 3000;

async function homeOf(c: TestClient): Promise<string> {
  return (await c.call<{ replica: string }>('whoami')).replica;
}

/** The status and JSON-RPC error code a session's next request gets. */

describe('MCP traffic through the gateway to pods that come and go', () => {
  let r: Release;
  let hosts: PodHosts;
  let gw: GatewayProcess;
  const clients: TestClient[] = [];
  const home = new Map<TestClient, string>();
  const backendsWhen = (what: string, ok: (bs: BackendView[]) => boolean) =>
    eventually(what, async () => {
      const bs = await backendsOf(gw);
      if (ok(bs)) return bs;
      throw new Error(bs.map((b) => `${b.id}:${b.ready ? 'ready' : 'unready'}${b.draining ? '+draining' : ''}${b.healthy ? '' : '+down'}`).join(' '));
    }, WAIT);
  const connect = async () => {
    const c = await connectClient([gw.mcpUrl]);
    clients.push(c);
    home.set(c, await homeOf(c));
    return c;
  };

  before(async () => {
    requireCluster();
    r = await installChart('traffic', 'tr', [
      'demo.enabled=true',
      'demo.replicaCount=3',
      `demo.port=${DEMO_PORT}`,
      `demo.terminationGracePeriodSeconds=${GRACE_SECONDS}`,
      'replicaCount=1',
      'redis.internal.enabled=false',
    ]);
    // The pod CIDR is kwok's (up.sh: 198.18.0.0/16); the test's side of the veth takes its last address.
    hosts = await PodHosts.create({ prefix: `mgw${process.pid % 100_000}`, localAddress: '198.18.255.254', cidrBits: 16, port: DEMO_PORT });
    hosts.follow(r.namespace, 'app.kubernetes.io/component=demo-backend');
    await eventually('a host for each of the 3 demo pods', () => hosts.hosts().length === 3, WAIT);
    gw = await startChartGateway(r, ['--health-interval', '1s']);
    await backendsWhen('3 ready, healthy backends', (bs) => bs.length === 3 && bs.every((b) => b.ready && b.healthy));
  });
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.stop();
    await hosts?.close();
    if (r) await helm(['uninstall', r.name, '-n', r.namespace, '--timeout', '60s']).catch(() => undefined);
  });

  test('sessions stick to the pod that created them, across sampling and elicitation, spread over the pods', async () => {
    const pods = (await demoPods(r)).map((p) => p.name);
    for (let i = 0; i < 9; i++) await connect();
    for (const c of clients) {
      const sampled = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: 'which pod?' });
      assert.equal(sampled.answer, 'model says: which pod?');
      const elicited = await c.call<{ replica: string; action: string }>('ask_user', { question: 'still here?' });
      assert.deepEqual([sampled.replica, elicited.replica, await homeOf(c)], [home.get(c), home.get(c), home.get(c)], 'one pod serves the whole session');
    }
    const used = [...new Set(home.values())].sort();
    assert.deepEqual(used, pods, 'every pod has sessions (the backend at a pod IP answers with its pod name)');
  });

  test('scale down: the draining pod keeps its sessions and gets no new ones; once gone, they answer 404 and start over elsewhere', async () => {
    await kubectl(['-n', r.namespace, 'scale', 'deployment', `${r.fullname}-demo`, '--replicas=2']);
    const bs = await backendsWhen('a draining backend', (b) => b.some((x) => x.draining));
    const draining = bs.find((b) => b.draining)!.id;
    const itsClients = clients.filter((c) => home.get(c) === draining);
    assert.ok(itsClients.length > 0, `sessions live on ${draining}`);

    // While it drains: its sessions work (a sampling round trip), new sessions avoid it.
    for (const c of itsClients) assert.equal((await c.call<{ replica: string }>('ask_model', { prompt: 'draining?' })).replica, draining);
    const fresh = [await connect(), await connect(), await connect(), await connect()];
    for (const c of fresh) assert.notEqual(home.get(c), draining, 'no new session on a draining pod');
    assert.ok((await backendsOf(gw)).some((b) => b.id === draining && b.draining), 'it was still draining meanwhile');

    // Gone after its grace period: its sessions are unbound.
    await backendsWhen(`${draining} gone`, (b) => !b.some((x) => x.id === draining));
    await eventually(`${draining}'s host stopped`, () => !hosts.hosts().some((h) => h.pod === draining), WAIT);
    for (const c of itsClients) assert.deepEqual(await sessionStatus(gw.mcpUrl, c.sessionId()), { status: 404, code: -32001 });
    for (const c of itsClients) {
      const again = await connect();
      assert.notEqual(home.get(again), draining, 're-initialized on a live pod');
      await c.close();
      clients.splice(clients.indexOf(c), 1);
    }
  });

  test('a deleted pod: its sessions answer 404 and start over elsewhere; its replacement takes new sessions', async () => {
    const victim = home.get(clients[0]!)!;
    const itsClients = clients.filter((c) => home.get(c) === victim);
    const others = clients.filter((c) => home.get(c) !== victim);
    const before = new Set((await backendsOf(gw)).map((b) => b.id));
    await kubectl(['-n', r.namespace, 'delete', 'pod', victim, '--grace-period=0', '--force']);

    await backendsWhen(`${victim} gone`, (b) => !b.some((x) => x.id === victim));
    // Its process goes with the pod, as a container's would. (Until the test's host for it stops, the old process
    // would still answer at an IP kwok may already have handed to the replacement, which no real cluster allows.)
    await eventually(`${victim}'s host stopped`, () => !hosts.hosts().some((h) => h.pod === victim), WAIT);
    // 404 once nothing may still hold them: while a backend that might (the replacement, discovered before its
    // process listens, is ejected as refusing) cannot be asked, the answer is 503 and the session is kept
    // (README "Reliability": never 404 on suspicion); within the refused grace plus a probe interval.
    for (const c of itsClients) {
      const last = await eventually(`404 for a session of ${victim}`, async () => {
        const st = await sessionStatus(gw.mcpUrl, c.sessionId());
        return st.status === 503 ? undefined : st;
      }, WAIT);
      assert.deepEqual(last, { status: 404, code: -32001 }, 'its sessions are gone');
    }
    for (const c of others) assert.equal(await homeOf(c), home.get(c), 'the other sessions carry on, on their pods');

    const bs = await backendsWhen('a replacement', (b) => b.some((x) => !before.has(x.id) && x.ready));
    const replacement = bs.find((x) => !before.has(x.id))!.id;
    // Its host comes up on its own schedule (as a container would); the gateway's probes then find it healthy.
    await eventually('a host listening for the replacement', () => hosts.hosts().some((h) => h.pod === replacement), WAIT);
    await backendsWhen('the replacement healthy', (b) => b.some((x) => x.id === replacement && x.healthy));
    // Least sessions first: the empty replacement gets the next session.
    const again = await connect();
    assert.equal(home.get(again), replacement);
    assert.equal((await again.call<{ replica: string; answer: string }>('ask_model', { prompt: 'new pod?' })).answer, 'model says: new pod?');
    assert.deepEqual(hosts.errors, [], 'every pod got its host');
  });

  test('teardown leaves no network namespace, link or process behind', async () => {
    const processes = hosts.hosts().map((h) => h.service);
    await Promise.allSettled(clients.map((c) => c.close()));
    assert.equal(await gw.stop(), 0);
    await hosts.close();
    assert.deepEqual(await hosts.leftovers(), []);
    assert.ok(processes.length > 0 && processes.every((p) => p.exited), 'every pod host process exited');
  });
});
