/**
 * A bench plot (PlotSpec) as a Vega-Lite specification: one layer for the data (lines with points,
 * scatter points, or bars grouped per series over named categories), one for the dashed reference
 * lines, and the reference-line labels in a column right of the plot. Axes get explicit domains and
 * ticks from ./axes.ts; sizes come from ./layout.ts. Pure: no Vega runtime here.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { PlotSpec } from '../types.js';
import { axisFraction, chooseXAxis, chooseYAxis, type AxisChoice } from './axes.js';
import { FONT, HEIGHT, LEADER, MARK_GAP, PAD, WIDTH, layoutChart, tickCountFor, type Layout } from './layout.js';
import { placeMarkLabels } from './markLabels.js';
import { FONT_FAMILY } from './textWidth.js';

/** A plot description the renderer accepts: a PlotSpec, or one whose x values are times (history plots). */
export type ChartSpec = PlotSpec & {
  /** x values are epoch milliseconds, drawn as UTC dates. */
  xTime?: boolean;
};

const MARK_COLOR = '#444';
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
/** Lines past the palette's ten colours repeat them with another dash pattern. */
const DASHES = [[1, 0], [7, 3], [2, 2], [10, 3, 2, 3]];
/** Lines with more points than this are drawn without a dot per point (CDFs). */
const MAX_DOTS = 40;

type Row = { series: string; x: number; y: number; category: string };

/** The x positions of a bar plot, in order: the spec's names, else the x values themselves. */
export function categoryNames(plot: PlotSpec): { names: string[]; of: (x: number) => string } {
  const xs = [...new Set(plot.series.flatMap((s) => s.points.map(([x]) => x)).filter(Number.isFinite))].sort((a, b) => a - b);
  const of = (x: number) => plot.categories?.[x] ?? String(x);
  const names = plot.categories ? [...plot.categories, ...xs.map(of).filter((n) => !plot.categories!.includes(n))] : xs.map(of);
  return { names: [...new Set(names)], of };
}

function rowsOf(plot: ChartSpec, y: AxisChoice, of: (x: number) => string): Row[] {
  return plot.series.flatMap((s) =>
    s.points
      .filter(([x, v]) => Number.isFinite(x) && Number.isFinite(v) && (y.type === 'linear' || v > 0))
      .map(([x, v]) => ({ series: s.name, x, y: v, category: of(x) })),
  );
}

const axisStyle = { labelFontSize: FONT.label, titleFontSize: FONT.axisTitle, titleFontWeight: 'bold' as const, labelOverlap: true, grid: true, gridColor: '#e6e6e6', domainColor: '#888', tickColor: '#888' };

function xEncoding(plot: ChartSpec, layout: Layout, names: string[] | null) {
  if (names) {
    return {
      field: 'category',
      type: 'nominal' as const,
      sort: names,
      scale: { domain: names, paddingInner: 0.2, paddingOuter: 0.1 },
      // Every category keeps its label: tilted labels are laid out not to touch (layout.ts), and Vega's
      // overlap test (on their upright bounding boxes) would drop every other one.
      axis: { ...axisStyle, grid: false, title: layout.xTitle, labelAngle: layout.xLabelAngle, labelLimit: layout.xLabelLimit, labelOverlap: false, ...(layout.xLabelAngle ? { labelAlign: 'right' as const, labelBaseline: 'middle' as const } : {}) },
    };
  }
  if (plot.xTime) {
    // One run (or runs at one instant) still gets a readable day around it.
    const times = plot.series.flatMap((s) => s.points.map(([x]) => x)).filter(Number.isFinite);
    const instant = times.length > 0 && Math.min(...times) === Math.max(...times);
    const DAY = 86_400_000;
    return {
      field: 'x',
      type: 'temporal' as const,
      scale: { type: 'utc' as const, ...(instant ? { domain: [times[0]! - DAY / 2, times[0]! + DAY / 2] } : { padding: 24 }) },
      axis: { ...axisStyle, title: layout.xTitle, format: '%b %d, %H:%M', labelOverlap: 'greedy' as const, labelSeparation: 12, tickCount: Math.max(2, Math.floor(layout.plotWidth / 130)) },
    };
  }
  const x = chooseXAxis(plot, Math.max(4, Math.round(layout.plotWidth / 90)));
  return {
    field: 'x',
    type: 'quantitative' as const,
    scale: { domain: x.domain, nice: false, zero: false, padding: 10 },
    axis: { ...axisStyle, title: layout.xTitle, values: x.ticks, format: x.format },
  };
}

/**
 * The Vega-Lite specification of `plot`, about 820 x 480 px; `grow` enlarges the plot area (the
 * renderer's second pass, once it has measured how far the estimate fell short of the canvas).
 */
