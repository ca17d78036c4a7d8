// The report as one self-contained HTML page: a summary table of every run, then per run its figures, the
// latency histogram and the timeline (inline SVG from svg.ts). No scripts, no CDN, no external files.
import type { ScenarioReport } from '../lib/run.ts';
import { esc, histogramSvg, timelineSvg } from './svg.ts';

const STYLE = `body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}th{background:#f2f2f2}td.l,th.l{text-align:left}
.bad{color:#b00;font-weight:bold}section{border-top:1px solid #ddd;margin-top:2em}pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto}
.charts{display:flex;flex-wrap:wrap;gap:1em}`;

function kv(obj: Record<string, unknown>): string {
  const rows = Object.entries(obj).map(([k, v]) => `<tr><th class="l">${esc(k)}</th><td class="l">${esc(typeof v === 'object' ? JSON.stringify(v) : String(v))}</td></tr>`);
  return rows.length ? `<table>${rows.join('')}</table>` : '<p>none</p>';
}

function summaryTable(reports: ScenarioReport[]): string {
  const head = ['scenario', 'target', 'backend', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'sticky violations', 'sessions/s', 'store cmds/req', 'proxy CPU %', 'proxy RSS MiB'];
  const rows = reports.map((r) => {
    const cells = [
      r.scenario,
      r.target,
      r.backend,
      r.throughput,
      r.latencyMs.p50,
      r.latencyMs.p90,
      r.latencyMs.p99,
      r.latencyMs.max,
      r.unexpectedErrors,
      r.stickinessViolations,
      r.sessionsPerSecond,
      r.store ? r.store.hotPerRequest : '–',
      r.proxy.cpuPercent,
      (r.proxy.rssKbEnd / 1024).toFixed(1),
    ];
    return `<tr>${cells.map((c, i) => `<td class="${i < 3 ? 'l' : ''}${(i === 8 || i === 9) && Number(c) > 0 ? ' bad' : ''}">${esc(String(c))}</td>`).join('')}</tr>`;
  });
  return `<table><tr>${head.map((h, i) => `<th class="${i < 3 ? 'l' : ''}">${h}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

function section(r: ScenarioReport, i: number): string {
  return `<section id="run-${i}"><h2>${esc(r.scenario)} → ${esc(r.target)}</h2>
<p>${esc(r.description)}. Backend <b>${esc(r.backend)}</b> × ${r.backends}, gateways ${r.gateways}, ${r.sessions} concurrent sessions, ${r.seconds} s, ${r.requests} successful requests.</p>
<div class="charts"><figure>${histogramSvg(r.histogram.edgesMs, r.histogram.counts)}<figcaption>latency histogram</figcaption></figure>
<figure>${timelineSvg(r.timeline)}<figcaption>timeline</figcaption></figure></div>
<h3>latency (ms)</h3>${kv({ ...r.latencyMs })}
<h3>errors by kind</h3>${kv(r.errorsByKind)}
<h3>expected errors (caused by the scenario's own kills)</h3>${kv(r.expectedErrorsByKind)}
<h3>stickiness</h3><p>${r.stickinessViolations} sessions answered by a second replica${r.violationExamples.length ? `; e.g. ${esc(JSON.stringify(r.violationExamples.slice(0, 3)))}` : ''}</p>
<h3>store (Redis commands, from INFO commandstats)</h3>${r.store ? kv({ 'hot-path commands per request': r.store.hotPerRequest, 'all commands per request': r.store.allPerRequest, ...r.store.byCommand }) : '<p>no store (not the gateway)</p>'}
<h3>proxy processes</h3>${kv(r.proxy)}
<h3>scenario figures</h3>${kv(r.extra)}</section>`;
}

export function renderHtml(title: string, meta: Record<string, unknown>, reports: ScenarioReport[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>
<h1>${esc(title)}</h1><pre>${esc(JSON.stringify(meta, null, 2))}</pre>
${summaryTable(reports)}
${reports.map(section).join('\n')}
</body></html>
`;
}
