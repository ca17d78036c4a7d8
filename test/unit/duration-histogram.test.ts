// The hand-kept request-duration histogram exports what prom-client's Histogram exports for the same
// observations: the same text exposition and the same JSON (which --workers sums across processes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { DurationHistogram } from '../../gateway/src/metrics/duration-histogram.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

function pair(observations: Array<[string, number]>) {
  const ours = new Registry();
  const theirs = new Registry();
  const h = new DurationHistogram({ name: 'd_seconds', help: 'h', label: 'method', buckets: BUCKETS, registry: ours });
  const p = new Histogram({ name: 'd_seconds', help: 'h', labelNames: ['method'], buckets: BUCKETS, registers: [theirs] });
  for (const [m, v] of observations) {
    h.observe(m, v);
    p.labels(m).observe(v);
  }
  return { ours, theirs };
}

/** Exposition lines, label order inside braces normalized (Prometheus does not order them). */
function lines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/\{([^}]*)\}/, (_m, inner: string) => `{${inner.split(',').sort().join(',')}}`))
    .sort();
}

test('same exposition as prom-client for any observations (fast-check)', async () => {
  const methods = fc.constantFrom('tools/call', 'tools/list', 'initialize', 'other');
  const values = fc.oneof(fc.double({ min: 0, max: 400, noNaN: true }), fc.constantFrom(...BUCKETS));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(methods, values), { maxLength: 60 }), async (obs) => {
      const { ours, theirs } = pair(obs);
      assert.deepEqual(lines(await ours.metrics()), lines(await theirs.metrics()));
    }),
    { numRuns: 150 },
  );
});

test('summed across workers like prom-client, and reset empties it', async () => {
  const a = pair([['tools/call', 0.002], ['tools/call', 7]]);
  const b = pair([['tools/call', 0.0004], ['initialize', 0.03]]);
  const merged = async (x: Registry, y: Registry) => (await AggregatorRegistry.aggregate([await x.getMetricsAsJSON(), await y.getMetricsAsJSON()]).metrics());
  assert.deepEqual(lines(await merged(a.ours, b.ours)), lines(await merged(a.theirs, b.theirs)));
  a.ours.resetMetrics();
  assert.doesNotMatch(await a.ours.metrics(), /d_seconds_count/);
});
