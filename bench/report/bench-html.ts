// The bench report as one self-contained HTML page, for a person comparing proxies: the headline ratios
// first, then bar charts of throughput and requests per proxy CPU-second per target and answer kind, the
// latency percentiles side by side, and every round's figures. Inline SVG only: no scripts, no CDN.
import type { KindSummary } from '../lib/median.ts';
import type { Target } from '../lib/topology.ts';
import { groupedBarsSvg, type Series } from './bars.ts';
import { FLOOR_TARGET, type BenchRun } from './bench-report.ts';
import { esc } from './svg.ts';

const STYLE = `body{font-family:sans-serif;margin:1.5em 2em;max-width:1220px;color:#222}table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right;font-size:14px}th{background:#f2f2f2}td.l,th.l{text-align:left}
td.ok{background:#dff3df;font-weight:bold}td.miss{background:#fbe3e1;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:1em}
.note{color:#555;font-size:13px}h2{margin-top:1.4em;border-top:1px solid #ddd;padding-top:.6em}small{color:#666}`;

const ORDER: Target[] = ['direct', 'floor', 'floor-buffered', 'gateway', 'haproxy', 'nginx'];
const KIND_COLOR: Record<string, string[]> = { json: ['#4a7bd0', '#9db8e8'], sse: ['#d0843a', '#eec19a'] };

function targetsOf(summaries: KindSummary[]): Target[] {
  return ORDER.filter((t) => summaries.some((s) => s.targets[t]));
}

function ratioCell(v: number | undefined, target?: number): string {
  if (v === undefined) return '<td>–</td>';
  const cls = target === undefined ? '' : v >= target ? ' class="ok"' : ' class="miss"';
  return `<td${cls}>${v.toFixed(2)}</td>`;
}

function headline(summaries: KindSummary[]): string {
  const head = ['answers', 'gateway/floor<br><small>throughput</small>', 'gateway/floor<br><small>per CPU-second</small>', 'gateway/floor-buffered<br><small>per CPU-second</small>', 'gateway/HAProxy<br><small>throughput</small>', 'gateway/HAProxy<br><small>per CPU-second</small>', 'gateway/nginx<br><small>throughput</small>', 'added p50 ms', 'added p99 ms'];
  const rows = summaries.map((s) => {
    const r = s.ratios;
    return `<tr><td class="l">${esc(s.kind.toUpperCase())}</td>${ratioCell(r.throughput['gateway/floor'], FLOOR_TARGET)}${ratioCell(r.efficiency['gateway/floor'], FLOOR_TARGET)}${ratioCell(r.efficiency['gateway/floor-buffered'])}${ratioCell(r.throughput['gateway/haproxy'])}${ratioCell(r.efficiency['gateway/haproxy'])}${ratioCell(r.throughput['gateway/nginx'])}<td>${r.addedP50Ms}</td><td>${r.addedP99Ms}</td></tr>`;
  });
  return `<table><tr>${head.map((h, i) => `<th class="${i === 0 ? 'l' : ''}">${h}</th>`).join('')}</tr>${rows.join('')}</table>
<p class="note">Medians over interleaved rounds. Green: at or above the ${FLOOR_TARGET}× target against the floor proxy; red: below it. The floor streams request bodies (the issue's floor); floor-buffered reads each whole first, as the gateway does. Added latency: the gateway's percentile minus direct's, open loop at half the gateway's max rate.</p>`;
}

function barSeries(summaries: KindSummary[], targets: Target[], pick: (s: KindSummary, t: Target) => number | undefined): Series[] {
  return summaries.map((s) => ({ name: `${s.kind.toUpperCase()} answers`, color: (KIND_COLOR[s.kind] ?? ['#888'])[0] as string, values: targets.map((t) => pick(s, t)) }));
}

