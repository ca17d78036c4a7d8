// Session resume (issue 16) on the cluster: a rolling update of the backends with `gateway.sessionResume:
// reinitialize`. The chart's demo Deployment (3 pods, hosts at the pod IPs: support/pod-hosts.ts) and the
// gateway with the chart's configuration; official TypeScript SDK sessions (sampling, elicitation) spread over
// the pods keep making read-only calls while `kubectl rollout restart` replaces every pod. No call of any
// session fails, each keeps its Mcp-Session-Id, and each ends on a new pod: resumed once, when its pod left.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GatewayProcess } from '../support/gateway.ts';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, type TestClient } from '../support/mcp-client.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { eventually } from '../support/wait.ts';
import { helm, kubectl, kubectlJson, requireCluster } from './support/cluster.ts';
import { PodHosts } from './support/pod-hosts.ts';
import { backendsOf, demoPods, installChart, startChartGateway, type Release } from './support/release.ts';

const SESSIONS = 12;
// Long enough for the whole rollout (new pods ready, all old ones terminating) to happen within it, so that no
// session is resumed onto an old pod that is replaced later (kwok marks pods ready at once).
const GRACE_SECONDS = 12;
const DEMO_PORT = 3000;
const WAIT = { timeoutMs: 90_000 };

const resumed = async (gw: GatewayProcess, outcome: string) =>
  metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_sessions_resumed_total', { outcome });

interface Session {
  c: TestClient;
  id: string;
  home: string;
  /** The pod that answered this session's last read-only call. */
  last: string;
  calls: number;
  /** notifications/resources/updated heard on the session's listening GET stream. */
  updates: number;
  /** Errors the SDK client saw: thrown by a call, or reported by its transport (e.g. its GET stream). */
  errors: string[];
}

