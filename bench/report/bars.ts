// A grouped bar chart as an inline SVG string (no chart library, no external files): one group per target,
// one bar per series (answer kind, percentile), each bar labelled with its value.
import { esc } from './svg.ts';

export interface Series {
  name: string;
  color: string;
  /** One value per group; undefined = not measured (no bar). */
  values: Array<number | undefined>;
}

const H = 260;
const PAD = { l: 58, r: 16, t: 30, b: 44 };

function fmt(n: number): string {
  if (n >= 10_000) return `${(n / 1000).toFixed(0)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 10) return n.toFixed(0);
  return n.toFixed(n >= 1 ? 1 : 2);
}

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at or above `max`. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export function groupedBarsSvg(title: string, unit: string, groups: string[], series: Series[], width = 600): string {
  const iw = width - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== undefined))));
  const gw = iw / Math.max(1, groups.length);
  const bw = Math.min(34, (gw * 0.8) / Math.max(1, series.length));
  const parts: string[] = [];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const y = PAD.t + ih - f * ih;
    parts.push(`<line x1="${PAD.l}" x2="${PAD.l + iw}" y1="${y}" y2="${y}" stroke="${f === 0 ? '#333' : '#e4e4e4'}"/><text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end">${fmt(f * max)}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = PAD.l + gi * gw + (gw - bw * series.length) / 2;
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined) return;
      const h = (v / max) * ih;
      const x = x0 + si * bw;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(PAD.t + ih - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"><title>${esc(`${g}, ${s.name}: ${fmt(v)} ${unit}`)}</title></rect>`,
        `<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(PAD.t + ih - h - 3).toFixed(1)}" text-anchor="middle" font-size="9">${fmt(v)}</text>`,
      );
    });
    parts.push(`<text x="${(PAD.l + gi * gw + gw / 2).toFixed(1)}" y="${PAD.t + ih + 15}" text-anchor="middle" font-size="12">${esc(g)}</text>`);
  });
  let lx = PAD.l;
  for (const s of series) {
    parts.push(`<rect x="${lx}" y="${H - 14}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="${H - 5}">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 6.5;
  }
  parts.push(`<text x="${PAD.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text><text x="${width - PAD.r}" y="16" text-anchor="end">${esc(unit)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${H}" width="${width}" height="${H}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`;
}
