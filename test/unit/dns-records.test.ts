// DNS answers -> backends: URL forms and which failures mean "no backends" (the resolution itself is tested
// against a real DNS server in test/integration/dns-discovery.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Backoff } from '../../gateway/src/backends/backoff.ts';
import { endpointsToSpecs, isAuthoritativeEmpty } from '../../gateway/src/backends/dns-records.ts';

test('resolved endpoints become backends identified by URL, sorted and without duplicates', () => {
  const specs = endpointsToSpecs(
    [
      { address: '10.0.0.2', port: 3000 },
      { address: 'fd00::5', port: 3000 },
      { address: '10.0.0.1', port: 3000 },
      { address: '10.0.0.2', port: 3000 },
    ],
    '/mcp',
  );
  assert.deepEqual(
    specs.map((s) => [s.id, s.ready, s.draining]),
    [
      ['http://10.0.0.1:3000/mcp', true, false],
      ['http://10.0.0.2:3000/mcp', true, false],
      ['http://[fd00::5]:3000/mcp', true, false],
    ],
  );
});

test('NXDOMAIN and NODATA mean "no backends"; timeouts and SERVFAIL mean "ask again"', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(isAuthoritativeEmpty(err('ENOTFOUND')), true);
  assert.equal(isAuthoritativeEmpty(err('ENODATA')), true);
  for (const code of ['ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED', 'EREFUSED', 'ECANCELLED']) assert.equal(isAuthoritativeEmpty(err(code)), false, code);
  assert.equal(isAuthoritativeEmpty(undefined), false);
});

test('backoff: waits grow to the cap, never below half the base, and start over after reset', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (base, extra, r) => {
      const max = base + extra;
      const b = new Backoff(base, max, () => r);
      for (let i = 0; i < 40; i++) {
        const w = b.next();
        assert.ok(w >= base / 2 && w <= max, `${w} outside [${base / 2}, ${max}]`);
      }
    }),
  );
  const top = new Backoff(100, 1000, () => 1);
  assert.deepEqual([top.next(), top.next(), top.next(), top.next(), top.next()], [100, 200, 400, 800, 1000]);
  top.reset();
  assert.equal(top.next(), 100);
});