export function toVegaLite(plot: ChartSpec, grow: { width: number; height: number } = { width: 0, height: 0 }): TopLevelSpec {
  const bar = plot.kind === 'bar';
  const { names, of } = categoryNames(plot);
  const marks = (plot.marks ?? []).filter((m) => Number.isFinite(m.y));
  const seriesNames = [...new Set(plot.series.map((s) => s.name))];
  const yFor = (h: number) => chooseYAxis(plot, tickCountFor(h));
  // The scale type and what a log scale cannot show do not depend on the plot's height.
  const scale = yFor(300);
  const shownMarks = marks.filter((m) => scale.type === 'linear' || m.y > 0);
  const hiddenMarks = marks.filter((m) => !shownMarks.includes(m)).map((m) => `"${m.label}"`);
  const hidden = [scale.hidden > 0 ? `${scale.hidden} value(s)` : '', hiddenMarks.length ? `the line(s) ${hiddenMarks.join(', ')}` : ''].filter(Boolean);
  const subtitle = hidden.length ? `${hidden.join(' and ')} at or below 0 not shown on the log scale` : '';
  const layout = layoutChart({
    title: plot.title,
    subtitle: subtitle !== '',
    xLabel: plot.xLabel,
    yLabel: plot.yLabel,
    seriesNames,
    marks: shownMarks,
    categories: bar ? names : null,
    xTickText: plot.xTime ? 'Nov 23, 12:00' : '00000',
    yAxis: yFor,
    grow,
  });
  const y = yFor(layout.plotHeight);
  const rows = rowsOf(plot, y, of);
  const yEncoding = {
    field: 'y',
    type: 'quantitative' as const,
    scale: { type: y.type, domain: y.domain, nice: false, ...(y.type === 'linear' ? { zero: false } : {}) },
    axis: { ...axisStyle, title: layout.yTitle, values: y.ticks, format: y.format, labelOverlap: false },
  };
  const color = { field: 'series', type: 'nominal' as const, scale: { domain: seriesNames, range: PALETTE }, title: null };

  const dataMark = bar
    ? { type: 'bar' as const, aria: false }
    : plot.kind === 'line'
      ? { type: 'line' as const, aria: false, strokeWidth: 2, point: Math.max(0, ...plot.series.map((s) => s.points.length)) <= MAX_DOTS ? { filled: true, size: 36, aria: false } : false }
      : { type: 'point' as const, aria: false, filled: true, size: 40, opacity: 0.7 };
  const dataLayer = {
    data: { values: rows },
    mark: dataMark,
    encoding: {
      x: xEncoding(plot, layout, bar ? names : null),
      y: yEncoding,
      ...(bar ? { y2: { datum: y.type === 'log' ? y.domain[0] : 0 }, xOffset: { field: 'series', type: 'nominal' as const, scale: { domain: seriesNames } } } : {}),
      color,
      ...(plot.kind === 'line' && seriesNames.length > PALETTE.length
        ? { strokeDash: { field: 'series', type: 'nominal' as const, scale: { domain: seriesNames, range: seriesNames.map((_, i) => DASHES[Math.floor(i / PALETTE.length) % DASHES.length]!) }, title: null } }
        : {}),
      ...(plot.kind === 'scatter' ? { shape: { field: 'series', type: 'nominal' as const, scale: { domain: seriesNames }, title: null } } : {}),
    },
  };

  const toPixel = (v: number) => Math.round(layout.plotHeight * (1 - axisFraction(y, v)) * 10) / 10;
  const placed = placeMarkLabels(shownMarks, toPixel, layout.plotHeight, MARK_GAP);
  const markLayers = placed.length
    ? [
        { data: { values: placed.map((p) => ({ y: p.y })) }, mark: { type: 'rule' as const, aria: false, color: MARK_COLOR, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: yEncoding } },
        {
          data: { values: placed },
          mark: { type: 'rule' as const, aria: false, color: MARK_COLOR, strokeWidth: 1 },
          encoding: { x: { value: layout.plotWidth }, x2: { value: layout.plotWidth + LEADER - 2 }, y: { field: 'lineY', type: 'quantitative' as const, scale: null }, y2: { field: 'labelY' } },
        },
        {
          data: { values: placed },
          mark: { type: 'text' as const, aria: false, align: 'left' as const, baseline: 'middle' as const, fontSize: FONT.mark, color: MARK_COLOR, x: layout.plotWidth + LEADER },
          encoding: { y: { field: 'labelY', type: 'quantitative' as const, scale: null }, text: { field: 'text', type: 'nominal' as const } },
        },
      ]
    : [];
  const empty = rows.length === 0
    ? [{ data: { values: [{ text: 'no data' }] }, mark: { type: 'text' as const, fontSize: 14, color: '#999', x: layout.plotWidth / 2, y: layout.plotHeight / 2 }, encoding: { text: { field: 'text', type: 'nominal' as const } } }]
    : [];

  return {
    width: layout.plotWidth,
    height: layout.plotHeight,
    padding: PAD,
    autosize: { type: 'pad' },
    background: 'white',
    title: { text: layout.title, ...(subtitle ? { subtitle } : {}), anchor: 'start', fontSize: FONT.title, subtitleFontSize: FONT.subtitle, subtitleColor: '#a33', offset: 12 },
    config: {
      font: FONT_FAMILY,
      view: { stroke: '#ccc' },
      legend: { orient: 'bottom', direction: 'horizontal', columns: layout.legendColumns, labelFontSize: FONT.label, labelLimit: WIDTH - 2 * PAD - 60, symbolType: plot.kind === 'line' ? 'stroke' : undefined, symbolStrokeWidth: 2.5, rowPadding: 4, columnPadding: 14, offset: 14 },
    },
    layer: [dataLayer, ...markLayers, ...empty],
  };
}

/** The canvas renderSvg fits every chart to. */
export const CHART_SIZE = { width: WIDTH, height: HEIGHT };
