/**
 * `compare <old.json>[,<old2.json>...] <new.json>[,<new2.json>...]`: the figures of two runs (or two
 * sets of repeats) of one scenario side by side, and the exit code a gate reads.
 */
import { readFile } from 'node:fs/promises';
import { compareRuns, comparisonRows, notable, type RecordedRun, type SloChange } from '../compare.js';
import { describeBound } from '../slo.js';
import { textTable } from '../table.js';

export const COMPARE_USAGE = (prog: string) => `Usage: ${prog} compare <old.json> <new.json> [--strict] [--all]

Prints every figure of two runs of one scenario side by side: old, new, the change, the run-to-run
noise the runs themselves show (from each figure's spread and sample count, and the spread across
repeats when a side lists several runs: a.json,b.json), and whether the change is beyond it.

  --all      list every figure (default: figures with an SLO, changes beyond the noise, and
             figures only one run has)
  --strict   an SLO that passed in the old run and has no data in the new one fails too

Exit codes: 0 no SLO regression; 3 an SLO that passed in the old run fails in the new one (a flip
within the run-to-run noise is marked so, and still fails: re-run to confirm); 2 bad usage or
unreadable runs.`;

async function loadRuns(list: string): Promise<RecordedRun[]> {
  const files = list.split(',').filter(Boolean);
  return Promise.all(
    files.map(async (file) => {
      let run: RecordedRun;
      try {
        run = JSON.parse(await readFile(file, 'utf8')) as RecordedRun;
      } catch (err) {
        throw new TypeError(`cannot read run ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (typeof run.scenario !== 'string' || typeof run.figures !== 'object' || !Array.isArray(run.slo)) throw new TypeError(`${file} is not a bench run (no scenario, figures and slo)`);
      return run;
    }),
  );
}

const sloLine = (c: SloChange) => `${describeBound(c.figure, c.bound)}: ${c.old.toUpperCase()} (${c.oldValue ?? 'no data'}) -> ${c.new.toUpperCase()} (${c.newValue ?? 'no data'})`;

export async function runCompare(args: string[], prog: string, print: (s: string) => void): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    print(COMPARE_USAGE(prog));
    return 0;
  }
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const files = args.filter((a) => !a.startsWith('--'));
  const unknown = [...flags].filter((f) => f !== '--strict' && f !== '--all');
  if (files.length !== 2 || unknown.length) {
    print(unknown.length ? `unknown option ${unknown.join(', ')}\n\n${COMPARE_USAGE(prog)}` : COMPARE_USAGE(prog));
    return 2;
  }
  let olds: RecordedRun[];
  let news: RecordedRun[];
  let c;
  try {
    [olds, news] = await Promise.all([loadRuns(files[0]!), loadRuns(files[1]!)]);
    c = compareRuns(olds, news);
  } catch (err) {
    print(`${prog} compare: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const describe = (runs: RecordedRun[]) => runs.map((r) => `${r.startedAt} (commit ${r.machine?.gitCommit ?? '?'}${r.smoke ? ', smoke' : ''})`).join(', ');
  print(`${c.scenario}: old ${describe(olds)}\n${' '.repeat(c.scenario.length)}  new ${describe(news)}\n`);
  const shown = c.figures.filter((f) => flags.has('--all') || notable(f));
  const hidden = c.figures.length - shown.length;
  print(shown.length ? textTable(comparisonRows(shown)) : '(no figure with an SLO, and every change within the run-to-run noise)');
  if (hidden > 0) print(`(${hidden} other figure(s) within the noise or of unknown noise not shown; --all lists them)`);
  print('');
  const strict = flags.has('--strict');
  const failing = c.regressions.filter((r) => r.new === 'fail' || strict);
  for (const r of c.regressions) {
    const label = r.new === 'fail' ? 'SLO REGRESSION' : `SLO no data   `;
    const note = r.new === 'fail' ? (r.withinNoise ? ' (within the noise: re-run to confirm)' : '') : strict ? '' : ' (not gating without --strict)';
    print(`${label} ${sloLine(r)}${note}`);
  }
  for (const r of c.fixed) print(`SLO fixed      ${sloLine(r)}`);
  if (c.regressions.length === 0) print('no SLO that passed in the old run fails in the new one');
  return failing.length > 0 ? 3 : 0;
}
