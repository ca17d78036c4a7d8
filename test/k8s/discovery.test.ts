// Kubernetes discovery against the real API server: the gateway runs as a local process configured like the
// chart configures it in a pod (its ConfigMap, a token of its ServiceAccount) and follows the demo
// Deployment's pods through scale up, scale down (terminating + serving = draining), a pod marked not ready,
// a deleted pod, a quiet spell past client-node's 30 s watch timeout, and an API server restart that drops
// every watch. Only discovery is judged here: nothing listens at the pod IPs (traffic.test.ts gives them hosts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GatewayProcess } from '../support/gateway.ts';
import { REPO } from '../support/backends.ts';
import { eventually } from '../support/wait.ts';
import { helm, kubectl, must, requireCluster } from './support/cluster.ts';
import { backendsOf, demoPods, installChart, startChartGateway, type BackendView, type Release } from './support/release.ts';

/** Seconds a deleted demo pod stays terminating (and serving): long enough to watch it drain. */
const GRACE_SECONDS = 8;
const WAIT = { timeoutMs: 60_000 };

const summary = (bs: BackendView[]) => bs.map((b) => `${b.id}:${b.ready ? 'ready' : 'unready'}${b.draining ? '+draining' : ''}`).join(' ');

describe('kubernetes discovery follows the demo pods', () => {
  let r: Release;
  let gw: GatewayProcess;
  let cluster: { run: string };
  const scale = (n: number) => kubectl(['-n', r.namespace, 'scale', 'deployment', `${r.fullname}-demo`, `--replicas=${n}`]);
  /** /backends once it satisfies `ok` (generous wait; the failure message shows the last state seen). */
  const backendsWhen = (what: string, ok: (bs: BackendView[]) => boolean) =>
    eventually(what, async () => {
      const bs = await backendsOf(gw);
      if (ok(bs)) return bs;
      throw new Error(summary(bs));
    }, WAIT);
  const logged = (msg: string) => gw.service.json().filter((l) => l.msg === msg).length;

  before(async () => {
    cluster = requireCluster();
    r = await installChart('discovery', 'disc', [
      'demo.enabled=true',
      `demo.terminationGracePeriodSeconds=${GRACE_SECONDS}`,
      'replicaCount=1',
      'redis.internal.enabled=false',
    ]);
    gw = await startChartGateway(r, ['--log-level', 'debug']);
  });
  after(async () => {
    await gw?.stop();
    if (r) await helm(['uninstall', r.name, '-n', r.namespace, '--timeout', '60s']).catch(() => undefined);
  });

  test('each demo pod is a backend named after the pod, at its pod IP and the Service port', async () => {
    const pods = await demoPods(r);
    assert.equal(pods.length, 3);
    const bs = await backendsWhen('the 3 demo pods', (b) => b.length === 3);
    assert.deepEqual(
      bs.map((b) => [b.id, b.url, b.ready, b.draining]).sort(),
      pods.map((p) => [p.name, `http://${p.ip}:3000/mcp`, true, false]).sort(),
    );
  });

  test('scale up: the new pod is a new backend, ready', async () => {
    const before = new Set((await demoPods(r)).map((p) => p.name));
    await scale(4);
    const bs = await backendsWhen('4 ready backends', (b) => b.length === 4 && b.every((x) => x.ready));
    const added = bs.filter((b) => !before.has(b.id));
    assert.equal(added.length, 1);
    assert.ok((await demoPods(r)).some((p) => p.name === added[0]!.id));
  });

  test('scale down: the pod going away drains (terminating + serving) for its grace period, then leaves', async () => {
    await scale(3);
    const draining = await backendsWhen('a draining backend', (b) => b.some((x) => x.draining));
    const going = draining.find((b) => b.draining)!;
    assert.equal(going.ready, false, 'a draining backend takes no new sessions');
    assert.ok((await demoPods(r)).find((p) => p.name === going.id)?.terminating, 'it is the terminating pod');
    assert.equal(draining.filter((b) => b.ready).length, 3, 'the others stay ready');
    await backendsWhen('the drained pod gone', (b) => b.length === 3 && !b.some((x) => x.id === going.id));
  });

  test('a pod marked not ready takes no new sessions, without draining', async () => {
    const [victim] = await demoPods(r);
    await kubectl([
      '-n', r.namespace, 'patch', 'pod', victim!.name, '--subresource=status', '--type=strategic',
      '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False', reason: 'ReadinessProbeFailed' }] } }),
    ]);
    const bs = await backendsWhen('the pod not ready', (b) => b.some((x) => x.id === victim!.name && !x.ready));
    assert.deepEqual(bs.find((x) => x.id === victim!.name)!.draining, false);
    assert.equal(bs.filter((b) => b.ready).length, 2);
  });

  test('a deleted pod drains, its replacement is a new backend, and it leaves after its grace period', async () => {
    const pods = await demoPods(r);
    const victim = pods.find((p) => p.ready)!;
    await kubectl(['-n', r.namespace, 'delete', 'pod', victim.name, `--grace-period=${GRACE_SECONDS}`, '--wait=false']);
    const known = new Set(pods.map((p) => p.name));
    await backendsWhen('the deleted pod draining', (b) => b.some((x) => x.id === victim.name && x.draining));
    await backendsWhen('a replacement, ready', (b) => b.some((x) => !known.has(x.id) && x.ready));
    await backendsWhen('the deleted pod gone', (b) => !b.some((x) => x.id === victim.name));
  });

  test('after 35 s of quiet (past the client-side 30 s watch timeout) it has re-watched and still follows', async () => {
    const watchesBefore = logged('watching EndpointSlices');
    const failuresBefore = logged('EndpointSlice watch failed; keeping the last known backends');
    await new Promise((resolve) => setTimeout(resolve, 35_000));
    assert.ok(logged('watching EndpointSlices') > watchesBefore, 'the informer opened a new watch during the quiet spell');
    const before = new Set((await backendsOf(gw)).map((b) => b.id));
    await scale(4);
    await backendsWhen('the new pod after the quiet spell', (b) => b.some((x) => !before.has(x.id) && x.ready));
    assert.equal(logged('EndpointSlice watch failed; keeping the last known backends'), failuresBefore, 'an idle timeout is no failure');
  });

  test('an API server restart drops the watch: the last known backends stay, and changes are followed after it', async () => {
    const known = (await backendsOf(gw)).map((b) => b.id).sort();
    const restart = must(join(REPO, 'test/k8s/cluster/restart-apiserver.sh'), ['3'], { env: { K8S_RUN: cluster.run }, timeoutMs: 180_000 });
    // While it is down: the watch fails, the gateway keeps the set it knows (no session loses its backend).
    await eventually('the gateway to notice the API server is gone', async () => {
      const r = (await (await fetch(`${gw.adminUrl}/readyz`)).json()) as { discovery: { failing: boolean } };
      return r.discovery.failing;
    }, WAIT);
    assert.deepEqual((await backendsOf(gw)).map((b) => b.id).sort(), known, 'the last known backends stay');
    await restart;

    await scale(2);
    await backendsWhen('scale down to 2 followed after the restart', (b) => b.filter((x) => x.ready).length === 2 && b.every((x) => known.includes(x.id)));
    await backendsWhen('the drained pods gone', (b) => b.length === 2);
    const ready = (await fetch(`${gw.adminUrl}/readyz`).then((res) => res.json())) as { discovery: { failing: boolean; synced: boolean } };
    assert.deepEqual(ready.discovery, { kind: 'kubernetes', synced: true, failing: false });
    assert.ok(logged('EndpointSlice watch restored') >= 1);
    const relists = logged('EndpointSlices listed again: the watch had expired (410 Gone)');
    process.stdout.write(`# relists after 410 Gone over the whole test: ${relists}\n`);
    // The new API server's watch cache starts at etcd's current revision, which node leases have moved past
    // the gateway's last EndpointSlice resourceVersion: the first re-watch is refused with 410 Gone.
    assert.ok(relists >= 1, 'the expired watch was answered with a relist');
  });

  test('the gateway stops cleanly, watch and all', async () => {
    assert.equal(await gw.stop(), 0);
  });
});
