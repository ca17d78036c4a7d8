// gateway/src/log-writer.ts: every line out whole and in order, atomic-size writes on a pipe, bounded memory
// when nobody reads (dropped lines counted and reported), a synchronous flush at exit, no crash when stdout
// is gone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cutAtLine, LogWriter, PIPE_BUF } from '../../gateway/src/log-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'log-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const WRITER = new URL('../../gateway/src/log-writer.ts', import.meta.url).href;

const line = (i: number) => `{"level":"info","i":${i},"pad":"${'x'.repeat(i % 300)}","msg":"request"}\n`;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

test('cutAtLine: whole lines up to the limit; a longer line alone and whole', () => {
  const b = Buffer.from('aaa\nbbbb\ncc\n');
  assert.equal(cutAtLine(b, 100), b.length, 'all of it fits');
  assert.equal(cutAtLine(b, 9), 9, 'a cut right after a newline');
  assert.equal(cutAtLine(b, 8), 4, 'back to the last whole line');
  assert.equal(cutAtLine(Buffer.from('x'.repeat(50) + '\nyy\n'), 10), 51, 'one long line goes whole');
  assert.equal(cutAtLine(Buffer.from('x'.repeat(50)), 10), 50, 'no newline at all: everything');
});

test('a file gets every line, in order, from many batches', async () => {
  const file = join(dir, 'out.log');
  const fd = openSync(file, 'w');
  const w = new LogWriter({ fd });
  const expected: string[] = [];
  for (let b = 0; b < 200; b++) {
    let batch = '';
    for (let i = 0; i < 64; i++) batch += line(b * 64 + i);
    expected.push(batch);
    w.write(batch);
    if (b % 7 === 0) await new Promise((r) => setImmediate(r)); // writes complete in between, or not
  }
  w.flush();
  const want = expected.join('');
  await until(() => readFileSync(file, 'utf8').length === Buffer.byteLength(want), 'everything written');
  assert.equal(readFileSync(file, 'utf8'), want);
  closeSync(fd);
});

test('flushSync writes what is pending before it returns (process exit)', () => {
  const file = join(dir, 'sync.log');
  const fd = openSync(file, 'w');
  const w = new LogWriter({ fd });
  w.write(line(1)); // below the size a write starts at: still pending
  w.write(line(2));
  assert.equal(readFileSync(file, 'utf8'), '');
  w.flushSync();
  assert.equal(readFileSync(file, 'utf8'), line(1) + line(2));
  closeSync(fd);
});

test('flushSync during an asynchronous write: every line exactly once', async () => {
  const file = join(dir, 'inflight.log');
  const fd = openSync(file, 'w');
  const w = new LogWriter({ fd });
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) lines.push(line(i));
  w.write(lines.slice(0, 100).join('')); // big enough: an asynchronous write starts now
  w.write(lines.slice(100).join('')); // pending behind it
  w.flushSync();
  const want = lines.join('');
  await until(() => readFileSync(file, 'utf8').length === Buffer.byteLength(want), 'everything written');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(readFileSync(file, 'utf8').split('\n').sort(), want.split('\n').sort(), 'no line lost, none twice');
  closeSync(fd);
});

test('stdout gone (a closed descriptor): the lines are dropped, nothing throws', async () => {
  const w = new LogWriter({ fd: 999_999, atomicLines: false }); // no such descriptor: EBADF
  assert.equal(w.write('x'.repeat(5000) + '\n'), true, 'taken: the write fails later, asynchronously');
  await until(() => w.write(line(1)) === false, 'refuses lines once it knows');
  assert.doesNotThrow(() => w.flushSync());
});

test('on a pipe nobody reads: memory bounded, the rest dropped and reported; every line whole', async () => {
  // A child process logs 20,000 lines in one go through a writer capped at 256 KiB, into a pipe this test
  // does not read until the child is done writing; then it flushes.
  const script = `
    import { LogWriter } from ${JSON.stringify(WRITER)};
    const w = new LogWriter({ maxPendingBytes: 256 * 1024 });
    let taken = 0;
    for (let i = 0; i < 20000; i++) if (w.write('{"i":' + i + ',"pad":"' + 'y'.repeat(i % 200) + '"}\\n')) taken++;
    process.stderr.write(JSON.stringify({ taken, dropped: w.dropped }) + '\\n');
    setTimeout(() => { w.write('{"last":true}\\n'); w.flush(); }, 300);
    setTimeout(() => w.flushSync(), 600);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await until(() => err.includes('\n'), 'the child reported');
  const { taken, dropped } = JSON.parse(err) as { taken: number; dropped: number };
  assert.ok(dropped > 0 && taken < 20000, `lines were dropped (${dropped}), not buffered without bound`);
  assert.equal(taken + dropped, 20000);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.once('close', r));
  const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const warn = lines.find((l) => l.msg === 'log lines dropped: stdout was not keeping up');
  assert.equal(warn?.droppedLines, dropped, 'the warning says how many');
  const is = lines.filter((l) => typeof l.i === 'number').map((l) => l.i as number);
  assert.equal(is.length, taken, 'every line taken came out, whole');
  assert.deepEqual(is, [...is].sort((a, b) => a - b), 'in order');
  assert.equal(lines.at(-1)?.last, true);
  assert.ok(PIPE_BUF === 4096);
});
