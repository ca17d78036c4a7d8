// Reading what valgrind's callgrind leaves (bench/instructions.ts): the instruction total of a dump, and
// where the instructions went, with V8's JIT code named from the process's perf map (node --perf-basic-prof
// writes /tmp/perf-<pid>.map: "<start hex> <size hex> <name>" per code object).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Instructions executed (Ir) in a callgrind dump: its `totals:` line. */
export function totalsOf(dump: string): number {
  const m = /^totals: (\d+)/m.exec(dump);
  if (!m) throw new Error('no "totals:" line: not a callgrind dump, or one written before collection started');
  return Number(m[1]);
}

export interface CodeRange {
  start: number;
  size: number;
  name: string;
}

/** A perf map's code ranges, sorted by start address. */
export function parsePerfMap(text: string): CodeRange[] {
  const out: CodeRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/i.exec(line);
    if (m) out.push({ start: parseInt(m[1] as string, 16), size: parseInt(m[2] as string, 16), name: m[3] as string });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The code object holding `address`, by binary search; undefined when none does. */
export function codeAt(ranges: readonly CodeRange[], address: number): string | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid] as CodeRange;
    if (address < r.start) hi = mid - 1;
    else if (address >= r.start + r.size) lo = mid + 1;
    else return r.name;
  }
  return undefined;
}

/**
 * Instructions per function from `callgrind_annotate` output lines ("  1,234 (0.5%)  file:function [object]"),
 * JIT addresses ("???:0x…") named from the perf map, C++ signatures cut at their parameter list. Self cost
 * unless the annotation was inclusive (then a function's largest line is kept: recursion repeats it).
 */
export function costByFunction(annotated: string, ranges: readonly CodeRange[], inclusive: boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ir = Number((m[1] as string).replaceAll(',', ''));
    let name = (m[2] as string).split(' [')[0] as string;
    if (name === 'PROGRAM TOTALS') continue;
    const jit = /^\?\?\?:0x([0-9a-f]+)$/.exec(name);
    if (jit) name = codeAt(ranges, parseInt(jit[1] as string, 16)) ?? 'JIT code (unnamed)';
    else name = name.replace(/^\?\?\?:/, '').replace(/\(.*$/, '');
    out.set(name, inclusive ? Math.max(out.get(name) ?? 0, ir) : (out.get(name) ?? 0) + ir);
  }
  return out;
}

/** Runs callgrind_annotate on a dump and names its functions (see costByFunction). */
export function annotate(dumpFile: string, perfMapFile: string | undefined, inclusive: boolean): Map<string, number> {
  const text = execFileSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', dumpFile], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  let ranges: CodeRange[] = [];
  try {
    if (perfMapFile) ranges = parsePerfMap(readFileSync(perfMapFile, 'utf8'));
  } catch {
    // no perf map (the process was not started with --perf-basic-prof): JIT code stays unnamed
  }
  return costByFunction(text, ranges, inclusive);
}
