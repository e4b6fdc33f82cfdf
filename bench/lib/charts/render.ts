/**
 * Renders a bench plot to a standalone SVG document with Vega-Lite and Vega, headless in Node:
 * no canvas (text widths from ./textWidth.ts), no DOM, and a loader that refuses every request,
 * so a render never reaches the network or the disk.
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { installTextMetrics } from './textWidth.js';
import { CHART_SIZE, toVegaLite, type ChartSpec } from './vegaLite.js';

type VegaWithMetrics = { textMetrics: Parameters<typeof installTextMetrics>[0] };
installTextMetrics((vega as unknown as VegaWithMetrics).textMetrics);

const refuse = async (uri: string): Promise<never> => {
  throw new Error(`bench plots load nothing (asked for ${uri})`);
};
const offlineLoader = { ...vega.loader(), load: refuse, sanitize: refuse, http: refuse, file: refuse };

async function toSvg(plot: ChartSpec, grow: { width: number; height: number }): Promise<string> {
  const { spec } = compile(toVegaLite(plot, grow));
  const view = new vega.View(vega.parse(spec), { renderer: 'none', loader: offlineLoader as unknown as vega.Loader, logLevel: vega.Error });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}

/** Width and height of an SVG document from its root element's attributes. */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  return { width: Number(/\swidth="([\d.]+)"/.exec(root)?.[1] ?? NaN), height: Number(/\sheight="([\d.]+)"/.exec(root)?.[1] ?? NaN) };
}

/**
 * The plot as an SVG document (`<svg xmlns=...>...</svg>`, white background) of about 820 x 480 px:
 * laid out from text-width estimates, measured, and laid out again with the plot area grown or
 * shrunk by what the estimate missed.
 */
export async function renderSvg(plot: ChartSpec): Promise<string> {
  const first = await toSvg(plot, { width: 0, height: 0 });
  const size = svgSize(first);
  const grow = { width: Math.round(CHART_SIZE.width - size.width), height: Math.round(CHART_SIZE.height - size.height) };
  if (!Number.isFinite(grow.width) || !Number.isFinite(grow.height) || (Math.abs(grow.width) < 4 && Math.abs(grow.height) < 4)) return first;
  return toSvg(plot, grow);
}
