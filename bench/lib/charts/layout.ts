/**
 * Where things go on the fixed-size canvas (about 820 x 480): the title (wrapped), the y axis, the
 * plot area, the column of reference-line labels right of it, the x axis (labels tilted when the
 * categories do not fit flat) and the legend under it. Sizes come from `textWidth`, so the plot area
 * shrinks for long labels instead of letting them run into each other.
 */
import { formatNumber, type AxisChoice } from './axes.js';
import { markText, type Mark } from './markLabels.js';
import { textWidth } from './textWidth.js';

export const WIDTH = 820;
export const HEIGHT = 480;
/** Padding around the whole chart. */
export const PAD = 10;
export const FONT = { title: 15, subtitle: 11, axisTitle: 12, label: 11, mark: 11 };
/** Space a reference-line label needs from its neighbour (px). */
export const MARK_GAP = FONT.mark + 3;
/** The leader from the end of a reference line to its label. */
export const LEADER = 12;
const LEGEND_ROW = 17;
const LEGEND_SYMBOL = 22;
const LEGEND_COLUMN_PAD = 14;

export type Layout = {
  title: string[];
  xTitle: string[];
  yTitle: string[];
  plotWidth: number;
  plotHeight: number;
  /** Width of the column right of the plot for reference-line labels (0 when there are none). */
  markColumn: number;
  legendColumns: number;
  /** Bar plots: 0 when the category names fit flat, else the tilt (degrees). */
  xLabelAngle: number;
  /** Longest x label before it is cut with an ellipsis (px). */
  xLabelLimit: number;
};

/** Splits `text` into lines no wider than `max` px (at word boundaries; a long word keeps its own line). */
export function wrapText(text: string, max: number, size: number, bold = false): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && textWidth(candidate, size, bold) > max) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

export type LayoutInput = {
  title: string;
  subtitle: boolean;
  xLabel: string;
  yLabel: string;
  seriesNames: string[];
  marks: Mark[];
  /** Bar plots: the category names in order; null for a continuous x axis. */
  categories: string[] | null;
  /** Continuous x: the tick labels' longest text (dates are long). */
  xTickText: string;
  /** Ticks of the y axis, for the width of its labels; computed by the caller from the plot height. */
  yAxis: (plotHeight: number) => AxisChoice;
  /** Pixels to add to the plot area (a second pass, after measuring the first, to hit the canvas size). */
  grow?: { width: number; height: number };
};

export function layoutChart(input: LayoutInput): Layout {
  const inner = WIDTH - 2 * PAD;
  const title = wrapText(input.title, inner, FONT.title, true);
  const titleHeight = title.length * (FONT.title + 4) + (input.subtitle ? FONT.subtitle + 6 : 0) + 12;

  const markColumn = input.marks.length ? Math.ceil(Math.max(...input.marks.map((m) => textWidth(markText(m), FONT.mark)))) + LEADER + 8 : 0;

  const entry = Math.max(40, ...input.seriesNames.map((n) => textWidth(n, FONT.label))) + LEGEND_SYMBOL + LEGEND_COLUMN_PAD;
  const legendColumns = Math.max(1, Math.min(input.seriesNames.length, Math.floor((inner - 40) / entry)));
  const legendRows = Math.ceil(input.seriesNames.length / legendColumns);
  const legendHeight = input.seriesNames.length ? legendRows * LEGEND_ROW + 14 : 0;

  // The x axis: flat labels if the categories fit their band, else tilted (their height grows).
  const yGuess = 60;
  const plotWidthGuess = inner - yGuess - markColumn;
  let xLabelAngle = 0;
  let xLabelLimit = 200;
  let xLabelsHeight = FONT.label + 4;
  if (input.categories) {
    const widest = Math.max(0, ...input.categories.map((c) => textWidth(c, FONT.label)));
    const band = plotWidthGuess / Math.max(1, input.categories.length);
    if (widest > band - 8) {
      // Tilted labels stay apart when the band exceeds the text height over sin(angle); upright below that.
      xLabelAngle = band * Math.sin(Math.PI / 4) >= FONT.label + 3 ? -45 : -90;
      xLabelLimit = 150;
      xLabelsHeight = Math.min(widest, xLabelLimit) * Math.sin((-xLabelAngle * Math.PI) / 180) + FONT.label + 4;
    }
  }
  const xTitle = wrapText(input.xLabel, plotWidthGuess, FONT.axisTitle, true);
  const xAxisHeight = 6 + xLabelsHeight + 8 + xTitle.length * (FONT.axisTitle + 3);

  const plotHeight = Math.round(HEIGHT - 2 * PAD - titleHeight - xAxisHeight - legendHeight - 10 + (input.grow?.height ?? 0));
  const yTitle = wrapText(input.yLabel, plotHeight, FONT.axisTitle, true);
  const yTicks = input.yAxis(plotHeight).ticks;
  const yLabels = Math.max(...yTicks.map((t) => textWidth(formatNumber(t), FONT.label)), 10);
  const yAxisWidth = 6 + yLabels + 8 + yTitle.length * (FONT.axisTitle + 3);
  const plotWidth = Math.round(inner - yAxisWidth - markColumn - 6 - (input.categories ? 0 : textWidth(input.xTickText, FONT.label) / 2) + (input.grow?.width ?? 0));
  return { title, xTitle, yTitle, plotWidth, plotHeight, markColumn, legendColumns, xLabelAngle, xLabelLimit };
}

/** Ticks for a plot of this height: about one per 45 px. */
export function tickCountFor(plotHeight: number): number {
  return Math.max(3, Math.round(plotHeight / 45));
}
