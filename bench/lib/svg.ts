/**
 * A small SVG renderer for the bench's plots (no dependency): axes with
 * "nice" ticks, one colour per series (line, scatter or grouped bars), a
 * legend, and dashed horizontal marks (SLO targets, published figures).
 */
import type { PlotSpec } from './types.js';

const W = 820;
const H = 480;
const M = { left: 78, right: 24, top: 48, bottom: 64 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < hi) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

function label(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(6)));
}

/** The plot as a standalone SVG document. */
export function renderSvg(plot: PlotSpec): string {
  const points = plot.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const marks = (plot.marks ?? []).filter((m) => Number.isFinite(m.y));
  const categories = plot.kind === 'bar' ? [...new Set(points.map(([x]) => x))].sort((a, b) => a - b) : [];
  const ys = [...points.map(([, y]) => y), ...marks.map((m) => m.y), ...(plot.kind === 'bar' ? [0] : [])];
  const yTicks = niceTicks(Math.min(...(ys.length ? ys : [0])), Math.max(...(ys.length ? ys : [1])));
  const xs = points.map(([x]) => x);
  const xTicks = plot.kind === 'bar' ? categories : niceTicks(Math.min(...(xs.length ? xs : [0])), Math.max(...(xs.length ? xs : [1])));
  const y0 = yTicks[0]!;
  const y1 = yTicks[yTicks.length - 1]!;
  const x0 = xTicks[0] ?? 0;
  const x1 = xTicks[xTicks.length - 1] ?? 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const band = pw / Math.max(1, categories.length);
  const sx = plot.kind === 'bar' ? (x: number) => M.left + band * (categories.indexOf(x) + 0.5) : (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const f = (n: number) => n.toFixed(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(plot.title)}</text>`);
  // Grid and y ticks.
  for (const t of yTicks) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${M.left - 8}" y="${f(sy(t) + 4)}" text-anchor="end">${escapeXml(label(t))}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${f(sx(t))}" y="${M.top + ph + 20}" text-anchor="middle">${escapeXml(label(t))}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 16}" text-anchor="middle">${escapeXml(plot.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(plot.yLabel)}</text>`);

  // Series.
  const barWidth = (band * 0.8) / Math.max(1, plot.series.length);
  plot.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (plot.kind === 'bar') {
      for (const [x, y] of pts) {
        const left = sx(x) - (band * 0.8) / 2 + i * barWidth;
        const top = Math.min(sy(y), sy(Math.max(0, y0)));
        out.push(`<rect x="${f(left)}" y="${f(top)}" width="${f(barWidth * 0.92)}" height="${f(Math.abs(sy(Math.max(0, y0)) - sy(y)))}" fill="${color}"><title>${escapeXml(`${s.name}: ${label(y)}`)}</title></rect>`);
      }
      return;
    }
    const sorted = plot.kind === 'line' ? [...pts].sort((a, b) => a[0] - b[0]) : pts;
    if (plot.kind === 'line' && sorted.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${sorted.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`);
    }
    for (const [x, y] of sorted) out.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="${plot.kind === 'scatter' ? 3 : 3.5}" fill="${color}" fill-opacity="${plot.kind === 'scatter' ? 0.6 : 1}"/>`);
  });

  // Marks.
  for (const m of marks) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${f(sy(m.y))}" y2="${f(sy(m.y))}" stroke="#555" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${M.left + pw - 4}" y="${f(sy(m.y) - 5)}" text-anchor="end" fill="#555">${escapeXml(`${m.label} (${label(m.y)})`)}</text>`);
  }

  // Legend.
  const longest = Math.max(0, ...plot.series.map((s) => s.name.length));
  const lx = M.left + pw - Math.min(pw, 28 + longest * 7);
  if (plot.series.length) out.push(`<rect x="${f(lx - 6)}" y="${M.top}" width="${f(Math.min(pw, 28 + longest * 7))}" height="${plot.series.length * 18 + 6}" fill="#ffffff" fill-opacity="0.85" stroke="#ddd"/>`);
  plot.series.forEach((s, i) => {
    const y = M.top + 10 + i * 18;
    out.push(`<rect x="${f(lx)}" y="${y - 9}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${f(lx + 18)}" y="${y + 1}">${escapeXml(s.name)}</text>`);
  });
  if (points.length === 0) out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" fill="#999">no data</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
