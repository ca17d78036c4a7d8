// What `npm run bench` leaves behind: the summary as text (stdout), and the run as JSON plus one
// self-contained HTML page (bench-html.ts) in the results directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KindRound, KindSummary } from '../lib/median.ts';
import type { ScenarioReport } from '../lib/run.ts';
import { renderBenchHtml } from './bench-html.ts';

export interface BenchRun {
  meta: Record<string, unknown>;
  summaries: KindSummary[];
  rounds: KindRound[];
  stickiness: ScenarioReport[];
}

/** The target of issue 17: the gateway at 0.8x the floor or better, in throughput and per CPU-second. */
export const FLOOR_TARGET = 0.8;

export function summaryText(summaries: KindSummary[]): string {
  const w = (s: string | number | undefined, n: number) => String(s ?? '-').padStart(n);
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(`median of ${s.rounds} round(s), ${s.kind} answers`);
    lines.push(`  target         ${w('req/s', 8)} ${w('req/CPU-s', 10)} ${w('CPU%', 6)} | ${w('p50 ms', 7)} ${w('p99 ms', 7)} at ${w('rate', 6)}/s`);
    for (const [t, f] of Object.entries(s.targets)) {
      lines.push(`  ${t.padEnd(14)} ${w(f.rps, 8)} ${w(f.requestsPerProxyCpuSecond || '-', 10)} ${w(f.proxyCpuPercent, 6)} | ${w(f.latencyMs?.p50, 7)} ${w(f.latencyMs?.p99, 7)} at ${w(f.latencyRate, 6)}/s`);
    }
    const r = s.ratios;
    lines.push(`  gateway/floor    throughput ${r.throughput['gateway/floor'] ?? '-'}  per CPU-second ${r.efficiency['gateway/floor'] ?? '-'}  (target ${FLOOR_TARGET})`);
    if (r.efficiency['gateway/floor-buffered'] !== undefined) {
      lines.push(`  gateway/floor-buffered  throughput ${r.throughput['gateway/floor-buffered'] ?? '-'}  per CPU-second ${r.efficiency['gateway/floor-buffered']}`);
    }
    lines.push(`  gateway/HAProxy  throughput ${r.throughput['gateway/haproxy'] ?? '-'}  per CPU-second ${r.efficiency['gateway/haproxy'] ?? '-'}`);
    lines.push(`  gateway/nginx    throughput ${r.throughput['gateway/nginx'] ?? '-'}  per CPU-second ${r.efficiency['gateway/nginx'] ?? '-'}`);
    lines.push(`  gateway adds ${r.addedP50Ms} ms at p50 and ${r.addedP99Ms} ms at p99 over direct`);
  }
  return lines.join('\n');
}

export function writeBenchReports(out: string, run: BenchRun): { json: string; html: string } {
  mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = join(out, `bench-${stamp}.json`);
  const html = join(out, `bench-${stamp}.html`);
  writeFileSync(json, JSON.stringify(run, null, 2));
  writeFileSync(html, renderBenchHtml(run));
  return { json, html };
}