function latencySeries(summaries: KindSummary[], targets: Target[]): Series[] {
  return summaries.flatMap((s) => {
    const [dark, light] = KIND_COLOR[s.kind] ?? ['#888', '#bbb'];
    return [
      { name: `${s.kind.toUpperCase()} p50`, color: light as string, values: targets.map((t) => s.targets[t]?.latencyMs?.p50) },
      { name: `${s.kind.toUpperCase()} p99`, color: dark as string, values: targets.map((t) => s.targets[t]?.latencyMs?.p99) },
    ];
  });
}

function figuresTable(s: KindSummary, targets: Target[]): string {
  const head = ['target', 'req/s', 'req per CPU-s', 'proxy CPU %', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'at req/s', 'errors'];
  const rows = targets.map((t) => {
    const f = s.targets[t];
    if (!f) return '';
    const l = f.latencyMs;
    const cells = [f.rps, f.requestsPerProxyCpuSecond || '–', f.proxyCpuPercent, l?.p50, l?.p90, l?.p99, l?.max, f.latencyRate, f.errors];
    return `<tr><td class="l">${t}</td>${cells.map((c) => `<td>${esc(String(c ?? '–'))}</td>`).join('')}</tr>`;
  });
  return `<h3>${esc(s.kind.toUpperCase())} answers (median of ${s.rounds})</h3><table><tr>${head.map((h, i) => `<th class="${i === 0 ? 'l' : ''}">${h}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

function roundsTable(run: BenchRun): string {
  const rows = run.rounds.flatMap((r) =>
    r.figures.map((f) => `<tr><td>${r.round}</td><td class="l">${r.kind}</td><td class="l">${f.target}</td><td>${f.max.rps}</td><td>${f.max.requestsPerProxyCpuSecond || '–'}</td><td>${f.max.proxyCpuPercent}</td><td>${f.latency?.latencyMs.p50 ?? '–'}</td><td>${f.latency?.latencyMs.p99 ?? '–'}</td><td>${f.max.errors + f.max.non200}</td></tr>`),
  );
  return `<table><tr><th>round</th><th class="l">answers</th><th class="l">target</th><th>req/s</th><th>req per CPU-s</th><th>proxy CPU %</th><th>p50 ms</th><th>p99 ms</th><th>errors</th></tr>${rows.join('')}</table>`;
}

export function renderBenchHtml(run: BenchRun): string {
  const targets = targetsOf(run.summaries);
  const proxies = targets.filter((t) => t !== 'direct');
  const meta = Object.entries(run.meta).map(([k, v]) => `${esc(k)}: <code>${esc(String(v))}</code>`).join(' · ');
  const stick = run.stickiness.map((s) => `<tr><td class="l">${esc(s.target)}</td><td>${s.throughput}</td><td>${s.unexpectedErrors}</td><td>${esc(JSON.stringify(s.errorsByKind))}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mcp-session-gateway bench</title><style>${STYLE}</style></head><body>
<h1>mcp-session-gateway: gateway vs the floor, HAProxy, nginx</h1>
<p class="note">${meta}</p>
<h2>Headline</h2>${headline(run.summaries)}
<h2>Throughput and cost</h2><div class="charts">
${groupedBarsSvg('max throughput (wrk, closed loop)', 'req/s', targets, barSeries(run.summaries, targets, (s, t) => s.targets[t]?.rps), 580)}
${groupedBarsSvg('requests per proxy CPU-second', 'req per CPU-s', proxies, barSeries(run.summaries, proxies, (s, t) => s.targets[t]?.requestsPerProxyCpuSecond || undefined), 580)}
</div>
<h2>Latency at a fixed rate (open loop)</h2><div class="charts">
${groupedBarsSvg('latency percentiles, side by side', 'ms', targets, latencySeries(run.summaries, targets), 1180)}
</div>
${run.summaries.map((s) => figuresTable(s, targets)).join('\n')}
${stick ? `<h2>Stickiness with a strict backend</h2><table><tr><th class="l">target</th><th>req/s</th><th>errors</th><th class="l">errors by kind</th></tr>${stick}</table><p class="note">Two replicas that answer 404 to a session they did not mint: a proxy that hashes the header cannot keep a session where it was created.</p>` : ''}
<h2>Every round</h2>${roundsTable(run)}
</body></html>
`;
}
