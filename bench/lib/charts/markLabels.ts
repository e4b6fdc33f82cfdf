/**
 * Labels of the horizontal reference lines (SLO bounds, published figures), placed in a column
 * right of the plot: each beside its line when there is room, otherwise pushed apart so no two
 * overlap, with a short leader from the line to its label. Pure pixel arithmetic.
 */
import { formatNumber } from './axes.js';

export type Mark = { label: string; y: number };

/** A mark with its text and where its line and its label sit, in pixels from the top of the plot. */
export type PlacedMark = Mark & { text: string; lineY: number; labelY: number };

/** "SLO e2e p50 (450)". */
export function markText(m: Mark): string {
  return `${m.label} (${formatNumber(m.y)})`;
}

/**
 * Label positions at least `gap` px apart, each as near its line as that allows, kept within
 * [0, height] when they fit; `toPixel` maps a value to its pixel row (0 = top).
 */
export function placeMarkLabels(marks: readonly Mark[], toPixel: (y: number) => number, height: number, gap: number): PlacedMark[] {
  const placed = marks
    .filter((m) => Number.isFinite(m.y))
    .map((m) => ({ ...m, text: markText(m), lineY: toPixel(m.y), labelY: 0 }))
    .sort((a, b) => a.lineY - b.lineY);
  let previous = -Infinity;
  for (const p of placed) {
    p.labelY = Math.max(p.lineY, previous + gap, 0);
    previous = p.labelY;
  }
  let next = Infinity;
  for (let i = placed.length - 1; i >= 0; i--) {
    const p = placed[i]!;
    p.labelY = Math.min(p.labelY, next - gap, height);
    next = p.labelY;
  }
  return placed;
}
