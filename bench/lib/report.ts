/**
 * What a run leaves behind: `<dir>/<scenario>-<timestamp>.json` (everything, raw samples and
 * each plot's PlotSpec included), `.md` (the report), `.html` (the same as a self-contained page,
 * plots inlined) and one `-<plot id>.svg` per plot; for full runs also stable copies under
 * `<dir>/latest/` (`<scenario>.json`, `.md`, `.html`, `<scenario>-<plot id>.svg`) for the READMEs
 * to link; and `index.html` of `<dir>` and of `<dir>/latest/` regenerated (./resultsIndex.ts).
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderSvg } from './charts/render.js';
import { runPage } from './html/runPage.js';
import { machineLine, type MachineDescription } from './machine.js';
import { writeIndexes } from './resultsIndex.js';
import { describeBound, type SloVerdict } from './slo.js';
import { markdownTable } from './table.js';
import type { OptionValues, PlotSpec, ScenarioResult } from './types.js';

export type RunRecord = {
  scenario: string;
  title: string;
  description: string;
  smoke: boolean;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  options: OptionValues;
  machine: MachineDescription;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  environment: Record<string, unknown>;
  figures: Record<string, number>;
  slo: SloVerdict[];
  summary: ScenarioResult['summary'];
  notes: string[];
  /** `file` is the SVG beside the JSON; `spec` (absent in runs recorded before it was kept) redraws it. */
  plots: RecordedPlot[];
  samples: unknown;
};

export type RecordedPlot = { id: string; title: string; file: string; spec?: PlotSpec };

export type WrittenFiles = {
  json: string;
  markdown: string;
  /** The run's HTML page. */
  html: string;
  svgs: string[];
  /** Copies under latest/ (full runs). */
  latest: string[];
  /** The index.html files regenerated. */
  indexes: string[];
};

/** A file-name-safe UTC timestamp: 2026-11-23T14-05-09Z. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export function markdownReport(r: RunRecord, plotFile: (id: string) => string, jsonFile: string): string {
  const lines: string[] = [];
  lines.push(`# Bench: ${r.scenario} — ${r.title}`, '');
  if (r.smoke) lines.push('**Smoke run**: tiny and fast, to keep the harness working; its figures mean nothing.', '');
  lines.push(`- Run: ${r.startedAt} to ${r.finishedAt} (${r.durationSeconds} s)`);
  lines.push(`- Machine: ${machineLine(r.machine)}; load average ${r.loadAverageAtStart.join(' / ')} at start, ${r.loadAverageAtEnd.join(' / ')} at end`);
  lines.push(`- Commit: ${r.machine.gitCommit}; Node ${r.machine.versions.node}, mediasoup ${r.machine.versions.mediasoup ?? '?'}`);
  lines.push(`- Raw samples and everything above: [${jsonFile}](${jsonFile}); as a page: [${jsonFile.replace(/\.json$/, '.html')}](${jsonFile.replace(/\.json$/, '.html')})`, '');
  lines.push('## Summary', '', markdownTable(r.summary), '');
  lines.push('## SLOs (bench/slo.yaml)', '');
  if (r.slo.length === 0) lines.push('_No SLO is set for this scenario._');
  for (const v of r.slo) lines.push(`- **${v.verdict.toUpperCase()}** ${describeBound(v.figure, v.bound)}: measured ${v.value ?? 'no data'}`);
  lines.push('', '## Figures', '', markdownTable(Object.entries(r.figures).map(([figure, value]) => ({ figure, value }))), '');
  if (r.plots.length) {
    lines.push('## Plots', '');
    for (const p of r.plots) lines.push(`![${p.title}](${plotFile(p.id)})`, '');
  }
  if (r.notes.length) {
    lines.push('## Notes', '');
    for (const n of r.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push('## Options', '', markdownTable(Object.entries(r.options).map(([option, value]) => ({ option, value: Array.isArray(value) ? value.join(',') : String(value) }))), '');
  const env = Object.entries(r.environment);
  if (env.length) lines.push('## Environment', '', markdownTable(env.map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }))), '');
  lines.push('## Versions', '', markdownTable(Object.entries(r.machine.versions).map(([name, version]) => ({ name, version }))), '');
  return `${lines.join('\n')}\n`;
}

/** The SVG of each plot of a run whose files are named `<stem>...`: `<stem>-<plot id>.svg`. */
export function plotFile(stem: string, id: string): string {
  return `${stem}-${id}.svg`;
}

/**
 * Writes the Markdown report and the HTML page of run `r` as `<dir>/<stem>.md` and `.html`, linking
 * `<stem>.json` and `<stem>-<plot id>.svg`; `svgs` (plot id -> SVG) are inlined in the page, plots
 * missing from it are linked. Returns [markdown, html].
 */
export async function writeRunPages(dir: string, stem: string, r: RunRecord, svgs: ReadonlyMap<string, string>): Promise<[string, string]> {
  const markdown = join(dir, `${stem}.md`);
  await writeFile(markdown, markdownReport(r, (id) => plotFile(stem, id), `${stem}.json`));
  const html = join(dir, `${stem}.html`);
  const plots = r.plots.map((p) => ({ title: p.title, svg: svgs.get(p.id) ?? null, file: plotFile(stem, p.id) }));
  await writeFile(html, runPage(r, plots, { json: `${stem}.json`, markdown: `${stem}.md`, index: 'index.html' }));
  return [markdown, html];
}

/** Draws every plot of `plots` to `<dir>/<stem>-<id>.svg`; returns plot id -> SVG. */
async function writePlots(dir: string, stem: string, plots: readonly PlotSpec[]): Promise<Map<string, string>> {
  const svgs = new Map<string, string>();
  for (const plot of plots) {
    const svg = await renderSvg(plot);
    await writeFile(join(dir, plotFile(stem, plot.id)), svg);
    svgs.set(plot.id, svg);
  }
  return svgs;
}

/** Writes the JSON, SVGs, report and page of a run into `dir` (and `dir/latest` unless smoke), then the folders' index pages. */
export async function writeRun(dir: string, r: RunRecord, result: ScenarioResult): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const name = result.variant ? `${r.scenario}-${result.variant}` : r.scenario;
  const stem = `${name}-${fileTimestamp(new Date(r.startedAt))}`;
  const svgMap = await writePlots(dir, stem, result.plots);
  const svgs = result.plots.map((p) => join(dir, plotFile(stem, p.id)));
  const record: RunRecord = { ...r, plots: result.plots.map((p) => ({ id: p.id, title: p.title, file: plotFile(stem, p.id), spec: p })) };
  const json = join(dir, `${stem}.json`);
  await writeFile(json, `${JSON.stringify(record, null, 1)}\n`);
  const [markdown, html] = await writeRunPages(dir, stem, record, svgMap);

  const latest: string[] = [];
  if (!r.smoke) {
    const ldir = join(dir, 'latest');
    await mkdir(ldir, { recursive: true });
    await copyFile(json, join(ldir, `${name}.json`));
    latest.push(join(ldir, `${name}.json`));
    for (const p of result.plots) {
      await copyFile(join(dir, plotFile(stem, p.id)), join(ldir, plotFile(name, p.id)));
      latest.push(join(ldir, plotFile(name, p.id)));
    }
    latest.push(...(await writeRunPages(ldir, name, record, svgMap)));
  }
  const indexes = await writeIndexes(dir);
  return { json, markdown, html, svgs, latest, indexes };
}
