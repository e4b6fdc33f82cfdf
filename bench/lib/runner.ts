/**
 * Runs one scenario: options, machine description, the scenario itself with
 * its cleanups guaranteed, then the summary table, SLO verdicts and the files.
 */
import os from 'node:os';
import { createContext, type OwnedContext } from './context.js';
import { describeMachine } from './machine.js';
import { parseOptions } from './options.js';
import type { Progress } from './progress.js';
import { writeRun, type RunRecord, type WrittenFiles } from './report.js';
import { evaluateSlo, verdictLines, type SloConfig, type SloVerdict } from './slo.js';
import { textTable } from './table.js';
import type { RemoteTarget, Scenario } from './types.js';

export type RunOptions = {
  smoke: boolean;
  /** Where the files go (bench/results, or bench/results/smoke for smoke runs). */
  outDir: string;
  /** Absolute path of bench/results, given to the scenario. */
  resultsDir: string;
  slo: SloConfig;
  progress: Progress;
  /** `--target`: measure this deployment instead of starting gateways (scenarios that support it). */
  target?: RemoteTarget | null;
  /** Printed output (the table, verdicts, file list); stdout by default. */
  print?: (text: string) => void;
  /** Receives the live context so a signal handler can abort it and run its cleanups. */
  onContext?: (ctx: OwnedContext | null) => void;
};

export type RunOutcome = { verdicts: SloVerdict[]; files: WrittenFiles };

const loadavg = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

export async function runScenario(scenario: Scenario, argv: readonly string[], o: RunOptions): Promise<RunOutcome> {
  const print = o.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const options = parseOptions(scenario.options, argv, o.smoke);
  const machine = await describeMachine();
  const started = new Date();
  const loadAtStart = loadavg();
  if (o.target && !scenario.remote) throw new Error(`${scenario.name} cannot run against --target (it starts the parts it measures)`);
  const ctx = createContext({ smoke: o.smoke, resultsDir: o.resultsDir, progress: o.progress, target: o.target ?? null });
  o.onContext?.(ctx);
  o.progress.log(`bench ${scenario.name}${o.smoke ? ' (smoke)' : ''}: ${scenario.title}`);
  let result;
  try {
    result = await scenario.run(ctx, options);
  } finally {
    o.progress.finish();
    await ctx.cleanup();
    o.onContext?.(null);
  }
  const finished = new Date();
  const verdicts = evaluateSlo(o.slo, scenario.name, result.figures);
  const record: RunRecord = {
    scenario: scenario.name,
    title: scenario.title,
    description: scenario.description,
    smoke: o.smoke,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    options,
    machine,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg(),
    environment: { ...(result.environment ?? {}), ...(o.target ? { target: o.target.urls } : {}) },
    figures: result.figures,
    slo: verdicts,
    summary: result.summary,
    notes: o.target && scenario.remote?.unavailable.length ? [`measured from outside ${o.target.urls.join(', ')}: not available there: ${scenario.remote.unavailable.join('; ')}`, ...result.notes] : result.notes,
    plots: [],
    samples: result.samples,
  };
  const files = await writeRun(o.outDir, record, result);

  print('');
  print(`== ${scenario.name}${o.smoke ? ' (smoke: figures not meaningful)' : ''} — ${record.durationSeconds} s, load ${loadAtStart[0]} -> ${record.loadAverageAtEnd[0]} ==`);
  print(textTable(result.summary));
  print('');
  for (const line of verdictLines(scenario.name, verdicts)) print(line);
  if (verdicts.length === 0) print(`SLO none set for ${scenario.name} in bench/slo.yaml`);
  for (const n of record.notes) print(`note: ${n}`);
  print(`wrote ${[files.json, files.markdown, files.html, ...files.svgs].join('\n      ')}`);
  if (files.indexes.length) print(`index ${files.indexes.join('\n      ')}`);
  if (files.latest.length) print(`latest copies in ${o.outDir}/latest/`);
  return { verdicts, files };
}
