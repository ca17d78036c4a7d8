// EndpointSlices -> backends: identity by pod, conditions -> ready/draining, port choice, dual stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { slicesToSpecs, type SliceLike } from '../../gateway/src/backends/k8s-endpoints.ts';

type Endpoint = NonNullable<SliceLike['endpoints']>[number];

function ep(pod: string, ip: string, conditions: Endpoint['conditions'] = { ready: true, serving: true, terminating: false }): Endpoint {
  return { addresses: [ip], conditions, targetRef: { kind: 'Pod', name: pod, uid: `uid-${pod}` } };
}

function slice(endpoints: Endpoint[], ports: SliceLike['ports'] = [{ name: 'mcp', port: 8080, protocol: 'TCP' }], addressType = 'IPv4', name = 's1'): SliceLike {
  return { metadata: { name }, addressType, ports, endpoints };
}

const TERMINATING_SERVING = { ready: false, serving: true, terminating: true };
const NOT_READY = { ready: false, serving: false, terminating: false };

test('each pod is a backend named after it, with the pod UID as its instance', () => {
  const { specs, skipped } = slicesToSpecs([slice([ep('mcp-b', '198.18.0.2'), ep('mcp-a', '198.18.0.1')])], undefined, '/mcp');
  assert.deepEqual(skipped, []);
  assert.deepEqual(
    specs.map((s) => [s.id, s.url.href, s.ready, s.draining, s.instance]),
    [
      ['mcp-a', 'http://198.18.0.1:8080/mcp', true, false, 'uid-mcp-a'],
      ['mcp-b', 'http://198.18.0.2:8080/mcp', true, false, 'uid-mcp-b'],
    ],
  );
});

test('conditions: terminating (serving or not) drains, not ready takes no new work, nil means ready', () => {
  const { specs } = slicesToSpecs(
    [
      slice([
        ep('going', '198.18.0.1', TERMINATING_SERVING),
        ep('stopping', '198.18.0.2', { ready: false, serving: false, terminating: true }),
        ep('unready', '198.18.0.3', NOT_READY),
        ep('unknown', '198.18.0.4', null),
      ]),
    ],
    'mcp',
    '/mcp',
  );
  const state = Object.fromEntries(specs.map((s) => [s.id, [s.ready, s.draining]]));
  assert.deepEqual(state, { going: [false, true], stopping: [false, true], unready: [false, false], unknown: [true, false] });
});

test('an IP handed to a new pod is a new backend, not the old one', () => {
  // kwok and real CNIs reuse a freed IP at once: the old pod is still terminating when its successor starts.
  const { specs } = slicesToSpecs([slice([ep('mcp-old', '198.18.0.1', TERMINATING_SERVING), ep('mcp-new', '198.18.0.1')])], undefined, '/mcp');
  assert.deepEqual(
    specs.map((s) => [s.id, s.ready, s.draining]),
    [
      ['mcp-new', true, false],
      ['mcp-old', false, true],
    ],
  );
});

test('the MCP port: by name, by number, or the first the slice lists; other protocols and missing ports are skipped', () => {
  const ports = [
    { name: 'metrics', port: 9100, protocol: 'TCP' },
    { name: 'mcp', port: 3000, protocol: 'TCP', appProtocol: 'https' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ];
  const one = [ep('p', '198.18.0.1')];
  assert.equal(slicesToSpecs([slice(one, ports)], undefined, '/mcp').specs[0]?.url.href, 'http://198.18.0.1:9100/mcp');
  assert.equal(slicesToSpecs([slice(one, ports)], 'mcp', '/x').specs[0]?.url.href, 'https://198.18.0.1:3000/x', 'appProtocol https');
  assert.equal(slicesToSpecs([slice(one, ports)], 9100, '/mcp').specs[0]?.url.href, 'http://198.18.0.1:9100/mcp');
  const udp = slicesToSpecs([slice(one, ports)], 'dns', '/mcp');
  assert.deepEqual([udp.specs.length, udp.skipped[0]?.reason], [0, 'port dns is UDP, MCP needs TCP']);
  const missing = slicesToSpecs([slice(one, ports)], 'nope', '/mcp');
  assert.match(missing.skipped[0]?.reason ?? '', /no port 'nope' among metrics, mcp, dns/);
  // No ports listed means "all ports": usable with a number only.
  assert.equal(slicesToSpecs([slice(one, [])], 8080, '/mcp').specs[0]?.url.href, 'http://198.18.0.1:8080/mcp');
  assert.equal(slicesToSpecs([slice(one, null)], undefined, '/mcp').skipped.length, 1);
  assert.equal(slicesToSpecs([slice([], null)], undefined, '/mcp').skipped.length, 0, 'an empty slice is not worth a warning');
});

test('dual stack: a pod in an IPv4 and an IPv6 slice is one backend, on IPv4; IPv6 URLs are bracketed', () => {
  const v4 = slice([ep('p', '198.18.0.1')], undefined, 'IPv4', 'v4');
  const v6 = slice([ep('p', 'fd00::1'), ep('q', 'fd00::2')], undefined, 'IPv6', 'v6');
  const { specs } = slicesToSpecs([v6, v4], undefined, '/mcp');
  assert.deepEqual(
    specs.map((s) => s.url.href),
    ['http://198.18.0.1:8080/mcp', 'http://[fd00::2]:8080/mcp'],
  );
});

test('endpoints that are not pods are identified by their URL', () => {
  const { specs } = slicesToSpecs([slice([{ addresses: ['203.0.113.7'], conditions: { ready: true } }])], undefined, '/mcp');
  assert.equal(specs[0]?.id, 'http://203.0.113.7:8080/mcp');
});

test('property: one backend per pod, named after it, in the best state any of its endpoints reports', () => {
  const conditions = fc.record({ ready: fc.option(fc.boolean()), serving: fc.option(fc.boolean()), terminating: fc.option(fc.boolean()) });
  const endpoint = fc.record({ pod: fc.constantFrom('a', 'b', 'c', 'd'), ip: fc.constantFrom('198.18.0.1', '198.18.0.2', 'fd00::1'), conditions });
  const slices = fc.array(fc.array(endpoint, { maxLength: 6 }), { maxLength: 4 });
  fc.assert(
    fc.property(slices, (raw) => {
      const input = raw.map((eps, i) => slice(eps.map((e) => ep(e.pod, e.ip, e.conditions)), undefined, 'IPv4', `s${i}`));
      const { specs } = slicesToSpecs(input, undefined, '/mcp');
      const all = raw.flat();
      assert.deepEqual(specs.map((s) => s.id), [...new Set(all.map((e) => e.pod))].sort(), 'exactly the pods, each once, by name');
      for (const s of specs) {
        assert.ok(!(s.ready && s.draining), 'never ready and draining at once');
        const mine = all.filter((e) => e.pod === s.id);
        const canTakeWork = mine.some((e) => (e.conditions.ready ?? true) && !(e.conditions.terminating ?? false));
        assert.equal(s.ready, canTakeWork, `${s.id}: ready when any of its endpoints is ready and not terminating`);
      }
    }),
    { numRuns: 500 },
  );
});
