/** Tables of summary rows: aligned text for the terminal, pipe tables for Markdown. */
import type { SummaryRow } from './types.js';

/** Every column that appears in any row, in first-seen order. */
export function columnsOf(rows: readonly SummaryRow[]): string[] {
  const cols: string[] = [];
  for (const row of rows) for (const k of Object.keys(row)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

function cell(v: string | number | null | undefined): string {
  if (v === undefined) return '';
  // A NaN figure comes back from JSON as null.
  if (v === null) return '-';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '-';
  return v;
}

/** Aligned columns, numbers right-aligned, with a rule under the header. */
export function textTable(rows: readonly SummaryRow[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = columnsOf(rows);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const numeric = cols.map((c) => rows.every((r) => r[c] === undefined || typeof r[c] === 'number' || r[c] === '-'));
  const line = (values: string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** A Markdown pipe table. */
export function markdownTable(rows: readonly SummaryRow[]): string {
  if (rows.length === 0) return '_(no rows)_';
  const cols = columnsOf(rows);
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${cols.map(esc).join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => esc(cell(r[c]))).join(' | ')} |`),
  ].join('\n');
}
