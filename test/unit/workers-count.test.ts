// --workers: its default from the cgroup CPU quota, and the rule that more than one worker needs Redis.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { cpusFromCpuMax, defaultWorkerCount } from '../../gateway/src/workers/count.ts';
import { refusal } from '../support/config.ts';

const B = ['--backends', 'http://a:3000/mcp'];

test('cpu.max: quota over period, rounded up; "max" is no quota', () => {
  assert.equal(cpusFromCpuMax('max 100000\n'), undefined);
  assert.equal(cpusFromCpuMax('200000 100000\n'), 2);
  assert.equal(cpusFromCpuMax('150000 100000'), 2);
  assert.equal(cpusFromCpuMax('50000 100000'), 1);
  assert.equal(cpusFromCpuMax('garbage'), undefined);
});

test('the default is the quota when there is one, never above the CPUs the process may run on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpumax-'));
  const file = join(dir, 'cpu.max');
  writeFileSync(file, '100000 100000\n');
  assert.equal(defaultWorkerCount(file), 1);
  writeFileSync(file, `${(availableParallelism() + 3) * 100000} 100000\n`);
  assert.equal(defaultWorkerCount(file), availableParallelism());
  writeFileSync(file, 'max 100000\n');
  assert.equal(defaultWorkerCount(file), availableParallelism());
  assert.equal(defaultWorkerCount(join(dir, 'absent')), availableParallelism());
});

test('--workers / WORKERS: a positive count; more than one needs --redis-url', () => {
  const ok = loadConfig([...B, '--workers', '2', '--redis-url', 'redis://127.0.0.1:6379'], {});
  assert.equal(ok.kind === 'run' && ok.config.workers, 2);
  const env = loadConfig([...B], { WORKERS: '1' });
  assert.equal(env.kind === 'run' && env.config.workers, 1);
  const unset = loadConfig([...B], {});
  assert.equal(unset.kind === 'run' && unset.config.workers, undefined);
  assert.match(refusal([...B, '--workers', '2']).join('\n'), /--workers \(WORKERS\): more than one worker needs --redis-url/);
  assert.match(refusal([...B, '--workers', '0']).join('\n'), /--workers/);
});
