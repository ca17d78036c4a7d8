// bench/instructions.ts and bench/lib/callgrind.ts: reading callgrind's output, naming JIT code from a perf
// map, and one real run under valgrind (the floor alone, small counts: it checks the method, not a figure).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { codeAt, costByFunction, parsePerfMap, totalsOf } from '../../bench/lib/callgrind.ts';
import { REPO } from '../../bench/lib/topology.ts';

test('totals: the dump\'s "totals:" line, not its "summary:" (0 until a dump after collection started)', () => {
  assert.equal(totalsOf('events: Ir\nsummary: 0\nfn=(1) main\n12 34\ntotals: 1218355380\n'), 1218355380);
  assert.throws(() => totalsOf('events: Ir\nsummary: 0\n'), /no "totals:" line/);
});

test('perf map: JIT addresses are named by the code object that holds them, none outside any', () => {
  const ranges = parsePerfMap("7f00 40 JS:*'peekJsonRpc file:///x/jsonrpc.js:50:28\n1000 10 Builtin:LoadIC\nnot a line\n7f40 8 JS:+'route x.js:1:1\n");
  assert.deepEqual(
    ranges.map((r) => r.start),
    [0x1000, 0x7f00, 0x7f40],
  );
  assert.equal(codeAt(ranges, 0x7f00), "JS:*'peekJsonRpc file:///x/jsonrpc.js:50:28");
  assert.equal(codeAt(ranges, 0x7f3f), "JS:*'peekJsonRpc file:///x/jsonrpc.js:50:28");
  assert.equal(codeAt(ranges, 0x7f40), "JS:+'route x.js:1:1");
  assert.equal(codeAt(ranges, 0x7f48), undefined);
  assert.equal(codeAt(ranges, 0x0fff), undefined);
});

test('annotated lines: JIT named, C++ signatures cut, self costs summed per name, totals left out', () => {
  const ranges = parsePerfMap("7f00 40 JS:*'peek x.js:1:1\n");
  const text = [
    '1,500 (100.0%)  PROGRAM TOTALS',
    '  900 (60.0%)  ???:0x0000000000007f10 [???]',
    '  300 (20.0%)  ???:0x0000000000007f20 [???]',
    '  200 (13.3%)  ???:v8::internal::Scavenger::Process(v8::JobDelegate*) [/x/node]',
    '   70 (4.7%)  ???:Builtins_LoadIC [/x/node]',
    '   30 (2.0%)  ???:0x0000000000000001 [???]',
  ].join('\n');
  const self = costByFunction(text, ranges, false);
  assert.equal(self.get("JS:*'peek x.js:1:1"), 1200);
  assert.equal(self.get('v8::internal::Scavenger::Process'), 200);
  assert.equal(self.get('Builtins_LoadIC'), 70);
  assert.equal(self.get('JIT code (unnamed)'), 30);
  assert.equal(self.has('PROGRAM TOTALS'), false);
  assert.equal(costByFunction(text, ranges, true).get("JS:*'peek x.js:1:1"), 900, 'inclusive: the largest line, not a sum');
});

test('a real count: the floor under callgrind, instructions per request in the report', { timeout: 600_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'instructions-test-'));
  const v8Logs = () => readdirSync(REPO).filter((f) => /^isolate-.*-v8\.log$/.test(f));
  const logsBefore = v8Logs();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(REPO, 'bench/instructions.ts'), '--kind', 'json', '--targets', 'floor', '--warm', '300', '--measure', '200', '--runs', '1', '--top', '5', '--out', out],
    { timeout: 540_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const row = /\| JSON \| floor \| ([\d,]+) \|/.exec(stdout);
  assert.ok(row, `a table row for the floor:\n${stdout}`);
  const perRequest = Number((row[1] as string).replaceAll(',', ''));
  // A proxied request is tens of thousands of instructions at least; an empty count would be near 0.
  assert.ok(perRequest > 10_000, `instructions per request: ${perRequest}`);
  assert.match(stdout, /json floor: instructions per request by function \(self\), top 5\n( +\d+ {2}\S.*\n){5}/);
  const [file] = readdirSync(out).filter((f) => f.startsWith('instructions-'));
  assert.ok(file, 'the JSON report was written');
  const report = JSON.parse(readFileSync(join(out, file), 'utf8')) as { report: { json: { floor: { min: number; runs: number[] } } } };
  assert.equal(report.report.json.floor.min, perRequest);
  assert.equal(report.report.json.floor.runs.length, 1);
  assert.deepEqual(v8Logs(), logsBefore, '--perf-basic-prof leaves its V8 log in the scratch directory, not in the repository');
});

test('--help prints the options; an unknown option or a bad count gets the usage text and exit code 2, not a stack trace', async () => {
  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, [join(REPO, 'bench/instructions.ts'), ...args]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );
  const help = await run('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: node bench\/instructions\.ts/);
  assert.match(help.stdout, /--targets LIST/);
  assert.match(help.stdout, /--gateway-node-flag=F/);
  for (const [args, why] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--runs', 'two'], /not a count: two/],
    [['--kind', 'xml'], /--kind xml/],
  ] as const) {
    const r = await run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.match(r.stderr, /usage: node bench\/instructions\.ts/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
