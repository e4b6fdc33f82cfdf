/**
 * Axis decisions for the bench's plots, as pure functions: which y scale (linear, or log where
 * values span decades), the domain and the tick values (integers only when every value is an
 * integer, steps of 1, 2 or 5 times a power of ten), and how numbers read (15,000 or 1.5M, never
 * 1.5e+4). The renderer hands Vega explicit domains and ticks, so the reference-line labels can be
 * placed in pixels and nothing depends on Vega's own "nice" rounding.
 */
import type { PlotSpec } from '../types.js';

/** A continuous axis: its domain, the ticks drawn on it and the d3-format specifier that prints them. */
export type AxisChoice = {
  type: 'linear' | 'log';
  domain: [number, number];
  ticks: number[];
  /** d3-format specifier that prints every tick exactly and without an exponent. */
  format: string;
  /** Every data value on the axis is an integer (a count): ticks are integers too. */
  integer: boolean;
};

/** The y axis, plus how many points a log scale cannot show (values <= 0). */
export type YAxisChoice = AxisChoice & { hidden: number };

const finite = (v: number) => Number.isFinite(v);

/** A number as a reader wants it: 15,000 / 1.5M / 0.25 / 1,234.5 (at most 4 significant digits past the integers). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toLocaleString('en-US', { maximumSignificantDigits: 3 })}M`;
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return v.toLocaleString('en-US', { maximumSignificantDigits: 4 });
}

/** The step between ticks: 1, 2 or 5 times a power of ten, near span / count (at least 1 on an integer axis). */
export function niceStep(span: number, count: number, integer: boolean): number {
  const raw = span > 0 ? span / Math.max(1, count) : 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  return integer ? Math.max(1, Math.round(step)) : step;
}

/** Decimals needed to print multiples of `step` exactly (0.25 -> 2, 5 -> 0). */
function decimalsOf(step: number): number {
  const [mantissa = '', exponent = '0'] = Number(step.toPrecision(12)).toExponential().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.min(12, Math.max(0, fraction - Number(exponent)));
}

/** The d3-format specifier printing `ticks` (all multiples of `step`) without exponents: ',d', ',.2~f', '.3~s' from a million up. */
export function tickFormat(ticks: readonly number[], step: number): string {
  const max = Math.max(0, ...ticks.map((t) => Math.abs(t)));
  if (max >= 1e6) return '.3~s';
  const decimals = decimalsOf(step);
  return decimals === 0 ? ',d' : `,.${decimals}~f`;
}

/** Ticks covering [lo, hi] (the domain is widened to the outer ticks). */
export function linearAxis(lo: number, hi: number, count: number, integer: boolean): AxisChoice {
  if (!finite(lo) || !finite(hi)) [lo, hi] = [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = integer ? 1 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo = lo === 0 ? 0 : lo - pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count, integer);
  const start = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0, v = start; i < 1000 && v <= hi + step * 1e-9; i++, v = start + i * step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < hi - step * 1e-9) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return { type: 'linear', domain: [ticks[0]!, ticks[ticks.length - 1]!], ticks, format: tickFormat(ticks, step), integer };
}

/** Powers of ten around [lo, hi] (lo > 0), with 2 and 5 between them when the domain spans at most three decades. */
export function logAxis(lo: number, hi: number, integer: boolean): AxisChoice {
  const d0 = Math.floor(Math.log10(lo) + 1e-9);
  let d1 = Math.ceil(Math.log10(hi) - 1e-9);
  if (d1 <= d0) d1 = d0 + 1;
  const every = d1 - d0 > 8 ? 2 : 1;
  const ticks: number[] = [];
  for (let d = d0; d <= d1; d += every) {
    const p = Number((10 ** d).toPrecision(12));
    ticks.push(p);
    if (d1 - d0 <= 3 && d < d1) ticks.push(Number((2 * p).toPrecision(12)), Number((5 * p).toPrecision(12)));
  }
  const domain: [number, number] = [Number((10 ** d0).toPrecision(12)), Number((10 ** d1).toPrecision(12))];
  const smallest = ticks[0]!;
  return { type: 'log', domain, ticks, format: tickFormat(ticks, smallest < 1 ? smallest : 1), integer };
}

/** Whether a log scale reads better: every value >= 0 (zeros only in bar plots) and the positive ones span 100x or more. */
export function wantsLog(kind: PlotSpec['kind'], values: readonly number[]): boolean {
  if (values.length < 2 || values.some((v) => v < 0)) return false;
  if (kind !== 'bar' && values.some((v) => v === 0)) return false;
  const positive = values.filter((v) => v > 0);
  if (positive.length < 2) return false;
  return Math.max(...positive) / Math.min(...positive) >= 100;
}

/**
 * The y axis of a plot: log when the spec asks or `wantsLog`, else linear from zero when no value is
 * negative (bars always from zero). Marks (reference lines) are kept inside the domain.
 */
export function chooseYAxis(plot: PlotSpec, tickCount: number): YAxisChoice {
  const values = plot.series.flatMap((s) => s.points.map(([, y]) => y)).filter(finite);
  const marks = (plot.marks ?? []).map((m) => m.y).filter(finite);
  const integer = values.length > 0 && values.every((v) => Number.isInteger(v));
  const log = plot.yScale === 'log' || (plot.yScale === undefined && wantsLog(plot.kind, values));
  if (log) {
    const positive = [...values, ...marks].filter((v) => v > 0);
    const hidden = values.filter((v) => v <= 0).length;
    if (positive.length === 0) return { ...logAxis(1, 10, integer), hidden };
    return { ...logAxis(Math.min(...positive), Math.max(...positive), integer), hidden };
  }
  const all = [...values, ...marks];
  if (all.length === 0) return { ...linearAxis(0, 1, tickCount, false), hidden: 0 };
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (plot.kind === 'bar' || lo >= 0) lo = Math.min(lo, 0);
  if (plot.kind === 'bar') hi = Math.max(hi, 0);
  return { ...linearAxis(lo, hi, tickCount, integer), hidden: 0 };
}

/**
 * The x axis of a line or scatter plot (bar plots have categories instead): the data's extent, with
 * ticks inside it. Integer ticks when every x is an integer, or sits within 0.2 of one (points
 * nudged apart around whole positions, as `replicas +- 0.08`).
 */
export function chooseXAxis(plot: PlotSpec, tickCount: number): AxisChoice {
  const xs = plot.series.flatMap((s) => s.points.filter(([x, y]) => finite(x) && finite(y)).map(([x]) => x));
  if (xs.length === 0) return linearAxis(0, 1, tickCount, false);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const whole = new Set(xs.map((x) => Math.round(x)));
  const integer = xs.every((x) => Number.isInteger(x)) || (whole.size >= 2 && xs.every((x) => Math.abs(x - Math.round(x)) <= 0.2));
  const axis = linearAxis(lo, hi, tickCount, integer);
  const inside = axis.ticks.filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9);
  return inside.length >= 2 ? { ...axis, domain: [lo, hi], ticks: inside } : axis;
}

/** Where `v` sits on the axis, 0 at the bottom of the domain and 1 at the top. */
export function axisFraction(axis: Pick<AxisChoice, 'type' | 'domain'>, v: number): number {
  const [a, b] = axis.domain;
  if (axis.type === 'log') return (Math.log10(v) - Math.log10(a)) / (Math.log10(b) - Math.log10(a) || 1);
  return (v - a) / (b - a || 1);
}
