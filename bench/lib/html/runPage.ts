/**
 * One run as a self-contained HTML page (`<stem>.html` beside `<stem>.json`): the summary table,
 * the SLO verdicts coloured PASS/FAIL, the figures, the plots inlined, the notes, the machine and
 * its load average, options, environment and versions.
 */
import { machineLine } from '../machine.js';
import type { RunRecord } from '../report.js';
import { escapeHtml, formatTime, href, htmlDocument, htmlTable, keyValueTable, plotFigure, verdictCounts, verdictTable, type PagePlot } from './document.js';

export type RunPageLinks = {
  /** The run's JSON and Markdown report, and the folder's index page, relative to the page. */
  json: string;
  markdown: string;
  index: string;
};

/** The page of run `r`; `plots` in the record's order, each inlined when its SVG is given. */
export function runPage(r: RunRecord, plots: readonly PagePlot[], links: RunPageLinks): string {
  const b: string[] = [];
  const e = escapeHtml;
  b.push(`<nav><a href="${href(links.index)}">all runs (index)</a><a href="${href(links.json)}">JSON (raw samples)</a><a href="${href(links.markdown)}">Markdown report</a></nav>`);
  b.push(`<h1>Bench: ${e(r.scenario)} — ${e(r.title)}</h1>`);
  if (r.smoke) b.push('<p class="smoke"><strong>Smoke run</strong>: tiny and fast, to keep the harness working; its figures mean nothing.</p>');
  b.push('<ul class="meta">');
  b.push(`<li>Run: ${e(formatTime(r.startedAt))} to ${e(formatTime(r.finishedAt))} (${e(String(r.durationSeconds))} s); SLOs: ${e(verdictCounts(r.slo))}</li>`);
  b.push(`<li>Machine: ${e(machineLine(r.machine))} (${e(r.machine.hostname)})</li>`);
  b.push(`<li>Load average (1 / 5 / 15 min): ${e(r.loadAverageAtStart.join(' / '))} at start, ${e(r.loadAverageAtEnd.join(' / '))} at end, on ${e(String(r.machine.cores))} cores</li>`);
  b.push(`<li>Commit ${e(r.machine.gitCommit)}; Node ${e(r.machine.versions.node ?? '?')}, mediasoup ${e(r.machine.versions.mediasoup ?? '?')}</li>`);
  b.push('</ul>');
  if (r.description) b.push(`<details><summary>What this scenario measures</summary><pre class="description">${e(r.description)}</pre></details>`);
  b.push('<h2>Summary</h2>', htmlTable(r.summary));
  b.push('<h2>SLOs (bench/slo.yaml)</h2>', verdictTable(r.slo));
  b.push('<h2>Figures</h2>', htmlTable(Object.entries(r.figures).map(([figure, value]) => ({ figure, value }))));
  if (plots.length) b.push('<h2>Plots</h2>', ...plots.map(plotFigure));
  if (r.notes.length) b.push('<h2>Notes</h2>', `<ul>\n${r.notes.map((n) => `<li>${e(n)}</li>`).join('\n')}\n</ul>`);
  b.push('<h2>Options</h2>', keyValueTable(r.options, 'option', 'value'));
  if (Object.keys(r.environment).length) b.push('<h2>Environment</h2>', keyValueTable(r.environment, 'key', 'value'));
  b.push('<h2>Versions</h2>', keyValueTable(r.machine.versions, 'name', 'version'));
  return htmlDocument(`Bench: ${r.scenario} ${r.startedAt}`, b.join('\n'));
}
