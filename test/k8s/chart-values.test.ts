// The chart's values contract, without a cluster: values.schema.json refuses unknown keys and wrong types,
// validateValues reports every cross-value problem at once, kubeVersion is enforced, and values.yaml documents
// every value the schema declares (and nothing else).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { CHART, helm, requireBinaries, tryHelm } from './support/cluster.ts';

describe('Helm chart values', () => {
  before(() => requireBinaries());

  test('values.schema.json refuses unknown keys and ill-typed values, naming the path', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'bogus=1'], /additional properties 'bogus' not allowed/],
      [['--set', 'gateway.verbose=true'], /at '\/gateway': additional properties 'verbose' not allowed/],
      [['--set-json', 'networkPolicy.mcpFrom=[{"podSelector":{},"port":80}]'], /networkPolicy\/mcpFrom\/0': additional properties 'port' not allowed/],
      [['--set', 'gateway.port=http'], /at '\/gateway\/port': got string, want integer/],
      [['--set', 'replicaCount=0'], /at '\/replicaCount': minimum: got 0, want 1/],
      [['--set', 'discovery.mode=consul'], /at '\/discovery\/mode': value must be one of/],
      [['--set', 'gateway.sessionTtl=1hour'], /at '\/gateway\/sessionTtl': '1hour' does not match pattern/],
      [['--set-string', 'redis.internal.enabled=yes'], /at '\/redis\/internal\/enabled': got string, want boolean/],
      [['--set', 'redis.url=http://redis:6379'], /at '\/redis\/url'/],
      [['--set', 'redis.mode=replicated'], /at '\/redis\/mode': value must be one of/],
      [['--set', 'redis.sentinels={sentinel-without-port}'], /at '\/redis\/sentinels\/0'/],
    ];
    for (const [args, expected] of cases) {
      const r = await tryHelm(['template', 'mcp', CHART, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, expected, args.join(' '));
    }
  });

  test('rules across values are checked together, every broken one reported at once', async () => {
    const r = await tryHelm(['template', 'mcp', CHART, '--set', 'redis.internal.enabled=false', '--set', 'discovery.mode=static', '--set', 'discovery.dns.name=x:1', '--set', 'terminationGracePeriodSeconds=10']);
    assert.notEqual(r.code, 0);
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
    assert.equal(problems.length, 4, r.stderr);
    assert.match(r.stderr, /needs a shared session store/);
    assert.match(r.stderr, /discovery.mode static needs discovery.static.backends/);
    assert.match(r.stderr, /discovery.dns.name applies to discovery.mode dns, not static/);
    assert.match(r.stderr, /terminationGracePeriodSeconds \(10\) must be at least .* \(27\)/);
    // Workers share sessions through the store as replicas do (the gateway refuses WORKERS > 1 without one).
    const w = await tryHelm(['template', 'mcp', CHART, '--set', 'redis.internal.enabled=false', '--set', 'replicaCount=1', '--set', 'gateway.workers=2']);
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /gateway.workers > 1 needs a shared session store/);
  });

  test('Redis modes: sentinel needs sentinels, and neither sentinel nor cluster goes with the chart-made Redis', async () => {
    const r = await tryHelm(['template', 'mcp', CHART, '--set', 'redis.mode=sentinel']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /redis.mode sentinel needs redis.sentinels/);
    assert.match(r.stderr, /redis.mode sentinel is for an external Redis/);
    const c = await tryHelm(['template', 'mcp', CHART, '--set', 'redis.sentinels={s:26379}']);
    assert.match(c.stderr, /redis.sentinels applies to redis.mode sentinel, not standalone/);
  });

  test('auth: each mode says what it needs, secrets name keys of auth.existingSecret, and nothing applies to another mode', async () => {
    const problems = async (args: string[]) => {
      const r = await tryHelm(['template', 'mcp', CHART, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      return r.stderr;
    };
    const jwt = await problems(['--set', 'auth.mode=jwt', '--set', 'auth.clientId=x']);
    assert.match(jwt, /auth.mode jwt needs auth.resourceUrl/);
    assert.match(jwt, /auth.mode jwt needs auth.issuer or auth.jwksUrl/);
    assert.match(jwt, /auth.introspectionUrl, auth.clientId and auth.clientSecretKey apply to auth.mode introspection, not jwt/);
    assert.match(await problems(['--set', 'auth.mode=api-key', '--set', 'auth.resourceUrl=https://m.example.com/mcp']), /auth.mode api-key needs auth.apiKeysKey/);
    assert.match(await problems(['--set', 'auth.mode=introspection', '--set', 'auth.resourceUrl=https://m.example.com/mcp']), /needs auth.issuer, auth.introspectionUrl, auth.clientId and auth.clientSecretKey/);
    const none = await problems(['--set', 'auth.issuer=https://login.example.com', '--set', 'auth.sessionRecoveryIdentity=true', '--set', 'auth.identityJwtKeyKey=k']);
    assert.match(none, /auth.issuer applies with auth.mode jwt, introspection or api-key, not none/);
    assert.match(none, /auth.sessionRecoveryIdentity apply with an auth.mode other than none/);
    assert.match(none, /name keys of auth.existingSecret, which is empty/);
    assert.match(await problems(['--set', 'auth.existingSecret=mcp-auth']), /no auth.\*Key says which of its keys to mount/);
    assert.match(await problems(['--set', 'auth.mode=oauth']), /at '\/auth\/mode': value must be one of/);
    assert.match(await problems(['--set', 'auth.resourceUrl=mcp.example.com']), /at '\/auth\/resourceUrl'/);
    // Identity headers and an identity key go without auth too (the client's own headers are always removed).
    await helm(['template', 'mcp', CHART, '--set', 'auth.existingSecret=mcp-auth', '--set', 'auth.identityJwtKeyKey=k', '--set', 'auth.identityHeaders=none']);
  });

  test('kubeVersion: refused below Kubernetes 1.26 (EndpointSlice serving/terminating), accepted from it', async () => {
    const old = await tryHelm(['template', 'mcp', CHART, '--kube-version', '1.25.9']);
    assert.notEqual(old.code, 0);
    assert.match(old.stderr, /incompatible with Kubernetes v1\.25\.9/);
    await helm(['template', 'mcp', CHART, '--kube-version', '1.26.0']);
  });

  test('values.yaml documents every value, and the schema declares exactly the keys values.yaml has', () => {
    interface Schema {
      properties?: Record<string, Schema>;
    }
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
    const doc = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    const undocumented: string[] = [];
    const notInSchema: string[] = [];
    const seen = new Set<string>();
    // Walks the keys the schema calls values (its properties), not the entries of free-form maps.
    const walk = (node: unknown, s: Schema | undefined, path: string) => {
      if (!isMap(node)) return;
      (node as YAMLMap).items.forEach((pair, i) => {
        const key = String((pair.key as { value: unknown }).value);
        const full = path ? `${path}.${key}` : key;
        seen.add(full);
        const comment = (pair.key as { commentBefore?: string }).commentBefore ?? (i === 0 ? (node as YAMLMap).commentBefore : undefined) ?? '';
        if (!comment.includes('-- ')) undocumented.push(full);
        const sub = s?.properties?.[key];
        if (!sub) notInSchema.push(full);
        else if (sub.properties) walk(pair.value, sub, full);
      });
    };
    walk(doc.contents, schema, '');
    assert.deepEqual(undocumented, [], 'every value has a "# -- ..." comment above it');
    assert.deepEqual(notInSchema, [], 'every value is declared in values.schema.json');
    const declared: string[] = [];
    const list = (s: Schema, path: string) => {
      for (const [k, sub] of Object.entries(s.properties ?? {})) {
        const full = path ? `${path}.${k}` : k;
        if (full === 'global') continue; // Helm's own
        // Kubernetes' own types pass through: their optional fields need no default here.
        if (/^(podSecurityContext|securityContext|affinity)\./.test(full)) continue;
        declared.push(full);
        list(sub, full);
      }
    };
    list(schema, '');
    assert.deepEqual(declared.filter((k) => !seen.has(k)), [], 'every schema property has a default in values.yaml');
  });
});
