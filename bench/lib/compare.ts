/**
 * `parley bench compare <old.json> <new.json>`: every figure of two runs of one scenario side by side,
 * its change, and whether the change is beyond the run-to-run noise the runs themselves show; and the
 * SLO verdicts that passed in the old run and fail in the new one (what CI or an operator gates on).
 *
 * Noise, from the runs alone:
 * - a percentile figure (`<family>_p50_ms`, `_p95_`, `_p99_`) has a standard error from its family's
 *   spread and sample count: sigma ~ (p95 - p50) / 1.645, and SE(p) = k(p) * sigma / sqrt(n) with the
 *   normal-theory factors k = 1.25 (p50), 2.11 (p95), 3.73 (p99);
 * - when a side has several runs (repeats), the spread of the figure across them counts too;
 * - the change is "beyond noise" when it exceeds twice the combined standard error of both sides.
 * A figure with neither (a count, a max) has no known noise: its changes are shown, marked "?".
 */
import type { SloBound, SloVerdict } from './slo.js';
import type { SummaryRow } from './types.js';

/** The fields of a recorded run (bench/lib/report.ts RunRecord) that a comparison reads. */
export type RecordedRun = {
  scenario: string;
  startedAt: string;
  smoke: boolean;
  figures: Record<string, number>;
  slo: SloVerdict[];
  machine?: { gitCommit?: string };
};

export type FigureChange = {
  figure: string;
  /** The figure has an SLO in either run. */
  slo: boolean;
  old: number | null;
  new: number | null;
  /** new - old (null when either side lacks the figure). */
  delta: number | null;
  /** Twice the combined standard error of both sides; null = unknown. */
  noise: number | null;
  verdict: 'beyond noise' | 'within noise' | 'noise unknown' | 'only in one run';
  /** Whether a higher value is better, worse, or neither (from the SLO bound or the figure's name). */
  direction: 'higher is worse' | 'higher is better' | null;
};

export type SloChange = { figure: string; bound: SloBound; old: SloVerdict['verdict']; new: SloVerdict['verdict']; oldValue: number | null; newValue: number | null; withinNoise: boolean };

export type Comparison = { scenario: string; figures: FigureChange[]; regressions: SloChange[]; fixed: SloChange[] };

/** `<family>_<p50|p95|p99>[_<unit>][_<variant>]`, e.g. e2e_p95_ms, e2e_p50_ms_consecutive; its count is `<family>_n[_<variant>]`. */
const PERCENTILE = /^(.+?)_(p50|p95|p99)(_ms|_pct|_s)?(_.+)?$/;
const K: Record<string, number> = { p50: 1.2533, p95: 2.11, p99: 3.73 };

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const stdev = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** The standard error of one run's figure from its family's spread (null when the family gives none). */
export function standardError(figures: Record<string, number>, figure: string): number | null {
  const m = PERCENTILE.exec(figure);
  if (!m) return null;
  const [, family, stat, unit = '', variant = ''] = m;
  const n = figures[`${family}_n${variant}`] ?? figures[`${family}_n`];
  const p50 = figures[`${family}_p50${unit}${variant}`];
  const p95 = figures[`${family}_p95${unit}${variant}`];
  if (n === undefined || p50 === undefined || p95 === undefined || !(n >= 2)) return null;
  const sigma = Math.max(0, p95 - p50) / 1.645;
  return (K[stat!]! * sigma) / Math.sqrt(n);
}

/** One side (one run or several repeats): the figure's mean and its standard error, or null. */
function side(runs: RecordedRun[], figure: string): { value: number; se: number | null } | null {
  const values = runs.map((r) => r.figures[figure]).filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (values.length === 0) return null;
  const errors = runs.map((r) => standardError(r.figures, figure)).filter((e): e is number => e !== null);
  const within = errors.length ? Math.sqrt(errors.reduce((s, e) => s + e * e, 0)) / errors.length : null;
  const across = values.length >= 2 ? stdev(values) / Math.sqrt(values.length) : null;
  const se = within === null && across === null ? null : Math.max(within ?? 0, across ?? 0);
  return { value: mean(values), se };
}

