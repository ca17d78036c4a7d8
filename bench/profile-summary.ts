// Where the time goes in a V8 CPU profile (node --cpu-prof, e.g. `npm run load -- --cpu-prof`): top frames by
// self time, and time by area (gateway source files, fastify, undici, pino, ioredis, node internals, GC, idle).
//   node bench/profile-summary.ts bench/results/gateway-1.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function area(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)') return 'program (native, unattributed)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  const src = /gateway\/src\/(.+)$/.exec(url);
  if (src) return `gateway/${src[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url === '' ? 'native' : url;
}

export function summarizeProfile(p: Profile, top = 25): { frames: Array<[string, number]>; areas: Array<[string, number]>; totalMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  let total = 0;
  const frames = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, '')}:${lineNumber + 1}`;
    frames.set(key, (frames.get(key) ?? 0) + us);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { frames: sort(frames).slice(0, top), areas: sort(areas), totalMs: total / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  for (const file of positionals) {
    const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top));
    const busy = s.totalMs - (s.areas.find(([a]) => a === 'idle')?.[1] ?? 0) / 1000;
    const pct = (us: number) => `${((us / 1000 / busy) * 100).toFixed(1).padStart(5)}%`;
    process.stdout.write(`${file}: ${s.totalMs.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms busy (shares below are of busy time)\n\nby area:\n`);
    for (const [a, us] of s.areas) if (a !== 'idle') process.stdout.write(`  ${pct(us)}  ${a}\n`);
    process.stdout.write('\ntop frames (self time):\n');
    for (const [f, us] of s.frames) if (!f.startsWith('(idle)')) process.stdout.write(`  ${pct(us)}  ${f}\n`);
  }
}
