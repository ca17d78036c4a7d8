// How many worker processes `--workers` means by default: the CPUs this process may use. In a container that
// is the cgroup's CPU quota (cgroup v2 `cpu.max`: "<quota> <period>", or "max" for none), rounded up; on a
// machine without a quota, the CPUs the scheduler lets this process run on (os.availableParallelism).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPUs granted by a cgroup v2 `cpu.max` text, rounded up; undefined when it sets no quota. */
export function cpusFromCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? '100000');
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

export function defaultWorkerCount(cpuMaxFile = '/sys/fs/cgroup/cpu.max'): number {
  const parallel = availableParallelism();
  let quota: number | undefined;
  try {
    quota = cpusFromCpuMax(readFileSync(cpuMaxFile, 'utf8'));
  } catch {
    // no cgroup v2 here (macOS, cgroup v1): the scheduler's figure alone
  }
  return Math.max(1, Math.min(parallel, quota ?? parallel));
}
