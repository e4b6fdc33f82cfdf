/**
 * Summary statistics for the bench. Percentiles interpolate linearly between
 * the two closest ranks (numpy's default, "type 7"): p50 of [1, 2, 3, 4] is
 * 2.5, and p99 of few samples sits between the two largest, never past max.
 */

export type Summary = { n: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** The p-th percentile (0..100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new TypeError(`percentile: p must be within 0..100, got ${p}`);
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** n, min, p50, p95, p99, max and mean of the finite values (NaN figures when there are none). */
export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { n: 0, min: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  return {
    n: finite.length,
    min: Math.min(...finite),
    p50: percentile(finite, 50),
    p95: percentile(finite, 95),
    p99: percentile(finite, 99),
    max: Math.max(...finite),
    mean: finite.reduce((s, v) => s + v, 0) / finite.length,
  };
}

/** Rounds for display: integers from 100 up, one decimal below; NaN stays NaN. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
}

/**
 * Figures named `<prefix>_<stat>_ms` (p50, p95, p99, max, and n as `<prefix>_n`) from a summary,
 * the shape SLOs in bench/slo.yaml refer to. Figures without data are left out (the SLO then says "no data").
 */
export function figuresOf(prefix: string, s: Summary, unit = 'ms'): Record<string, number> {
  const out: Record<string, number> = { [`${prefix}_n`]: s.n };
  if (s.n === 0) return out;
  for (const k of ['p50', 'p95', 'p99', 'max'] as const) out[`${prefix}_${k}_${unit}`] = round(s[k]);
  return out;
}

/** A summary table row: label columns followed by n, p50, p95, p99, max (rounded). */
export function summaryRow(labels: Record<string, string | number>, s: Summary): Record<string, string | number> {
  const cell = (v: number) => (Number.isFinite(v) ? round(v) : '-');
  return { ...labels, n: s.n, p50: cell(s.p50), p95: cell(s.p95), p99: cell(s.p99), max: cell(s.max) };
}
