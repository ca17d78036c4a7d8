// bench/lib/slices.ts: a target's slices add up to one result whose rates are ratios of sums.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineSlices } from '../../bench/lib/slices.ts';
import type { WrkResult } from '../../bench/lib/wrk.ts';

function slice(requests: number, seconds: number, cpuMs: number, p99Ms: number, maxMs: number, errors = 0): WrkResult {
  return {
    connections: 32,
    seconds,
    requests,
    rps: Math.round(requests / seconds),
    p50Ms: p99Ms / 4,
    p90Ms: p99Ms / 2,
    p99Ms,
    maxMs,
    errors,
    non200: 0,
    status404: 0,
    proxyCpuMs: cpuMs,
    proxyCpuPercent: Math.round((cpuMs / (seconds * 1000)) * 1000) / 10,
    requestsPerProxyCpuSecond: Math.round(requests / (cpuMs / 1000)),
  };
}

test('slices sum: requests per CPU-second is total requests over total CPU, not the mean of the slices', () => {
  // 10,000 and 5,000 requests per CPU-second; the mean of those would be 7,500.
  const c = combineSlices([slice(1000, 1, 100, 4, 9), slice(3000, 1, 600, 8, 30, 2), slice(2000, 2, 300, 6, 12)]);
  assert.equal(c.requests, 6000);
  assert.equal(c.seconds, 4);
  assert.equal(c.rps, 1500);
  assert.equal(c.proxyCpuMs, 1000);
  assert.equal(c.requestsPerProxyCpuSecond, 6000);
  assert.equal(c.proxyCpuPercent, 25);
  assert.equal(c.p99Ms, 6, 'percentiles: the median slice');
  assert.equal(c.maxMs, 30, 'max: the worst slice');
  assert.equal(c.errors, 2);
});

test('one slice is itself; none is a mistake', () => {
  const one = slice(500, 1, 50, 3, 5);
  assert.equal(combineSlices([one]), one);
  assert.throws(() => combineSlices([]), /no slice/);
});
