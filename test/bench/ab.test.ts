// bench/ab.ts: the A/B summary (per-round ratios to the floor, build means, process-pair wins), the start
// order, option checks, and one short real run of two builds (correctness only, never speed).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatAb, parseAbArgs, runAb } from '../../bench/ab.ts';
import { startOrder, summarizeAb } from '../../bench/lib/ab-summary.ts';
import { ProcessGroup } from '../../bench/lib/procs.ts';
import { GATEWAY_MAIN, requireBuiltGateway } from '../../bench/lib/topology.ts';

test('a process is the median of its per-round ratios to the floor, not the ratio of its medians', () => {
  // Round 2 is a slow spell for everyone; the floor's median (100) over A's median (80) would say 0.8.
  const s = summarizeAb([100, 50, 100], [{ build: 'A', perCpu: [90, 45, 80] }]);
  assert.deepEqual(s.processes[0]?.perRound, [0.9, 0.9, 0.8]);
  assert.equal(s.processes[0]?.ofFloor, 0.9);
});

test('builds: mean and range over their processes; later builds counted pair by pair against the first', () => {
  const floor = [100, 100];
  const s = summarizeAb(floor, [
    { build: 'A', perCpu: [80, 80] },
    { build: 'B', perCpu: [84, 84] },
    { build: 'A', perCpu: [76, 76] },
    { build: 'B', perCpu: [78, 78] },
  ]);
  assert.deepEqual(
    s.builds.map((b) => [b.build, b.processes, b.meanOfFloor, b.minOfFloor, b.maxOfFloor]),
    [
      ['A', 2, 0.78, 0.76, 0.8],
      ['B', 2, 0.81, 0.78, 0.84],
    ],
  );
  // B's 0.84 beats both A processes, its 0.78 only A's 0.76: 3 of 4 pairs.
  assert.deepEqual(s.comparisons, [{ build: 'B', ratio: 1.038, wins: 3, pairs: 4 }]);
  assert.match(formatAb({ ...s, floorPerCpu: floor }), /B \/ A: 1\.038; ahead in 3 of 4 process pairs/);
});

test('a tie is half a win; rounds that do not match the floor are refused', () => {
  const s = summarizeAb([100], [
    { build: 'A', perCpu: [80] },
    { build: 'B', perCpu: [80] },
  ]);
  assert.equal(s.comparisons[0]?.wins, 0.5);
  assert.throws(() => summarizeAb([100, 100], [{ build: 'A', perCpu: [80] }]), /1 rounds, the floor 2/);
});

test('start order: no build always starts first', () => {
  assert.deepEqual(startOrder(['A', 'B'], 3), ['A', 'B', 'B', 'A', 'A', 'B']);
  assert.deepEqual(startOrder(['A', 'B', 'C'], 2), ['A', 'B', 'C', 'B', 'C', 'A']);
});

test('options: a build is required; counts and the answer kind are checked', () => {
  assert.throws(() => parseAbArgs([]), /at least one build/);
  assert.throws(() => parseAbArgs(['--main', 'x', '--processes', '0']), /--processes must be an integer >= 1/);
  assert.throws(() => parseAbArgs(['--main', 'x', '--kind', 'xml']), /--kind must be sse or json/);
  assert.equal(parseAbArgs(['--help']), 'help');
  const o = parseAbArgs(['--ref', 'HEAD', '--main', 'x']);
  assert.notEqual(o, 'help');
  if (o !== 'help') assert.deepEqual([o.refs, o.mains, o.processes, o.kind, o.rounds], [['HEAD'], ['x'], 3, 'sse', 6]);
});

const group = new ProcessGroup(mkdtempSync(join(tmpdir(), 'bench-ab-test-')));
after(() => group.stopAll());

test('a short real run: one process of the checkout and one of HEAD, every round measured', { timeout: 300_000 }, async () => {
  requireBuiltGateway();
  const o = parseAbArgs(['--ref', 'HEAD', '--main', GATEWAY_MAIN, '--processes', '1', '--rounds', '2', '--seconds', '1', '--warmup', '1']);
  assert.notEqual(o, 'help');
  if (o === 'help') return;
  const r = await runAb(o, group);
  assert.equal(r.floorPerCpu.length, 2);
  assert.ok(r.floorPerCpu.every((x) => x > 0), 'the floor served requests in every round');
  assert.deepEqual(
    r.processes.map((p) => p.build),
    ['HEAD', GATEWAY_MAIN],
  );
  for (const p of r.processes) assert.ok(p.perRound.length === 2 && p.perRound.every((x) => x > 0), `${p.build}: measured in both rounds`);
  assert.equal(r.comparisons[0]?.pairs, 1);
});
