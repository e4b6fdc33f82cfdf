/**
 * Text widths without a canvas. Vega measures text to lay out legends, truncate titles and drop
 * overlapping axis labels; without node-canvas it guesses 0.8 em per character, about 50 % too
 * wide for a sans-serif face, so legends spread and labels vanish. The plots name Arial-metric
 * fonts first (Liberation Sans, Arial, Helvetica), whose advance widths are tabled here (Helvetica's
 * AFM widths, in 1/1000 em), with a small margin for a fallback face.
 */

/** The font the plots ask for; the widths below are this family's. */
export const FONT_FAMILY = "'Liberation Sans', Arial, Helvetica, sans-serif";

// Advance widths of ASCII 32..126 in Helvetica, 1/1000 em.
const WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space ! " # $ % & ' ( ) * + , - . /
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0-9 : ; < = > ?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ A-O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P-Z [ \ ] ^ _
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` a-o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p-z { | } ~
];
const OTHER = 600;
const BOLD = 1.08;
const MARGIN = 1.04;

/** Width in pixels of `text` at `fontSize` px in the plots' font (bold a little wider). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? WIDTHS[code - 32]! : OTHER;
  }
  return (units / 1000) * fontSize * (bold ? BOLD : 1) * MARGIN;
}

type TextItem = { fontSize?: number | string; fontWeight?: number | string; text?: unknown; limit?: number };
type TextMetrics = { width: (item: TextItem, text?: unknown) => number };

/** Replaces Vega's text width estimate with `textWidth` (Vega keeps it in one module-level object). */
export function installTextMetrics(metrics: TextMetrics): void {
  metrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    const value = text == null ? '' : String(text).trim();
    const width = textWidth(value, size, bold);
    // Vega truncates text past `limit` (with an ellipsis) before it measures it.
    return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
}
