// The Helm chart, rendered over several values sets and checked three ways: helm lint --strict; every rendered
// object validated by the run's real kube-apiserver (server-side dry run, strict field validation: its OpenAPI
// schemas, admission, and the ServiceMonitor CRD of prometheus-operator); and what each set must contain
// (RBAC exactly when kubernetes discovery is on, non-root read-only containers, probes, drain timing), and the
// helm test pod's script against a real gateway. The values contract alone: chart-values.test.ts.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { CHART, createNamespace, helm, K8S_BIN, kubectl, parseManifests, requireCluster, run, scratchDir, type K8sObject } from './support/cluster.ts';
import { containersOf, dryRun, envOf, podSpecOf, seconds } from './support/manifests.ts';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { freePort } from '../support/redis.ts';
import { startTopology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

const SECRET_DIGEST = `sha256:${'a'.repeat(64)}`;

/** The values sets the chart is rendered with; each is installed as release "mcp" in a namespace of its own. */
const SETS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'every option on': {
    replicaCount: 3,
    image: { tag: '1.2.3', digest: SECRET_DIGEST, pullPolicy: 'Always' },
    imagePullSecrets: ['regcred'],
    nameOverride: 'mcpgw',
    gateway: {
      logLevel: 'debug',
      sessionTtl: '30m',
      drainDelaySeconds: 10,
      shutdownTimeoutSeconds: 40,
      backendWait: '2s',
      backendRefusedGrace: '2500ms',
      backendLostAfter: '2m',
      workers: 3,
      sessionResume: 'reinitialize',
      extraEnv: [{ name: 'UPSTREAM_TIMEOUT', value: '10m' }],
    },
    statusPage: { enabled: true, tokenSecret: 'status-page', tokenKey: 'bearer' },
    discovery: { kubernetes: { service: 'weather', port: 'mcp' } },
    service: { type: 'LoadBalancer', annotations: { 'example.com/lb': 'internal' } },
    serviceAccount: { name: 'mcp-gateway', annotations: { 'example.com/role': 'gateway' } },
    podAnnotations: { 'example.com/team': 'platform' },
    podLabels: { team: 'platform' },
    terminationGracePeriodSeconds: 60,
    topologySpread: { whenUnsatisfiable: 'DoNotSchedule', maxSkew: 2 },
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'mcp', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge'] }] } }] } },
    priorityClassName: 'mcp-critical',
    podDisruptionBudget: { maxUnavailable: '50%' },
    autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12, targetCPUUtilizationPercentage: 60 },
    metrics: {
      serviceMonitor: { enabled: true, interval: '15s', scrapeTimeout: '5s', labels: { release: 'prometheus' } },
      dashboard: { enabled: true, annotations: { grafana_folder: 'MCP' } },
      prometheusRule: { enabled: true, labels: { release: 'prometheus' } },
    },
    networkPolicy: {
      enabled: true,
      mcpFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agents' } } }],
      adminFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } }],
    },
    demo: { enabled: true, replicaCount: 2, terminationGracePeriodSeconds: 10 },
  },
  'external Redis, password from a Secret': {
    redis: { internal: { enabled: false }, url: 'rediss://redis.example.com:6380/2', existingSecret: 'redis-credentials', existingSecretPasswordKey: 'password' },
  },
  'external Redis, URL from a Secret': { redis: { internal: { enabled: false }, existingSecret: 'redis-credentials', existingSecretUrlKey: 'url' } },
  'external Redis Sentinel over TLS with a private CA': {
    redis: {
      internal: { enabled: false },
      url: 'rediss://redis.example.com:6379',
      mode: 'sentinel',
      sentinels: ['sentinel-0.example.com:26379', 'sentinel-1.example.com:26379'],
      sentinelMaster: 'mcp',
      tlsCaSecret: 'redis-ca',
    },
  },
  demo: { demo: { enabled: true } },
  'JWT auth, identity JWTs signed with a key from a Secret': {
    auth: {
      mode: 'jwt',
      resourceUrl: 'https://mcp.example.com/mcp',
      issuer: 'https://login.example.com',
      audiences: ['https://mcp.example.com/mcp', 'mcp-gateway'],
      requiredScopes: ['mcp:tools'],
      methodScopes: 'tools/call:deploy=deploy',
      existingSecret: 'mcp-auth',
      identityJwtKeyKey: 'identity.jwk',
      identityHeaders: 'subject=x-user,jwt=x-user-jwt',
      sessionRecoveryIdentity: true,
    },
  },
  'API keys from a Secret': { auth: { mode: 'api-key', resourceUrl: 'https://mcp.example.com/mcp', existingSecret: 'mcp-auth', apiKeysKey: 'api-keys.txt' } },
  'introspection, client secret from a Secret': {
    auth: {
      mode: 'introspection',
      resourceUrl: 'https://mcp.example.com/mcp',
      issuer: 'https://login.example.com',
      introspectionUrl: 'https://login.example.com/oauth/introspect',
      clientId: 'mcp-gateway',
      existingSecret: 'mcp-auth',
      clientSecretKey: 'client-secret',
    },
  },
  'kubernetes discovery of a Service in another namespace': { discovery: { kubernetes: { service: 'mcp-servers/weather', port: 'mcp' } } },
  'dns discovery': { discovery: { mode: 'dns', dns: { name: '_mcp._tcp.weather.mcp-servers.svc.cluster.local' } } },
  'static discovery, one replica, in-memory store': {
    replicaCount: 1,
    redis: { internal: { enabled: false } },
    discovery: { mode: 'static', static: { backends: ['http://mcp-0.mcp:3000/mcp', 'http://mcp-1.mcp:3000/mcp'] } },
  },
};