function direction(figure: string, bound: SloBound | undefined): FigureChange['direction'] {
  if (bound?.max !== undefined && bound.min === undefined) return 'higher is worse';
  if (bound?.min !== undefined && bound.max === undefined) return 'higher is better';
  if (/(_ms|_failures|failures_|dropped|loss|_gap|_delta|_errors?)(_|$)/.test(figure)) return 'higher is worse';
  if (/(per_core|max_|_within_slo|_joins_per_s|throughput)/.test(figure)) return 'higher is better';
  return null;
}

const rounded = (v: number) => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100);

/** Compares runs of one scenario: `olds` and `news` are one run each, or several repeats. */
export function compareRuns(olds: RecordedRun[], news: RecordedRun[]): Comparison {
  if (olds.length === 0 || news.length === 0) throw new TypeError('compare: each side needs at least one run');
  const scenarios = new Set([...olds, ...news].map((r) => r.scenario));
  if (scenarios.size !== 1) throw new TypeError(`compare: the runs are of different scenarios (${[...scenarios].join(', ')})`);
  const bounds = new Map<string, SloBound>();
  for (const r of [...olds, ...news]) for (const v of r.slo) bounds.set(v.figure, v.bound);
  const names = [...new Set([...olds, ...news].flatMap((r) => Object.keys(r.figures)))];
  const figures = names.map((figure): FigureChange => {
    const a = side(olds, figure);
    const b = side(news, figure);
    const dir = direction(figure, bounds.get(figure));
    const slo = bounds.has(figure);
    if (!a || !b) return { figure, slo, old: a?.value ?? null, new: b?.value ?? null, delta: null, noise: null, verdict: 'only in one run', direction: dir };
    const delta = b.value - a.value;
    const noise = a.se === null && b.se === null ? null : 2 * Math.sqrt((a.se ?? 0) ** 2 + (b.se ?? 0) ** 2);
    const verdict = noise === null ? (delta === 0 ? 'within noise' : 'noise unknown') : Math.abs(delta) > noise ? 'beyond noise' : 'within noise';
    return { figure, slo, old: rounded(a.value), new: rounded(b.value), delta: rounded(delta), noise: noise === null ? null : rounded(noise), verdict, direction: dir };
  });
  const byFigure = new Map(figures.map((f) => [f.figure, f]));
  const verdictOf = (runs: RecordedRun[], figure: string): SloVerdict | undefined => {
    const all = runs.map((r) => r.slo.find((v) => v.figure === figure)).filter((v): v is SloVerdict => v !== undefined);
    return all.find((v) => v.verdict === 'fail') ?? all.find((v) => v.verdict === 'no data') ?? all[0];
  };
  const regressions: SloChange[] = [];
  const fixed: SloChange[] = [];
  for (const [figure, bound] of bounds) {
    const o = verdictOf(olds, figure);
    const n = verdictOf(news, figure);
    if (!o || !n || o.verdict === n.verdict) continue;
    const change: SloChange = { figure, bound, old: o.verdict, new: n.verdict, oldValue: o.value, newValue: n.value, withinNoise: byFigure.get(figure)?.verdict === 'within noise' };
    if (o.verdict === 'pass' && n.verdict !== 'pass') regressions.push(change);
    else if (n.verdict === 'pass') fixed.push(change);
  }
  return { scenario: olds[0]!.scenario, figures, regressions, fixed };
}

/** Worth a reader's eye without --all: figures with an SLO, changes beyond the noise, figures in one run only. */
export const notable = (f: FigureChange): boolean => f.slo || f.verdict === 'beyond noise' || f.verdict === 'only in one run';

/** The comparison as table rows (figure, old, new, change, change %, noise, verdict). */
export function comparisonRows(figures: FigureChange[]): SummaryRow[] {
  return figures.map((f) => {
    const pct = f.delta !== null && f.old ? `${f.delta >= 0 ? '+' : ''}${(Math.round((f.delta / Math.abs(f.old)) * 1000) / 10).toFixed(1)} %` : '-';
    const judged = f.verdict === 'beyond noise' && f.direction && f.delta ? `${f.verdict}, ${(f.delta > 0) === (f.direction === 'higher is worse') ? 'worse' : 'better'}` : f.verdict;
    return {
      figure: `${f.figure}${f.slo ? ' (SLO)' : ''}`,
      old: f.old ?? '-',
      new: f.new ?? '-',
      change: f.delta === null ? '-' : `${f.delta > 0 ? '+' : ''}${f.delta}`,
      'change %': pct,
      'noise ±': f.noise ?? '?',
      verdict: judged,
    };
  });
}
