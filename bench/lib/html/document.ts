/**
 * Plain HTML for the bench's pages: escaping, the page shell (inline CSS, no script, nothing
 * fetched), tables of summary rows, SLO verdicts with PASS/FAIL colouring, and plots. Every text
 * that comes from a run goes through `escapeHtml`.
 */
import { describeBound, type SloVerdict } from '../slo.js';
import { columnsOf } from '../table.js';
import type { SummaryRow } from '../types.js';
import { formatNumber } from '../charts/axes.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** An ISO time as "2026-12-07 03:56:10 UTC" (other text as it is). */
export function formatTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/** An href for a file beside the page (encoded, then escaped for the attribute). */
export function href(file: string): string {
  return escapeHtml(file.split('/').map(encodeURIComponent).join('/'));
}

const CSS = `
body { font-family: 'Liberation Sans', Arial, Helvetica, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; background: #fff; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; margin-top: 1.3em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { background: #e3f4e3; } .fail { background: #fbe0e0; } .nodata { background: #f0f0f0; color: #666; }
.verdict { font-weight: bold; } .pass .verdict { color: #17691b; } .fail .verdict { color: #b01c1c; }
.smoke { background: #fff4d6; border: 1px solid #e8c66a; padding: 6px 10px; }
.meta { color: #444; font-size: 0.92em; } figure { margin: 1em 0; } figure svg, figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #666; } .plots { display: flex; flex-wrap: wrap; gap: 8px; } pre.description { white-space: pre-wrap; font-family: inherit; color: #444; }
nav a { margin-right: 1em; } .wide { overflow-x: auto; max-width: 100%; }
`;

/** A whole document: `body` is HTML already escaped by the caller. */
export function htmlDocument(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function cell(v: unknown): string {
  if (typeof v === 'number') return `<td class="num">${escapeHtml(Number.isFinite(v) ? formatNumber(v) : '-')}</td>`;
  if (v === undefined || v === null) return '<td></td>';
  return `<td>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</td>`;
}

/** A table of rows (columns in first-seen order, numbers right-aligned). */
export function htmlTable(rows: readonly SummaryRow[]): string {
  if (rows.length === 0) return '<p><em>(no rows)</em></p>';
  const cols = columnsOf(rows);
  const head = `<tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${cols.map((c) => cell(r[c])).join('')}</tr>`).join('\n');
  return `<div class="wide"><table>\n${head}\n${body}\n</table></div>`;
}

/** A two-column table of a record (options, environment, versions). */
export function keyValueTable(record: Record<string, unknown>, key: string, value: string): string {
  return htmlTable(Object.entries(record).map(([k, v]) => ({ [key]: k, [value]: typeof v === 'string' || typeof v === 'number' ? v : Array.isArray(v) && v.every((x) => typeof x !== 'object') ? v.join(',') : JSON.stringify(v) })));
}

const VERDICT_CLASS: Record<SloVerdict['verdict'], string> = { pass: 'pass', fail: 'fail', 'no data': 'nodata' };

/** One row per SLO: PASS / FAIL / NO DATA (coloured), the bound, the measured value. */
export function verdictTable(verdicts: readonly SloVerdict[]): string {
  if (verdicts.length === 0) return '<p><em>No SLO is set for this scenario.</em></p>';
  const rows = verdicts.map(
    (v) =>
      `<tr class="${VERDICT_CLASS[v.verdict]}"><td class="verdict">${escapeHtml(v.verdict.toUpperCase())}</td><td>${escapeHtml(describeBound(v.figure, v.bound))}</td><td class="num">${escapeHtml(v.value === null ? 'no data' : formatNumber(v.value))}</td></tr>`,
  );
  return `<table class="slo">\n<tr><th>verdict</th><th>SLO</th><th>measured</th></tr>\n${rows.join('\n')}\n</table>`;
}

/** "3 pass, 1 fail" for a list of verdicts. */
export function verdictCounts(verdicts: readonly SloVerdict[]): string {
  if (verdicts.length === 0) return 'no SLO';
  const n = (k: SloVerdict['verdict']) => verdicts.filter((v) => v.verdict === k).length;
  return [`${n('pass')} pass`, n('fail') ? `${n('fail')} fail` : '', n('no data') ? `${n('no data')} no data` : ''].filter(Boolean).join(', ');
}

/** A plot on a page: inlined SVG when it is at hand, else an image linking its file. */
export type PagePlot = { title: string; svg: string | null; file: string | null };

export function plotFigure(p: PagePlot): string {
  const body = p.svg ?? (p.file ? `<img src="${href(p.file)}" alt="${escapeHtml(p.title)}" width="820" loading="lazy">` : '<p><em>(no plot)</em></p>');
  const link = p.file ? ` — <a href="${href(p.file)}">${escapeHtml(p.file)}</a>` : '';
  return `<figure>\n${body.trim()}\n<figcaption>${escapeHtml(p.title)}${link}</figcaption>\n</figure>`;
}
