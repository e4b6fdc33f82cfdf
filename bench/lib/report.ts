/**
 * What a run leaves behind: `<dir>/<scenario>-<timestamp>.json` (everything, raw samples
 * included), `.md` (the report) and one `-<plot id>.svg` per plot; for full runs also
 * stable copies under `<dir>/latest/` (`<scenario>.json`, `<scenario>.md`,
 * `<scenario>-<plot id>.svg`) for the READMEs to link.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { machineLine, type MachineDescription } from './machine.js';
import { describeBound, type SloVerdict } from './slo.js';
import { renderSvg } from './svg.js';
import { markdownTable } from './table.js';
import type { OptionValues, ScenarioResult } from './types.js';

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
  plots: Array<{ id: string; title: string; file: string }>;
  samples: unknown;
};

export type WrittenFiles = { json: string; markdown: string; svgs: string[]; latest: string[] };

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
  lines.push(`- Raw samples and everything above: [${jsonFile}](${jsonFile})`, '');
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

/** Writes the JSON, SVGs and report of a run into `dir` (and `dir/latest` unless smoke). */
export async function writeRun(dir: string, r: RunRecord, result: ScenarioResult): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const name = result.variant ? `${r.scenario}-${result.variant}` : r.scenario;
  const stem = `${name}-${fileTimestamp(new Date(r.startedAt))}`;
  const svgs: string[] = [];
  for (const plot of result.plots) {
    const file = join(dir, `${stem}-${plot.id}.svg`);
    await writeFile(file, renderSvg(plot));
    svgs.push(file);
  }
  const record: RunRecord = { ...r, plots: result.plots.map((p) => ({ id: p.id, title: p.title, file: `${stem}-${p.id}.svg` })) };
  const json = join(dir, `${stem}.json`);
  await writeFile(json, `${JSON.stringify(record, null, 1)}\n`);
  const markdown = join(dir, `${stem}.md`);
  await writeFile(markdown, markdownReport(record, (id) => `${stem}-${id}.svg`, `${stem}.json`));

  const latest: string[] = [];
  if (!r.smoke) {
    const ldir = join(dir, 'latest');
    await mkdir(ldir, { recursive: true });
    const copy = async (from: string, name: string) => {
      await copyFile(from, join(ldir, name));
      latest.push(join(ldir, name));
    };
    await copy(json, `${name}.json`);
    for (const p of result.plots) await copy(join(dir, `${stem}-${p.id}.svg`), `${name}-${p.id}.svg`);
    const lmd = join(ldir, `${name}.md`);
    await writeFile(lmd, markdownReport(record, (id) => `${name}-${id}.svg`, `${name}.json`));
    latest.push(lmd);
  }
  return { json, markdown, svgs, latest };
}