const ENDPOINTSLICE_RULES = [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }];

function valuesFile(values: Record<string, unknown>): string {
  const file = join(scratchDir('values-'), 'values.json');
  writeFileSync(file, JSON.stringify(values));
  return file;
}

async function render(values: Record<string, unknown>, namespace: string, extra: string[] = []): Promise<K8sObject[]> {
  return parseManifests(await helm(['template', 'mcp', CHART, '-n', namespace, '-f', valuesFile(values), ...extra]));
}

const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
const one = (objs: K8sObject[], kind: string, component?: string) => {
  const found = byKind(objs, kind).filter((o) => !component || o.metadata.labels?.['app.kubernetes.io/component'] === component);
  assert.equal(found.length, 1, `one ${kind}${component ? ` (${component})` : ''}, got ${found.length}`);
  return found[0] as K8sObject;
};

/** The gateway's own ConfigMap (the dashboard's is another one). */
const gatewayConfig = (objs: K8sObject[]) => {
  const found = byKind(objs, 'ConfigMap').filter((c) => !c.metadata.name.endsWith('-dashboard'));
  assert.equal(found.length, 1, `one gateway ConfigMap, got ${found.length}`);
  return found[0] as K8sObject;
};

describe('Helm chart', () => {
  const rendered = new Map<string, { namespace: string; objects: K8sObject[] }>();

  before(async () => {
    requireCluster();
    // The ServiceMonitor kind comes from prometheus-operator's CRD (build.sh fetched it from its Go module).
    for (const crd of ['servicemonitors', 'prometheusrules']) {
      await kubectl(['apply', '--server-side', '-f', join(K8S_BIN, `crds/${crd}.yaml`)]);
      await kubectl(['wait', '--for=condition=Established', `crd/${crd}.monitoring.coreos.com`, '--timeout=60s']);
    }
    await createNamespace('mcp-servers');
    let i = 0;
    for (const [name, values] of Object.entries(SETS)) {
      const namespace = await createNamespace(`chart-${i++}`);
      rendered.set(name, { namespace, objects: await render(values, namespace) });
    }
    // Pods (the helm test pod) are admitted only once the namespace's default ServiceAccount exists.
    for (const { namespace } of rendered.values()) {
      await eventually(`default ServiceAccount in ${namespace}`, async () => (await kubectl(['-n', namespace, 'get', 'sa', 'default', '-o', 'name'])).trim() !== '');
    }
  });

  test('helm lint --strict passes with every values set', async () => {
    for (const values of Object.values(SETS)) await helm(['lint', '--strict', CHART, '-f', valuesFile(values)]);
  });

  for (const name of Object.keys(SETS)) {
    test(`${name}: every rendered object passes the API server's validation (server-side dry run, strict)`, async () => {
      // Each object carries its namespace (the release's, or the followed Service's for the Role).
      const { objects } = rendered.get(name)!;
      const accepted = await dryRun(objects);
      assert.deepEqual(accepted, objects.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    });
  }

  test('every container runs as non-root on a read-only root filesystem without capabilities, with resources', () => {
    for (const [name, { objects }] of rendered) {
      for (const o of objects.filter((x) => ['Deployment', 'Pod'].includes(x.kind))) {
        const pod = podSpecOf(o);
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: ${o.kind}/${o.metadata.name} runAsNonRoot`);
        for (const c of containersOf(o)) {
          const where = `${name}: ${o.metadata.name}/${c.name}`;
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where} readOnlyRootFilesystem`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where} allowPrivilegeEscalation`);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${where} drops all capabilities`);
          assert.ok(c.resources?.requests && c.resources.limits?.memory, `${where} has requests and a memory limit`);
        }
      }
    }
  });

  test('the gateway: probes on the admin port, a drain that fits the grace period, spread over zones and nodes', () => {
    for (const [name, { objects }] of rendered) {
      const deploy = one(objects, 'Deployment', 'gateway');
      const [gw] = containersOf(deploy);
      assert.deepEqual([gw?.livenessProbe?.httpGet?.path, gw?.livenessProbe?.httpGet?.port], ['/healthz', 'admin'], name);
      assert.deepEqual([gw?.readinessProbe?.httpGet?.path, gw?.readinessProbe?.httpGet?.port], ['/readyz', 'admin'], name);
      const config = gatewayConfig(objects).data as Record<string, string>;
      const grace = podSpecOf(deploy).terminationGracePeriodSeconds as number;
      assert.ok(seconds(config.DRAIN_DELAY!) + seconds(config.SHUTDOWN_TIMEOUT!) < grace, `${name}: drain ${config.DRAIN_DELAY} + ${config.SHUTDOWN_TIMEOUT} < ${grace} s`);
      const keys = (podSpecOf(deploy).topologySpreadConstraints as Array<{ topologyKey: string }>).map((t) => t.topologyKey);
      assert.deepEqual(keys, ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'], name);
    }
    const defaults = rendered.get('defaults')!.objects;
    assert.equal((one(defaults, 'Deployment', 'gateway').spec as { replicas: number }).replicas, 2);
    assert.deepEqual(
      defaults.map((o) => o.kind).sort(),
      ['ConfigMap', 'Deployment', 'Deployment', 'Pod', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'Service', 'ServiceAccount'],
    );
  });

  test('RBAC: a Role for EndpointSlices (get, list, watch) exactly when kubernetes discovery is on, in the Service namespace', () => {
    for (const [name, { namespace, objects }] of rendered) {
      assert.equal(objects.filter((o) => o.kind.startsWith('Cluster')).length, 0, `${name}: nothing cluster-wide`);
      const config = gatewayConfig(objects).data as Record<string, string>;
      const deploy = one(objects, 'Deployment', 'gateway');
      const sa = one(objects, 'ServiceAccount') as K8sObject & { automountServiceAccountToken: boolean };
      if (config.DISCOVERY !== 'kubernetes') {
        assert.deepEqual(objects.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding'), [], `${name}: no RBAC`);
        assert.equal(sa.automountServiceAccountToken, false, `${name}: no API token in the pod`);
        assert.equal(podSpecOf(deploy).automountServiceAccountToken, false);
        continue;
      }
      const role = one(objects, 'Role') as K8sObject & { rules: unknown };
      const binding = one(objects, 'RoleBinding') as K8sObject & { roleRef: { name: string }; subjects: Array<{ kind: string; name: string; namespace: string }> };
      assert.deepEqual(role.rules, ENDPOINTSLICE_RULES, `${name}: EndpointSlices, read only`);
      const serviceNamespace = config.K8S_SERVICE!.includes('/') ? config.K8S_SERVICE!.split('/')[0] : namespace;
      assert.equal(role.metadata.namespace, serviceNamespace, `${name}: the Role is where the Service is`);
      assert.equal(binding.metadata.namespace, serviceNamespace);
      assert.equal(binding.roleRef.name, role.metadata.name);
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace }]);
      assert.equal(podSpecOf(deploy).serviceAccountName, sa.metadata.name);
      assert.equal(sa.automountServiceAccountToken, true);
    }
    const off = SETS['kubernetes discovery of a Service in another namespace']!;
    return render({ ...off, rbac: { create: false } }, 'x').then((objs) => assert.deepEqual(objs.filter((o) => o.kind.includes('Role')), [], 'rbac.create=false'));
  });

  test('discovery settings reach the gateway: the demo Service by default with demo on, a Service of another namespace by namespace/name', () => {
    const config = (set: string) => gatewayConfig(rendered.get(set)!.objects).data as Record<string, string>;
    assert.deepEqual([config('defaults').DISCOVERY, config('defaults').K8S_SERVICE], ['kubernetes', 'mcp-server']);
    assert.equal(config('demo').K8S_SERVICE, 'mcp-mcp-session-gateway-demo');
    const demo = one(rendered.get('demo')!.objects, 'Deployment', 'demo-backend');
    assert.deepEqual(envOf(containersOf(demo)[0]!).REPLICA_NAME, { valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, 'whoami names the pod');
    assert.deepEqual([config('kubernetes discovery of a Service in another namespace').K8S_SERVICE, config('kubernetes discovery of a Service in another namespace').K8S_PORT], ['mcp-servers/weather', 'mcp']);
    assert.deepEqual([config('dns discovery').DISCOVERY, config('dns discovery').DNS_NAME], ['dns', '_mcp._tcp.weather.mcp-servers.svc.cluster.local']);
    assert.equal(config('static discovery, one replica, in-memory store').MCP_BACKENDS, 'http://mcp-0.mcp:3000/mcp,http://mcp-1.mcp:3000/mcp');
  });

  test('Redis: the chart-made one by default, an external one with its credentials only in the Secret, none for one replica', () => {
    const gatewayEnv = (set: string) => envOf(containersOf(one(rendered.get(set)!.objects, 'Deployment', 'gateway'))[0]!);
    assert.deepEqual(gatewayEnv('defaults').REDIS_URL, { value: 'redis://mcp-mcp-session-gateway-redis:6379' });
    one(rendered.get('defaults')!.objects, 'Deployment', 'redis');
    const withPassword = gatewayEnv('external Redis, password from a Secret');
    assert.deepEqual(withPassword.REDIS_PASSWORD, { valueFrom: { secretKeyRef: { name: 'redis-credentials', key: 'password' } } });
    // Kubernetes expands $(REDIS_PASSWORD) from the variable defined before it: the password never sits in the spec.
    assert.deepEqual(withPassword.REDIS_URL, { value: 'rediss://:$(REDIS_PASSWORD)@redis.example.com:6380/2' });
    assert.deepEqual(gatewayEnv('external Redis, URL from a Secret').REDIS_URL, { valueFrom: { secretKeyRef: { name: 'redis-credentials', key: 'url' } } });
    assert.equal(gatewayEnv('static discovery, one replica, in-memory store').REDIS_URL, undefined);
    const sentinel = rendered.get('external Redis Sentinel over TLS with a private CA')!.objects;
    const sentinelConfig = gatewayConfig(sentinel).data as Record<string, string>;
    assert.deepEqual(
      [sentinelConfig.REDIS_MODE, sentinelConfig.REDIS_SENTINELS, sentinelConfig.REDIS_SENTINEL_MASTER, sentinelConfig.REDIS_TLS_CA_FILE],
      ['sentinel', 'sentinel-0.example.com:26379,sentinel-1.example.com:26379', 'mcp', '/etc/mcp-gateway/redis-ca/ca.crt'],
    );
    const spec = podSpecOf(one(sentinel, 'Deployment', 'gateway')) as unknown as { volumes: Array<{ name: string; secret?: { secretName: string } }> };
    assert.equal(spec.volumes.find((v) => v.name === 'redis-ca')?.secret?.secretName, 'redis-ca', 'the CA comes from the Secret');
    assert.equal((gatewayConfig(rendered.get('defaults')!.objects).data as Record<string, string>).REDIS_MODE, undefined, 'standalone by default');
    for (const set of ['external Redis, password from a Secret', 'external Redis, URL from a Secret', 'static discovery, one replica, in-memory store', 'external Redis Sentinel over TLS with a private CA']) {
      assert.equal(byKind(rendered.get(set)!.objects, 'Deployment').filter((d) => d.metadata.name.endsWith('-redis')).length, 0, `${set}: no chart Redis`);
    }
  });

  test('auth: the rendered configuration is one the gateway accepts; secrets only as files mounted from the Secret', () => {
    const expected: Record<string, { auth: string; files: Record<string, string> }> = {
      'JWT auth, identity JWTs signed with a key from a Secret': { auth: 'jwt', files: { 'identity.jwk': 'identity-jwt-key' } },
      'API keys from a Secret': { auth: 'api-key', files: { 'api-keys.txt': 'api-keys' } },
      'introspection, client secret from a Secret': { auth: 'introspection', files: { 'client-secret': 'client-secret' } },
    };
    for (const [set, want] of Object.entries(expected)) {
      const objs = rendered.get(set)!.objects;
      const data = gatewayConfig(objs).data as Record<string, string>;
      // The gateway's own loader, fed the ConfigMap as its environment (the Deployment's envFrom).
      const loaded = loadConfig([], { ...data, REDIS_URL: 'redis://redis:6379' });
      assert.equal(loaded.kind, 'run', set);
      const config = (loaded as Extract<typeof loaded, { kind: 'run' }>).config;
      assert.equal(config.auth, want.auth, set);
      assert.equal(config.resourceUrl, 'https://mcp.example.com/mcp');
      const spec = podSpecOf(one(objs, 'Deployment', 'gateway')) as unknown as {
        volumes: Array<{ name: string; secret?: { secretName: string; items: Array<{ key: string; path: string }> } }>;
        containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
      };
      const volume = spec.volumes.find((v) => v.name === 'auth');
      assert.equal(volume?.secret?.secretName, 'mcp-auth', `${set}: the Secret is mounted`);
      assert.deepEqual(Object.fromEntries(volume!.secret!.items.map((i) => [i.key, i.path])), want.files, `${set}: exactly the keys named`);
      assert.deepEqual(spec.containers[0]!.volumeMounts.find((m) => m.name === 'auth'), { name: 'auth', mountPath: '/etc/mcp-gateway/auth', readOnly: true });
      for (const path of Object.values(want.files)) assert.ok(Object.values(data).includes(`/etc/mcp-gateway/auth/${path}`), `${set}: the gateway reads ${path} from the mount`);
      const env = envOf(containersOf(one(objs, 'Deployment', 'gateway'))[0]!);
      for (const name of ['AUTH_CLIENT_SECRET', 'AUTH_API_KEYS', 'IDENTITY_JWT_KEY']) assert.equal(env[name] ?? data[name], undefined, `${set}: no secret ${name} in the spec`);
    }
    const jwt = (gatewayConfig(rendered.get('JWT auth, identity JWTs signed with a key from a Secret')!.objects).data as Record<string, string>);
    assert.deepEqual(
      [jwt.AUTH_ISSUER, jwt.AUTH_AUDIENCE, jwt.AUTH_REQUIRED_SCOPES, jwt.AUTH_METHOD_SCOPES, jwt.IDENTITY_HEADERS, jwt.SESSION_RECOVERY_IDENTITY],
      ['https://login.example.com', 'https://mcp.example.com/mcp,mcp-gateway', 'mcp:tools', 'tools/call:deploy=deploy', 'subject=x-user,jwt=x-user-jwt', 'true'],
    );
    const none = gatewayConfig(rendered.get('defaults')!.objects).data as Record<string, string>;
    assert.equal(none.AUTH, undefined, 'auth off by default');
    assert.equal((podSpecOf(one(rendered.get('defaults')!.objects, 'Deployment', 'gateway')) as unknown as { volumes: Array<{ name: string }> }).volumes.some((v) => v.name === 'auth'), false);
  });

  test('backend verdicts, workers, session resume, status page: the values reach the gateway as options it accepts', () => {
    const loaded = (set: string) => {
      const data = gatewayConfig(rendered.get(set)!.objects).data as Record<string, string>;
      const r = loadConfig([], { ...data, REDIS_URL: 'redis://redis:6379', STATUS_TOKEN: 'a-status-token-of-32-characters!' });
      assert.equal(r.kind, 'run', set);
      return (r as Extract<typeof r, { kind: 'run' }>).config;
    };
    const on = loaded('every option on');
    assert.deepEqual(
      [on.backendWaitMs, on.backendRefusedGraceMs, on.backendLostAfterMs, on.workers, on.sessionResume, on.statusPage],
      [2000, 2500, 120_000, 3, 'reinitialize', true],
    );
    const env = envOf(containersOf(one(rendered.get('every option on')!.objects, 'Deployment', 'gateway'))[0]!);
    assert.deepEqual(env.STATUS_TOKEN, { valueFrom: { secretKeyRef: { name: 'status-page', key: 'bearer' } } }, 'the status token only from its Secret');
    const d = loaded('defaults');
    assert.deepEqual(
      [d.backendWaitMs, d.backendRefusedGraceMs, d.backendLostAfterMs, d.workers, d.sessionResume, d.statusPage],
      [10_000, 5000, 60_000, 1, 'off', true],
      'the documented defaults (one worker without a CPU limit)',
    );
    assert.equal(envOf(containersOf(one(rendered.get('defaults')!.objects, 'Deployment', 'gateway'))[0]!).STATUS_TOKEN, undefined);
    assert.equal((gatewayConfig(rendered.get('static discovery, one replica, in-memory store')!.objects).data as Record<string, string>).WORKERS, '1', 'one worker without a shared store');
  });

  test('every option on: HPA instead of replicas, ServiceMonitor, NetworkPolicies, image by digest, PDB', () => {
    const objs = rendered.get('every option on')!.objects;
    const deploy = one(objs, 'Deployment', 'gateway');
    assert.equal((deploy.spec as { replicas?: number }).replicas, undefined, 'the HPA owns the replica count');
    assert.equal((one(objs, 'HorizontalPodAutoscaler').spec as { minReplicas: number }).minReplicas, 3);
    assert.equal(containersOf(deploy)[0]!.image, `ghcr.io/mcp-session-gateway/gateway@${SECRET_DIGEST}`);
    assert.equal(one(objs, 'ServiceMonitor').metadata.labels?.release, 'prometheus');
    assert.deepEqual(byKind(objs, 'NetworkPolicy').map((n) => n.metadata.name).sort(), ['mcp-mcpgw', 'mcp-mcpgw-redis']);
    assert.equal((one(objs, 'PodDisruptionBudget').spec as { maxUnavailable: string }).maxUnavailable, '50%');
  });

  test('observability: the Grafana dashboard for the sidecar and the alert rules as a PrometheusRule, only when asked for', () => {
    const on = rendered.get('every option on')!.objects;
    const candidates = byKind(on, 'ConfigMap').filter((c) => c.metadata.name.endsWith('-dashboard'));
    assert.equal(candidates.length, 1);
    const cm = candidates[0] as K8sObject & { data: Record<string, string> };
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1', 'the sidecar finds it by its default label');
    assert.equal(cm.metadata.annotations?.grafana_folder, 'MCP');
    assert.deepEqual(JSON.parse(cm.data['mcp-session-gateway.json'] as string), JSON.parse(readFileSync(join(CHART, 'dashboards/mcp-gateway.json'), 'utf8')));
    const rule = one(on, 'PrometheusRule') as K8sObject & { spec: { groups: unknown } };
    assert.equal(rule.metadata.labels?.release, 'prometheus');
    const file = parseYaml(readFileSync(join(CHART, 'alerts/rules.yaml'), 'utf8')) as { groups: unknown };
    assert.deepEqual(rule.spec.groups, file.groups, 'the rules as shipped, with their {{ $labels }} templates untouched');
    const defaults = rendered.get('defaults')!.objects;
    assert.equal(byKind(defaults, 'PrometheusRule').length, 0);
    assert.equal(byKind(defaults, 'ConfigMap').filter((c) => c.metadata.name.endsWith('-dashboard')).length, 0);
  });

  test("the helm test pod's script: a real initialize through a gateway passes; no gateway, or no backend, fails", async () => {
    const pod = one(rendered.get('defaults')!.objects, 'Pod');
    const [exe, ...args] = containersOf(pod)[0]!.command!;
    assert.equal(exe, '/nodejs/bin/node', 'runs on the Node of the gateway image');
    const runScript = (url: string) => run(process.execPath, args, { env: { MCP_URL: url }, timeoutMs: 60_000 });
    const topo = await startTopology({ store: 'memory', backends: ['demo'] });
    try {
      const url = topo.entries()[0]!;
      const okRun = await runScript(url);
      assert.equal(okRun.code, 0, okRun.stderr);
      assert.match(okRun.stdout, /^ok: mcp-gateway-demo \d+\.\d+\.\d+ answered initialize \(protocol 2025-11-25\)/);
      await topo.backends[0]!.kill();
      const noBackend = await runScript(url);
      assert.equal(noBackend.code, 1);
      assert.match(noBackend.stderr, /FAIL .*: status 50[23]/);
    } finally {
      await topo.stop();
    }
    const nothing = await runScript(`http://127.0.0.1:${await freePort()}/mcp`);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /FAIL .*: no answer: ECONNREFUSED/);

    // Auth on: the pod of an auth set carries the resource URL and checks the challenge and the metadata.
    const authPod = one(rendered.get('API keys from a Secret')!.objects, 'Pod');
    const resource = envOf(containersOf(authPod)[0]!).RESOURCE_URL as { value: string };
    assert.equal(resource.value, 'https://mcp.example.com/mcp');
    const runAuthScript = (url: string, resourceUrl: string) => run(process.execPath, args, { env: { MCP_URL: url, RESOURCE_URL: resourceUrl }, timeoutMs: 60_000 });
    const guarded = await startTopology({
      store: 'memory',
      backends: ['demo'],
      gatewayArgs: ['--auth', 'api-key', '--resource-url', resource.value],
      gatewayEnv: { AUTH_API_KEYS: `ci sha256:${'b'.repeat(64)}` },
    });
    try {
      const url = guarded.entries()[0]!;
      const okRun = await runAuthScript(url, resource.value);
      assert.equal(okRun.code, 0, okRun.stderr);
      assert.match(okRun.stdout, /^ok: the gateway asks for a bearer token/);
      const wrong = await runAuthScript(url, 'https://other.example.com/mcp');
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /protected resource metadata names https:\/\/mcp.example.com\/mcp, not https:\/\/other/);
    } finally {
      await guarded.stop();
    }
    const open = await startTopology({ store: 'memory', backends: ['demo'] });
    try {
      const unguarded = await runAuthScript(open.entries()[0]!, resource.value);
      assert.equal(unguarded.code, 1, 'a gateway that answers without a token fails the auth check');
      assert.match(unguarded.stderr, /auth is on, yet a request without a token got 200/);
    } finally {
      await open.stop();
    }
  });
});