describe('a rolling update of the backends with session resume on', () => {
  let r: Release;
  let hosts: PodHosts;
  let gw: GatewayProcess;
  const sessions: Session[] = [];

  before(async () => {
    requireCluster();
    r = await installChart('resume', 'rs', [
      'demo.enabled=true',
      'demo.replicaCount=3',
      `demo.port=${DEMO_PORT}`,
      `demo.terminationGracePeriodSeconds=${GRACE_SECONDS}`,
      'replicaCount=1',
      'redis.internal.enabled=false',
      'gateway.sessionResume=reinitialize',
    ]);
    hosts = await PodHosts.create({ prefix: `mrs${process.pid % 100_000}`, localAddress: '198.18.255.254', cidrBits: 16, port: DEMO_PORT });
    hosts.follow(r.namespace, 'app.kubernetes.io/component=demo-backend');
    await eventually('a host for each of the 3 demo pods', () => hosts.hosts().length === 3, WAIT);
    gw = await startChartGateway(r, ['--health-interval', '1s']);
    await eventually('3 ready, healthy backends', async () => {
      const bs = await backendsOf(gw);
      return bs.length === 3 && bs.every((b) => b.ready && b.healthy);
    }, WAIT);
  });
  after(async () => {
    await Promise.allSettled(sessions.map((s) => s.c.close()));
    await gw?.stop();
    await hosts?.close();
    if (r) await helm(['uninstall', r.name, '-n', r.namespace, '--timeout', '60s']).catch(() => undefined);
  });

  test('every session goes on with its id on a new pod, and no call of any session fails', async () => {
    const config = await kubectlJson<{ data: Record<string, string> }>(['-n', r.namespace, 'get', 'configmap', r.fullname]);
    assert.equal(config.data.SESSION_RESUME, 'reinitialize', 'the chart value reaches the gateway');
    assert.deepEqual(
      [await resumed(gw, 'resumed'), await resumed(gw, 'failed')],
      [0, 0],
      'the outcome series exist from the start',
    );

    const oldPods = (await demoPods(r)).map((p) => p.name);
    for (let i = 0; i < SESSIONS; i++) {
      const c = await connectClient([gw.mcpUrl], { name: `rollout-${i}` });
      const s: Session = { c, id: c.sessionId(), home: '', last: '', calls: 0, updates: 0, errors: [] };
      sessions.push(s);
      c.client.onerror = (err) => void s.errors.push(`transport: ${err.message}`);
      c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void s.updates++);
      // The gateway learns from tools/list as it passes that `peek` is read-only (safe to send again).
      await c.client.listTools();
      s.home = s.last = (await c.call<{ replica: string }>('peek', { key: 'rollout' })).replica;
      assert.equal((await c.call<{ answer: string }>('ask_model', { prompt: 'before' })).answer, 'model says: before');
      assert.equal((await c.call<{ answer: string }>('ask_user', { question: 'before' })).answer, 'user says: before');
      // A subscription (replayed after a resume), heard of on the listening GET stream.
      await c.client.subscribeResource({ uri: 'demo://counter' });
    }
    await eventually('every session hears of an update', async () => {
      for (const s of sessions.filter((x) => x.updates === 0)) await s.c.call('touch');
      return sessions.every((s) => s.updates > 0);
    }, WAIT);
    assert.deepEqual([...new Set(sessions.map((s) => s.home))].sort(), oldPods, 'the sessions are spread over every pod');

    // Read-only traffic on every session, throughout the rollout.
    let running = true;
    const loops = sessions.map(async (s) => {
      while (running) {
        try {
          if (s.calls % 2 === 0) await s.c.client.listTools();
          else s.last = (await s.c.call<{ replica: string }>('peek', { key: 'rollout' })).replica;
        } catch (err) {
          s.errors.push(`call: ${(err as Error).message}`);
        }
        s.calls++;
        await new Promise((res) => setTimeout(res, 50)); // pacing the workload, not waiting for a state
      }
    });

    try {
      await kubectl(['-n', r.namespace, 'rollout', 'restart', `deployment/${r.fullname}-demo`]);
      await kubectl(['-n', r.namespace, 'rollout', 'status', `deployment/${r.fullname}-demo`, '--timeout=120s'], { timeoutMs: 150_000 });
      // The old pods leave after their grace period, and with them their hosts (their processes stop).
      const newPods = await eventually('only new pods left', async () => {
        const pods = await demoPods(r);
        return pods.length === 3 && pods.every((p) => !oldPods.includes(p.name) && !p.terminating) && pods.map((p) => p.name);
      }, WAIT);
      await eventually('only the new pods have hosts', () => {
        const names = hosts.hosts().map((h) => h.pod).sort();
        return names.length === 3 && names.every((n) => newPods.includes(n));
      }, WAIT);
      await eventually('the gateway follows the 3 new pods', async () => {
        const bs = await backendsOf(gw);
        return bs.length === 3 && bs.every((b) => newPods.includes(b.id) && b.ready && b.healthy);
      }, WAIT);
      await eventually('every session answered from a new pod', () => sessions.every((s) => newPods.includes(s.last)), WAIT);
      const counts = sessions.map((s) => s.calls);
      await eventually('every session made more calls since', () => sessions.every((s, i) => s.calls > counts[i]! + 2), WAIT);
    } finally {
      running = false;
      await Promise.all(loops);
    }

    const newPods = (await demoPods(r)).map((p) => p.name);
    assert.deepEqual(
      sessions.flatMap((s) => s.errors.map((e) => `${s.id.slice(0, 8)}: ${e}`)),
      [],
      `no session saw an error; gateway warnings: ${JSON.stringify(gw.service.json().filter((l) => l.level === 'warn' || l.level === 40).slice(-30))}`,
    );
    for (const s of sessions) {
      assert.equal(s.c.sessionId(), s.id, 'each session keeps its Mcp-Session-Id');
      const now = await s.c.call<{ replica: string }>('peek', { key: 'rollout' });
      assert.ok(newPods.includes(now.replica), `${s.id.slice(0, 8)} answers from a new pod (${now.replica})`);
      // Sampling and elicitation reach the client through the new upstream session.
      assert.equal((await s.c.call<{ answer: string }>('ask_model', { prompt: 'after' })).answer, 'model says: after');
      assert.equal((await s.c.call<{ answer: string }>('ask_user', { question: 'after' })).answer, 'user says: after');
    }
    // The subscription was replayed on each new upstream session, and each listening stream, ended when its
    // pod left, was opened again by the client and reaches the new upstream session under the same id.
    const heard = sessions.map((s) => s.updates);
    await eventually('every session hears of an update from its new pod', async () => {
      for (const [i, s] of sessions.entries()) {
        if (s.updates > heard[i]!) continue;
        const r = await s.c.call<{ replica: string; notified: number }>('touch');
        assert.ok(newPods.includes(r.replica) && r.notified >= 1, `${s.id.slice(0, 8)}: ${JSON.stringify(r)}`);
      }
      return sessions.every((s, i) => s.updates > heard[i]!);
    }, WAIT);
    assert.deepEqual(sessions.flatMap((s) => s.errors), [], 'still no error');
    const replaced = sessions.filter((s) => !newPods.includes(s.home)).length;
    assert.equal(replaced, SESSIONS, 'the rollout replaced the pod of every session');
    const logged = gw.service.json().filter((l) => l.msg === 'session resumed on another backend');
    assert.equal(await resumed(gw, 'resumed'), replaced, `each session resumed once, when its pod left: ${JSON.stringify(logged.map((l) => [l.from, l.to]))}`);
    assert.equal(await resumed(gw, 'failed'), 0);
    assert.ok(logged.every((l) => oldPods.includes(l.from as string) && newPods.includes(l.to as string)), 'from an old pod to a new one');
    assert.deepEqual(hosts.errors, [], 'every pod got its host');
  });

  test('teardown leaves no network namespace, link or process behind', async () => {
    const processes = hosts.hosts().map((h) => h.service);
    await Promise.allSettled(sessions.map((s) => s.c.close()));
    assert.equal(await gw.stop(), 0);
    await hosts.close();
    assert.deepEqual(await hosts.leftovers(), []);
    assert.ok(processes.length > 0 && processes.every((p) => p.exited), 'every pod host process exited');
  });
});
