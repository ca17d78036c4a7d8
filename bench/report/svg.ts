// Two charts as inline SVG strings, drawn here (no chart library, no external files): a latency histogram
// over log-spaced buckets, and a per-second timeline of throughput (bars), p99 latency (line) and errors.
import type { TimelinePoint } from '../lib/stats.ts';

const W = 640;
const H = 220;
const PAD = { l: 56, r: 56, t: 16, b: 36 };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(n: number): string {
  if (n >= 1000) return `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k`;
  if (n >= 10) return n.toFixed(0);
  if (n >= 1) return n.toFixed(1);
  return n.toFixed(2);
}

function frame(inner: string, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">${inner}</svg>`;
}

export function histogramSvg(edgesMs: number[], counts: number[]): string {
  if (counts.length === 0) return frame(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no samples</text>`, 'latency histogram');
  const max = Math.max(...counts, 1);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / counts.length;
  const bars = counts
    .map((c, i) => {
      const h = (c / max) * ih;
      return `<rect x="${(PAD.l + i * bw).toFixed(1)}" y="${(PAD.t + ih - h).toFixed(1)}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7bd0"><title>${fmt(edgesMs[i] ?? 0)}–${fmt(edgesMs[i + 1] ?? 0)} ms: ${c}</title></rect>`;
    })
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const i = Math.round(f * counts.length);
      const x = PAD.l + i * bw;
      return `<line x1="${x}" x2="${x}" y1="${PAD.t + ih}" y2="${PAD.t + ih + 4}" stroke="#333"/><text x="${x}" y="${PAD.t + ih + 16}" text-anchor="middle">${fmt(edgesMs[i] ?? 0)}</text>`;
    })
    .join('');
  const axes = `<line x1="${PAD.l}" x2="${PAD.l + iw}" y1="${PAD.t + ih}" y2="${PAD.t + ih}" stroke="#333"/><text x="${PAD.l + iw / 2}" y="${H - 4}" text-anchor="middle">latency, ms (log scale)</text><text x="${PAD.l - 6}" y="${PAD.t + 8}" text-anchor="end">${fmt(max)}</text><text x="${PAD.l - 6}" y="${PAD.t + ih}" text-anchor="end">0</text>`;
  return frame(bars + ticks + axes, 'latency histogram');
}

export function timelineSvg(points: TimelinePoint[]): string {
  if (points.length === 0) return frame(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no samples</text>`, 'timeline');
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const maxReq = Math.max(...points.map((p) => p.requests), 1);
  const maxP99 = Math.max(...points.map((p) => p.p99), 0.001);
  const bw = iw / points.length;
  const bars = points
    .map((p, i) => {
      const h = (p.requests / maxReq) * ih;
      const err = p.errors > 0 ? `<rect x="${(PAD.l + i * bw).toFixed(1)}" y="${PAD.t}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="4" fill="#d0443a"><title>${p.errors} errors</title></rect>` : '';
      return `<rect x="${(PAD.l + i * bw).toFixed(1)}" y="${(PAD.t + ih - h).toFixed(1)}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#9db8e8"><title>${p.t}s: ${p.requests} req/s, p99 ${fmt(p.p99)} ms</title></rect>${err}`;
    })
    .join('');
  const line = points.map((p, i) => `${(PAD.l + (i + 0.5) * bw).toFixed(1)},${(PAD.t + ih - (p.p99 / maxP99) * ih).toFixed(1)}`).join(' ');
  const axes = [
    `<line x1="${PAD.l}" x2="${PAD.l + iw}" y1="${PAD.t + ih}" y2="${PAD.t + ih}" stroke="#333"/>`,
    `<text x="${PAD.l - 6}" y="${PAD.t + 8}" text-anchor="end" fill="#4a7bd0">${fmt(maxReq)}/s</text>`,
    `<text x="${PAD.l + iw + 6}" y="${PAD.t + 8}" fill="#c07000">${fmt(maxP99)} ms</text>`,
    `<text x="${PAD.l}" y="${H - 4}">0 s</text><text x="${PAD.l + iw}" y="${H - 4}" text-anchor="end">${points.length} s</text>`,
    `<text x="${PAD.l + iw / 2}" y="${H - 4}" text-anchor="middle">bars: requests/s · line: p99 latency · red: errors</text>`,
  ].join('');
  return frame(`${bars}<polyline points="${line}" fill="none" stroke="#c07000" stroke-width="1.5"/>${axes}`, 'timeline');
}
