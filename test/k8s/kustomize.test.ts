// k8s/: plain manifests as a kustomize base and an example overlay. The base must be the chart's defaults
// (minus Helm's own labels), so the two ways to install cannot drift; both are validated by the run's API
// server, and RBAC is the chart's: EndpointSlices, read only.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { REPO } from '../support/backends.ts';
import { eventually } from '../support/wait.ts';
import { CHART, createNamespace, helm, kubectl, parseManifests, requireCluster, type K8sObject } from './support/cluster.ts';
import { dryRun } from './support/manifests.ts';

const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by'];

/** An object as the chart and the base should both have it: no namespace, no Helm labels, no config checksum. */
function normalize(o: K8sObject): K8sObject {
  const copy = structuredClone(o);
  const strip = (meta: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } | undefined) => {
    if (!meta) return;
    delete meta.namespace;
    for (const l of HELM_ONLY_LABELS) delete meta.labels?.[l];
    delete meta.annotations?.['checksum/config'];
    if (meta.annotations && Object.keys(meta.annotations).length === 0) delete meta.annotations;
  };
  strip(copy.metadata);
  strip((copy.spec as { template?: { metadata?: K8sObject['metadata'] } } | undefined)?.template?.metadata);
  return copy;
}

const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
const sorted = (objs: K8sObject[]) => [...objs].sort((a, b) => key(a).localeCompare(key(b)));

describe('kustomize base and example overlay (k8s/)', () => {
  let base: K8sObject[];
  let overlay: K8sObject[];

  before(async () => {
    requireCluster();
    base = parseManifests(await kubectl(['kustomize', join(REPO, 'k8s/base')]));
    overlay = parseManifests(await kubectl(['kustomize', join(REPO, 'k8s/overlays/example')]));
  });

  test("the base is the chart's defaults, object for object", async () => {
    // Subjects name the namespace; the base says "default" (an overlay's namespace: rewrites it), so render there.
    const chart = parseManifests(await helm(['template', 'mcp-session-gateway', CHART, '-n', 'default', '--skip-tests']));
    assert.deepEqual(sorted(base).map(key), sorted(chart).map(key));
    for (const [i, b] of sorted(base).entries()) assert.deepEqual(normalize(b), normalize(sorted(chart)[i]!), key(b));
  });

  test('the base and the overlay pass the API server validation (server-side dry run, strict)', async () => {
    const ns = await createNamespace('kustomize-base');
    await createNamespace('mcp');
    await eventually('default ServiceAccounts', async () => (await kubectl(['-n', 'mcp', 'get', 'sa', 'default', '-o', 'name'])).trim() !== '');
    assert.deepEqual(await dryRun(base, ns), base.map(key).sort());
    assert.deepEqual(await dryRun(overlay), overlay.map(key).sort());
  });

  test('RBAC: the EndpointSlice-only Role, bound to the gateway ServiceAccount of the namespace the overlay deploys to', () => {
    const role = overlay.find((o) => o.kind === 'Role') as K8sObject & { rules: unknown };
    assert.deepEqual(role.rules, [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }]);
    const binding = overlay.find((o) => o.kind === 'RoleBinding') as K8sObject & { subjects: unknown };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'mcp-session-gateway', namespace: 'mcp' }]);
    assert.equal(overlay.filter((o) => o.kind.startsWith('Cluster')).length, 0);
    assert.ok(overlay.every((o) => o.metadata.namespace === 'mcp'), 'every object in the overlay namespace');
  });

  test('the overlay changes what it says: Service followed, port, image, replicas', () => {
    const config = overlay.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'mcp-session-gateway') as K8sObject & { data: Record<string, string> };
    assert.deepEqual([config.data.K8S_SERVICE, config.data.K8S_PORT], ['weather-mcp', 'mcp']);
    const deploy = overlay.find((o) => o.kind === 'Deployment' && o.metadata.name === 'mcp-session-gateway') as K8sObject & {
      spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
    };
    assert.equal(deploy.spec.replicas, 3);
    assert.equal(deploy.spec.template.spec.containers[0]?.image, 'registry.example.com/platform/mcp-session-gateway:0.1.0');
  });
});
