/**
 * Writes a results folder's `index.html` and its `latest/index.html`: each scenario's latest run
 * (from the folder's runs, resp. the copies in latest/) and the history of its headline figures,
 * drawn from the full runs kept in the results folder (the same history on both pages).
 */
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderSvg } from './charts/render.js';
import { historyPlots, latestByName, loadRuns, type StoredRun } from './history.js';
import type { PagePlot } from './html/document.js';
import { indexPage, type IndexEntry } from './html/indexPage.js';

const exists = (file: string) => access(file).then(() => true, () => false);

/** Each name's history plots, drawn once for both pages. */
async function drawHistory(runs: readonly StoredRun[]): Promise<Map<string, PagePlot[]>> {
  const byName = new Map<string, PagePlot[]>();
  for (const name of new Set(runs.map((r) => r.name))) {
    const plots: PagePlot[] = [];
    for (const spec of historyPlots(name, runs)) plots.push({ title: spec.title, svg: await renderSvg(spec), file: null });
    byName.set(name, plots);
  }
  return byName;
}

async function entriesOf(dir: string, latest: readonly StoredRun[], all: readonly StoredRun[], history: ReadonlyMap<string, PagePlot[]>): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for (const run of latest) {
    const page = (await exists(join(dir, `${run.stem}.html`))) ? `${run.stem}.html` : `${run.stem}.md`;
    entries.push({
      latest: run,
      runs: all.filter((r) => r.name === run.name).length,
      links: { page, json: `${run.stem}.json`, markdown: `${run.stem}.md` },
      plots: run.record.plots.map((p) => ({ title: p.title, svg: null, file: `${run.stem}-${p.id}.svg` })),
      history: history.get(run.name) ?? [],
    });
  }
  return entries;
}

/**
 * Regenerates `<resultsDir>/index.html` and, when `<resultsDir>/latest/` holds runs,
 * `<resultsDir>/latest/index.html`. Returns the files written.
 */
export async function writeIndexes(resultsDir: string): Promise<string[]> {
  const runs = await loadRuns(resultsDir);
  const history = await drawHistory(runs);
  const written: string[] = [];
  const index = join(resultsDir, 'index.html');
  await writeFile(index, indexPage(await entriesOf(resultsDir, latestByName(runs), runs, history), runs.length, 'This folder'));
  written.push(index);
  const ldir = join(resultsDir, 'latest');
  const copies = await loadRuns(ldir);
  if (copies.length) {
    const lindex = join(ldir, 'index.html');
    await writeFile(lindex, indexPage(await entriesOf(ldir, latestByName(copies), runs, history), runs.length, 'The latest full run of each scenario (history: the runs in the folder above)'));
    written.push(lindex);
  }
  return written;
}
