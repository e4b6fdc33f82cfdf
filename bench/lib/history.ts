/**
 * The runs kept in a results folder, read back from their JSON files, and the history of each
 * scenario's headline figures across them: the figures that have an SLO (those in the run's `slo`
 * verdicts), one point per full run (smoke runs left out), the SLO bound as a reference line.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChartSpec } from './charts/vegaLite.js';
import type { RunRecord } from './report.js';

/** A run read back from `<dir>/<stem>.json`. */
export type StoredRun = {
  /** The JSON file's name without `.json`: `<name>-<UTC time>`, or `<name>` for a copy in latest/. */
  stem: string;
  /** The scenario, with its variant when it has one (`capacity-video`). */
  name: string;
  record: RunRecord;
};

const TIMESTAMP = /-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/;

/** `pipeline-2026-12-06T21-50-31Z` -> `pipeline`; a stem without a timestamp (latest/) is the name. */
export function nameOfStem(stem: string): string {
  return stem.replace(TIMESTAMP, '');
}

/** Whether parsed JSON has the fields a page and a history need (old or foreign JSON files are skipped). */
export function isRunRecord(v: unknown): v is RunRecord {
  const r = v as Partial<RunRecord> | null;
  return (
    typeof r === 'object' && r !== null && typeof r.scenario === 'string' && typeof r.startedAt === 'string' && typeof r.figures === 'object' && Array.isArray(r.slo) && Array.isArray(r.summary) && Array.isArray(r.plots) && typeof r.machine === 'object'
  );
}

/** Reads and checks one run's JSON; throws TypeError when it is not a bench run. */
export async function readRun(file: string): Promise<RunRecord> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!isRunRecord(parsed)) throw new TypeError(`${file} is not a bench run's JSON (scenario, startedAt, figures, slo, summary, plots, machine)`);
  return parsed;
}

/** Every run in `dir` (not its subfolders), oldest first; files that are not runs are skipped. */
export async function loadRuns(dir: string): Promise<StoredRun[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const runs: StoredRun[] = [];
  for (const f of files) {
    try {
      const record = await readRun(join(dir, f));
      const stem = f.slice(0, -'.json'.length);
      runs.push({ stem, name: nameOfStem(stem), record });
    } catch {
      // Not a run (or unreadable): not ours to show.
    }
  }
  return runs.sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt));
}

/** The newest run of each name, by name. */
export function latestByName(runs: readonly StoredRun[]): StoredRun[] {
  const latest = new Map<string, StoredRun>();
  for (const r of runs) {
    const seen = latest.get(r.name);
    if (!seen || seen.record.startedAt <= r.record.startedAt) latest.set(r.name, r);
  }
  return [...latest.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Headline figures of a name's runs: those with an SLO, the newest run's order first. */
export function headlineFigures(runs: readonly StoredRun[]): string[] {
  const figures: string[] = [];
  for (const r of [...runs].reverse()) for (const v of r.record.slo) if (!figures.includes(v.figure)) figures.push(v.figure);
  return figures;
}

/**
 * One plot per headline figure of `name`: x = run start, y = the figure in each full run that has it,
 * the newest run's SLO bound (max and/or min) as a reference line.
 */
export function historyPlots(name: string, runs: readonly StoredRun[]): ChartSpec[] {
  const full = runs.filter((r) => r.name === name && !r.record.smoke);
  return headlineFigures(full).map((figure) => {
    const points = full.flatMap((r) => {
      const v = r.record.figures[figure];
      return typeof v === 'number' && Number.isFinite(v) ? [[Date.parse(r.record.startedAt), v] as [number, number]] : [];
    });
    const bound = [...full].reverse().find((r) => r.record.slo.some((v) => v.figure === figure))?.record.slo.find((v) => v.figure === figure)?.bound ?? {};
    const marks = [
      ...(bound.max !== undefined ? [{ label: 'SLO max', y: bound.max }] : []),
      ...(bound.min !== undefined ? [{ label: 'SLO min', y: bound.min }] : []),
    ];
    return {
      id: `history-${figure}`,
      title: `${name}: ${figure}, per run (${points.length} of ${full.length} full runs have it)`,
      kind: 'line' as const,
      xTime: true,
      xLabel: 'run start (UTC)',
      yLabel: figure,
      series: [{ name: figure, points }],
      marks,
    };
  });
}
