// helm install of the chart with the demo backend and kubernetes discovery, into the run's real cluster:
// the install completes (--wait), the demo pods get an EndpointSlice, and the chart's ServiceAccount token
// may read EndpointSlices in its namespace and nothing more (asked of the API server with that very token).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../support/wait.ts';
import { helm, kubectl, kubectlJson, requireCluster, serviceAccountKubeconfig, tryKubectl } from './support/cluster.ts';
import { demoPods, installChart, type Release } from './support/release.ts';

const SLICES = 'endpointslices.discovery.k8s.io';

describe('helm install --wait: demo backend, kubernetes discovery', () => {
  let r: Release;
  let saKubeconfig: string;

  before(async () => {
    requireCluster();
    const started = Date.now();
    r = await installChart('install', 'gw', ['demo.enabled=true']);
    process.stdout.write(`# helm install --wait took ${Date.now() - started} ms\n`);
    saKubeconfig = await serviceAccountKubeconfig(r.namespace, r.fullname);
  });
  after(async () => {
    if (r) await helm(['uninstall', r.name, '-n', r.namespace, '--wait', '--timeout', '60s']).catch(() => undefined);
  });

  test('the release is deployed: gateway 2/2, demo 3/3, Redis 1/1 available', async () => {
    const status = JSON.parse(await helm(['status', r.name, '-n', r.namespace, '-o', 'json'])) as { info: { status: string } };
    assert.equal(status.info.status, 'deployed');
    const available = async (name: string) => (await kubectlJson<{ status: { availableReplicas?: number } }>(['-n', r.namespace, 'get', 'deployment', name])).status.availableReplicas;
    assert.equal(await available(r.fullname), 2);
    assert.equal(await available(`${r.fullname}-demo`), 3);
    assert.equal(await available(`${r.fullname}-redis`), 1);
    for (const kind of ['serviceaccount', 'role', 'rolebinding', 'configmap', 'service', 'poddisruptionbudget']) {
      await kubectl(['-n', r.namespace, 'get', kind, r.fullname]);
    }
  });

  test('NOTES: how to reach it, what it follows and with which grant, how to test it', () => {
    const notes = r.installOutput;
    assert.match(notes, new RegExp(`http://${r.fullname}\\.install\\.svc:8080/mcp`));
    assert.match(notes, new RegExp(`kubectl -n install port-forward svc/${r.fullname} 8080:8080 9090:9090`));
    assert.match(notes, /curl -s http:\/\/127\.0\.0\.1:9090\/backends/);
    assert.match(notes, new RegExp(`Backends: the pods behind Service install/${r.fullname}-demo, its first port`));
    assert.match(notes, /lets it get, list and watch\s+EndpointSlices there, nothing else/);
    assert.match(notes, /kubectl auth can-i watch endpointslices\.discovery\.k8s\.io -n install --as system:serviceaccount:install:/);
    assert.match(notes, /Session store: the chart's single Redis-compatible server/);
    assert.match(notes, /helm test gw -n install/);
  });

  test("the demo Service's EndpointSlice lists every demo pod, ready, by pod name", async () => {
    const pods = await demoPods(r);
    assert.equal(pods.length, 3);
    // Poll: the EndpointSlice controller may publish after --wait returns.
    await eventually('3 ready endpoints', async () => {
      const slices = await kubectlJson<{ items: Array<{ endpoints?: Array<{ targetRef?: { name: string }; conditions?: { ready?: boolean } }> }> }>([
        '-n', r.namespace, 'get', 'endpointslices', '-l', `kubernetes.io/service-name=${r.fullname}-demo`,
      ]);
      const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.targetRef?.name);
      return JSON.stringify(ready.sort()) === JSON.stringify(pods.map((p) => p.name));
    });
  });

  test('the ServiceAccount token may get, list and watch EndpointSlices in its namespace, and nothing more', async () => {
    const can = async (...args: string[]) => {
      const res = await tryKubectl(['--kubeconfig', saKubeconfig, 'auth', 'can-i', ...args]);
      return res.stdout.trim();
    };
    for (const verb of ['get', 'list', 'watch']) assert.equal(await can(verb, SLICES, '-n', r.namespace), 'yes', `${verb} ${SLICES}`);
    const denied: string[][] = [
      ...['create', 'update', 'patch', 'delete', 'deletecollection'].map((v) => [v, SLICES, '-n', r.namespace]),
      ['watch', SLICES, '-n', 'default'],
      ['list', SLICES, '--all-namespaces'],
      ...['pods', 'secrets', 'configmaps', 'services', 'endpoints', 'serviceaccounts', 'deployments.apps', 'leases.coordination.k8s.io'].map((res) => ['list', res, '-n', r.namespace]),
      ['create', 'serviceaccounts/token', '-n', r.namespace],
      ['list', 'nodes'],
      ['list', 'namespaces'],
      ['impersonate', 'serviceaccounts'],
      ['*', '*', '-n', r.namespace],
    ];
    for (const args of denied) assert.equal(await can(...args), 'no', `may not ${args.join(' ')}`);

    // The whole list of what it may do in the namespace, against what any ServiceAccount may do there (the
    // namespace's default one): the difference is the EndpointSlice rule, and only it.
    const rules = async (kubeconfig: string) => {
      const table = (await tryKubectl(['--kubeconfig', kubeconfig, 'auth', 'can-i', '--list', '-n', r.namespace])).stdout;
      return table.split('\n').slice(1).map((l) => l.trim().replace(/\s{2,}/g, ' | ')).filter((l) => l !== '');
    };
    const baseline = new Set(await rules(await serviceAccountKubeconfig(r.namespace, 'default')));
    const mine = await rules(saKubeconfig);
    assert.deepEqual(mine.filter((rule) => !baseline.has(rule)), [`${SLICES} | [] | [] | [get list watch]`]);
    assert.deepEqual([...baseline].filter((rule) => !mine.includes(rule)), [], 'and everything any ServiceAccount may');
  });

  test('with that token the API server answers for EndpointSlices and refuses Pods (RBAC is enforced)', async () => {
    const slices = await kubectl(['--kubeconfig', saKubeconfig, '-n', r.namespace, 'get', 'endpointslices', '-o', 'name']);
    assert.match(slices, /endpointslice\.discovery\.k8s\.io\//);
    const pods = await tryKubectl(['--kubeconfig', saKubeconfig, '-n', r.namespace, 'get', 'pods']);
    assert.notEqual(pods.code, 0);
    assert.match(pods.stderr, /Forbidden|forbidden/);
  });
});
