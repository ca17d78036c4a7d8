// The order the bench starts its proxies in: rotated over the Node proxies from round to round (a process
// started later served more per CPU-second in bench/ab.ts runs, so a fixed order favoured one target), and
// honoured by the topology (checked on the processes' start times, not on what the bench prints).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { rotatedStartOrder } from '../../bench/bench.ts';
import { ProcessGroup } from '../../bench/lib/procs.ts';
import { proxyStartOrder, startTopology } from '../../bench/lib/topology.ts';

test('proxyStartOrder: the named proxies first, in their order; the rest in the default order; no strangers', () => {
  const all = ['direct', 'floor', 'floor-buffered', 'gateway', 'haproxy', 'nginx'] as const;
  assert.deepEqual(proxyStartOrder(all), ['gateway', 'haproxy', 'nginx', 'floor', 'floor-buffered']);
  assert.deepEqual(proxyStartOrder(all, ['floor', 'gateway']), ['floor', 'gateway', 'haproxy', 'nginx', 'floor-buffered']);
  // Not among the targets, or named twice: started once, or not at all.
  assert.deepEqual(proxyStartOrder(['floor', 'gateway'], ['nginx', 'gateway', 'gateway']), ['gateway', 'floor']);
  assert.deepEqual(proxyStartOrder(['direct']), []);
});

test('rotatedStartOrder: each Node proxy starts first in turn; HAProxy and nginx after them', () => {
  const all = ['direct', 'floor', 'floor-buffered', 'gateway', 'haproxy', 'nginx'] as const;
  const firsts = [0, 1, 2, 3].map((turn) => rotatedStartOrder(all, turn));
  assert.deepEqual(firsts[0], ['gateway', 'floor', 'floor-buffered', 'haproxy', 'nginx']);
  assert.deepEqual(firsts[1], ['floor', 'floor-buffered', 'gateway', 'haproxy', 'nginx']);
  assert.deepEqual(firsts[2], ['floor-buffered', 'gateway', 'floor', 'haproxy', 'nginx']);
  assert.deepEqual(firsts[3], firsts[0]);
  // Two Node proxies: they alternate.
  assert.deepEqual(rotatedStartOrder(['floor', 'gateway'], 1), ['floor', 'gateway']);
  assert.deepEqual(rotatedStartOrder(['floor', 'gateway'], 2), ['gateway', 'floor']);
  assert.deepEqual(rotatedStartOrder(['haproxy'], 5), ['haproxy']);
});

const group = new ProcessGroup(process.env.TMPDIR ?? '/tmp');
after(() => group.stopAll());

/** When a process started: /proc/<pid>/stat field 22, clock ticks since boot (no spaces in our names). */
function startTicks(pid: number | undefined): number {
  assert.ok(pid, 'the proxy started');
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[21]);
}

test('startTopology starts the proxies in the order it is given', { timeout: 60_000 }, async () => {
  const topo = await startTopology(group, {
    backend: 'fast',
    backends: 1,
    gateways: 1,
    targets: ['floor', 'floor-buffered', 'gateway'],
    gatewayArgs: [],
    gatewayLogLevel: 'warn',
    startOrder: ['floor-buffered', 'gateway', 'floor'],
  });
  const started = [topo.floorBuffered?.proc.pid, topo.gateways[0]?.proc.pid, topo.floor?.proc.pid].map(startTicks);
  assert.ok(started[0]! < started[1]! && started[1]! < started[2]!, `start ticks in order: ${started.join(' < ')}`);
  await group.stopAll();
});

test('several processes per target: one of each target in turn, each listed with its own URL', { timeout: 60_000 }, async () => {
  const topo = await startTopology(group, {
    backend: 'fast',
    backends: 1,
    gateways: 2,
    floorProcesses: 2,
    targets: ['floor', 'gateway'],
    gatewayArgs: [],
    gatewayLogLevel: 'warn',
    startOrder: ['floor', 'gateway'],
  });
  const [floors, gateways] = [topo.proxyProcs('floor'), topo.proxyProcs('gateway')];
  assert.deepEqual([floors.length, gateways.length, new Set([...topo.entries('floor'), ...topo.entries('gateway')]).size], [2, 2, 4]);
  const started = [floors[0], gateways[0], floors[1], gateways[1]].map((p) => startTicks(p?.pid));
  assert.ok(started.every((t, i) => i === 0 || started[i - 1]! < t), `floor-1, gateway-1, floor-2, gateway-2: ${started.join(' < ')}`);
  await group.stopAll();
});
