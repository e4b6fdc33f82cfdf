/**
 * Draws recorded runs again from their JSON (after a renderer change, or to give old runs their
 * HTML page): the plots whose PlotSpec the JSON keeps, the Markdown report and the HTML page beside
 * the JSON, the latest/ copies when the run is the one latest/ holds, and the folders' index pages.
 * The JSON itself is never rewritten.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { renderSvg } from './charts/render.js';
import { nameOfStem, readRun } from './history.js';
import { plotFile, writeRunPages } from './report.js';
import { writeIndexes } from './resultsIndex.js';

export type RerenderedRun = {
  json: string;
  /** SVGs drawn again (plots with a recorded spec). */
  svgs: string[];
  /** Plots the JSON has no spec for (runs recorded before specs were kept): their SVG files are left as they are. */
  keptPlots: string[];
  markdown: string;
  html: string;
};

export type RerenderOutcome = { runs: RerenderedRun[]; indexes: string[] };

async function rerenderOne(json: string): Promise<RerenderedRun> {
  const record = await readRun(json);
  const dir = dirname(json);
  const stem = basename(json, '.json');
  const svgs = new Map<string, string>();
  const drawn: string[] = [];
  const kept: string[] = [];
  for (const p of record.plots) {
    const file = join(dir, plotFile(stem, p.id));
    if (p.spec) {
      const svg = await renderSvg(p.spec);
      await writeFile(file, svg);
      svgs.set(p.id, svg);
      drawn.push(file);
    } else {
      kept.push(p.id);
      const existing = await readFile(file, 'utf8').catch(() => null);
      if (existing) svgs.set(p.id, existing);
    }
  }
  const [markdown, html] = await writeRunPages(dir, stem, record, svgs);
  return { json, svgs: drawn, keptPlots: kept, markdown, html };
}

/** `<dir>/latest/<name>.json` when it is a copy of the run in `json` (same scenario and start), else null. */
async function latestCopyOf(json: string): Promise<string | null> {
  const dir = dirname(json);
  if (basename(dir) === 'latest') return null;
  const copy = join(dir, 'latest', `${nameOfStem(basename(json, '.json'))}.json`);
  const [a, b] = await Promise.all([readRun(json), readRun(copy).catch(() => null)]);
  return b && b.scenario === a.scenario && b.startedAt === a.startedAt ? copy : null;
}

/**
 * Draws each run in `jsonFiles` (paths of `<stem>.json` files a bench run wrote, or their latest/
 * copies) again: `<stem>-<plot id>.svg` from the plot specs its JSON records, `<stem>.md` and
 * `<stem>.html` beside it; the latest/ copies too when the run is the one latest/ holds; then
 * `index.html` of each results folder involved (and of its latest/). Throws TypeError for a file
 * that is not a run's JSON. `parley bench report <run.json...>` calls it.
 */
export async function rerenderRuns(jsonFiles: readonly string[]): Promise<RerenderOutcome> {
  const files = [...new Set(jsonFiles.map((f) => resolve(f)))];
  for (const f of [...files]) {
    const copy = await latestCopyOf(f);
    if (copy && !files.includes(copy)) files.push(copy);
  }
  const runs: RerenderedRun[] = [];
  for (const f of files) runs.push(await rerenderOne(f));
  const folders = new Set(files.map((f) => (basename(dirname(f)) === 'latest' ? dirname(dirname(f)) : dirname(f))));
  const indexes: string[] = [];
  for (const folder of folders) indexes.push(...(await writeIndexes(folder)));
  return { runs, indexes };
}
