/**
 * The results folder's `index.html`: an overview of every scenario, then per scenario its latest
 * run (SLO verdicts, summary, plots linked) and the history of its headline figures (inlined).
 */
import { machineLine } from '../machine.js';
import type { StoredRun } from '../history.js';
import { escapeHtml, formatTime, href, htmlDocument, htmlTable, plotFigure, verdictCounts, verdictTable, type PagePlot } from './document.js';

export type IndexEntry = {
  /** The scenario's latest run. */
  latest: StoredRun;
  /** How many runs of it the folder keeps (full and smoke). */
  runs: number;
  /** The latest run's page, JSON and report, relative to the index. */
  links: { page: string; json: string; markdown: string };
  plots: PagePlot[];
  history: PagePlot[];
};

const anchor = (name: string) => `scenario-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

function overview(entries: readonly IndexEntry[]): string {
  const rows = entries.map((x) => {
    const r = x.latest.record;
    const fail = r.slo.some((v) => v.verdict === 'fail');
    return `<tr class="${fail ? 'fail' : r.slo.length ? 'pass' : ''}"><td><a href="#${anchor(x.latest.name)}">${escapeHtml(x.latest.name)}</a></td><td>${escapeHtml(r.title)}</td><td>${escapeHtml(formatTime(r.startedAt))}${r.smoke ? ' (smoke)' : ''}</td><td>${escapeHtml(verdictCounts(r.slo))}</td><td class="num">${x.runs}</td><td><a href="${href(x.links.page)}">page</a></td></tr>`;
  });
  return `<table>\n<tr><th>scenario</th><th>what</th><th>latest run</th><th>SLOs</th><th>runs kept</th><th></th></tr>\n${rows.join('\n')}\n</table>`;
}

function section(x: IndexEntry): string {
  const r = x.latest.record;
  const e = escapeHtml;
  const b: string[] = [];
  b.push(`<h2 id="${anchor(x.latest.name)}">${e(x.latest.name)} — ${e(r.title)}</h2>`);
  b.push(
    `<p class="meta">Latest run ${e(formatTime(r.startedAt))} (${e(String(r.durationSeconds))} s)${r.smoke ? ', <strong>smoke</strong>' : ''}; ${e(machineLine(r.machine))}; load average ${e(r.loadAverageAtStart.join(' / '))} at start, ${e(r.loadAverageAtEnd.join(' / '))} at end; commit ${e(r.machine.gitCommit)}. <a href="${href(x.links.page)}">Run page</a>, <a href="${href(x.links.json)}">JSON</a>, <a href="${href(x.links.markdown)}">report</a>.</p>`,
  );
  b.push('<h3>SLOs</h3>', verdictTable(r.slo));
  b.push('<h3>Summary</h3>', htmlTable(r.summary));
  if (x.plots.length) b.push('<h3>Plots</h3>', ...x.plots.map(plotFigure));
  b.push('<h3>History of the headline figures</h3>');
  if (x.history.length === 0) b.push('<p><em>No headline figure (no SLO) or no full run of this scenario here.</em></p>');
  b.push(...x.history.map(plotFigure));
  return b.join('\n');
}

/** The index page of `entries` (one per scenario, in order); `runCount` = runs in the folder. */
export function indexPage(entries: readonly IndexEntry[], runCount: number, where: string): string {
  const body = [
    '<h1>Bench results</h1>',
    `<p class="meta">${escapeHtml(where)}: ${runCount} run(s) of ${entries.length} scenario(s). Each scenario's latest run, then its headline figures (those with an SLO in bench/slo.yaml) across the full runs kept here; smoke runs are left out of the history.</p>`,
    entries.length ? overview(entries) : '<p><em>No runs here yet.</em></p>',
    ...entries.map(section),
  ];
  return htmlDocument('Bench results', body.join('\n'));
}
