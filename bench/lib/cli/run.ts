/**
 * Running scenarios: `parley bench <scenario|all> [--smoke] [--target ...] [--<option> <value>]`
 * (also `npm run bench -- ...`). See bench/README.md.
 */
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OwnedContext } from '../context.js';
import { loadScenario, scenarioNames } from '../discover.js';
import { optionsHelp } from '../options.js';
import { createProgress } from '../progress.js';
import { runScenario } from '../runner.js';
import { loadSlo } from '../slo.js';
import { takeTarget, TARGET_HELP, targetResultsDir } from './target.js';

const BENCH = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(BENCH, 'results');
/** Where scenarios are listed from; BENCH_SCENARIOS_DIR overrides it (the harness's own tests). */
const SCENARIOS = process.env.BENCH_SCENARIOS_DIR || undefined;

const usage = (prog: string) => `Usage: ${prog} <scenario|all> [--smoke] [--target <url> ...] [scenario options]
       ${prog} compare <old.json> <new.json>    figures side by side, beyond-noise changes, SLO regressions
       ${prog} report <run.json>...             draw a recorded run's plots and HTML page again

Global options:
  --smoke              tiny and fast run (what CI runs); results go to bench/results/smoke/ (not committed)
  --results-dir <dir>  write the results there instead
  --slo <file>         SLO file (default bench/slo.yaml)
  --fail-on-slo        exit with 3 when an SLO fails (default: verdicts are reported, exit 0)
  --quiet-load <n>     before each scenario, wait for the 1-minute load average to drop below n
  --quiet-wait <s>     ... for at most this many seconds, then run anyway (default 900)
  --help               this text; "<scenario> --help" lists the scenario's options

${TARGET_HELP}

Each run prints a progress bar (stderr), the summary table and the SLO verdicts, and writes
<results>/<scenario>-<timestamp>.json (raw samples, options, figures, verdicts, machine), .md
(report) and -<plot>.svg; full runs also refresh <results>/latest/<scenario>.{json,md} and plots.`;

type Globals = { smoke: boolean; help: boolean; resultsDir: string | null; slo: string; failOnSlo: boolean; quietLoad: number | null; quietWaitS: number; rest: string[] };

function splitGlobals(argv: string[]): Globals {
  const g: Globals = { smoke: false, help: false, resultsDir: null, slo: join(BENCH, 'slo.yaml'), failOnSlo: false, quietLoad: null, quietWaitS: 900, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--smoke') g.smoke = true;
    else if (a === '--help' || a === '-h') g.help = true;
    else if (a === '--fail-on-slo') g.failOnSlo = true;
    else if (a === '--quiet-load') {
      g.quietLoad = Number(argv[++i]);
      if (!(g.quietLoad > 0)) throw new TypeError('--quiet-load needs a positive number');
    } else if (a === '--quiet-wait') {
      g.quietWaitS = Number(argv[++i]);
      if (!(g.quietWaitS >= 0)) throw new TypeError('--quiet-wait needs a number of seconds');
    } else if (a === '--results-dir' || a === '--slo') {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`${a} needs a value`);
      if (a === '--slo') g.slo = v;
      else g.resultsDir = v;
    } else if (a.startsWith('--results-dir=')) g.resultsDir = a.slice('--results-dir='.length);
    else if (a.startsWith('--slo=')) g.slo = a.slice('--slo='.length);
    else g.rest.push(a);
  }
  return g;
}

async function listHelp(prog: string): Promise<string> {
  const lines = [usage(prog), '', 'Scenarios:'];
  for (const name of await scenarioNames(SCENARIOS)) {
    const loaded = await loadScenario(name, SCENARIOS);
    const first = loaded.error?.split('\n')[0];
    const remote = loaded.scenario?.remote ? ' [--target]' : '';
    lines.push(`  ${name.padEnd(10)}  ${loaded.scenario ? loaded.scenario.title : `(cannot load: ${first})`}${remote}`);
  }
  lines.push('  all         every scenario, one after another (usually with --smoke)');
  return lines.join('\n');
}

/** Waits until the 1-minute load average is below `limit` (the machine is shared), at most `waitS` seconds. */
async function quiet(limit: number, waitS: number, progress: ReturnType<typeof createProgress>): Promise<void> {
  const deadline = Date.now() + waitS * 1000;
  while (os.loadavg()[0]! >= limit && Date.now() < deadline) {
    progress.update(0, 1, `waiting for the load average (${os.loadavg()[0]!.toFixed(1)}) to drop below ${limit}`);
    await new Promise((r) => setTimeout(r, 5000));
  }
  progress.finish();
  if (os.loadavg()[0]! >= limit) progress.log(`load average still ${os.loadavg()[0]!.toFixed(1)} after ${waitS} s: running anyway`);
}

/** `<scenario|all> ...`: runs scenarios; returns the exit code (0, 1 a run failed, 2 usage, 3 SLO failed with --fail-on-slo). */
export async function runScenarios(argv: string[], prog: string): Promise<number> {
  const { target, rest } = takeTarget(argv);
  const g = splitGlobals(rest);
  const [name, ...scenarioArgs] = g.rest;
  if (!name || name.startsWith('--')) {
    process.stdout.write(`${await listHelp(prog)}\n`);
    return g.help ? 0 : 2;
  }
  const names = await scenarioNames(SCENARIOS);
  if (name !== 'all' && !names.includes(name)) {
    process.stderr.write(`unknown scenario "${name}"; known: ${names.join(', ')}\n`);
    return 2;
  }
  if (name === 'all' && scenarioArgs.length > 0) {
    process.stderr.write('"all" takes only the global options (--smoke, --results-dir, --slo, --fail-on-slo)\n');
    return 2;
  }
  const selected = name === 'all' ? names : [name];
  if (g.help && name !== 'all') {
    const loaded = await loadScenario(name, SCENARIOS);
    if (!loaded.scenario) throw new Error(`scenario "${name}" failed to load:\n${loaded.error}`);
    const s = loaded.scenario;
    const remote = s.remote
      ? `\n\nWith --target <url> it measures a deployment from here${s.remote.unavailable.length ? `; not measurable from outside: ${s.remote.unavailable.join('; ')}` : ''}.`
      : '\n\nIt starts what it measures on this machine (no --target).';
    process.stdout.write(`${prog} ${s.name} [--smoke] [options]\n\n${s.title}\n\n${s.description}${remote}\n\nOptions:\n${optionsHelp(s.options)}\n`);
    return 0;
  }

  const slo = await loadSlo(g.slo);
  const outDir = g.resultsDir ?? (g.smoke ? join(RESULTS, 'smoke') : target ? targetResultsDir(RESULTS, target) : RESULTS);
  const progress = createProgress();
  let live: OwnedContext | null = null;
  let interrupted = 0;
  process.on('SIGINT', () => {
    interrupted += 1;
    if (interrupted > 1 || !live) process.exit(130);
    progress.log('interrupted: stopping what the scenario started (Ctrl-C again to quit at once)');
    const ctx = live;
    ctx.abort('interrupted');
    void ctx.cleanup().finally(() => process.exit(130));
  });

  let failedRuns = 0;
  let failedSlos = 0;
  for (const n of selected) {
    const loaded = await loadScenario(n, SCENARIOS);
    if (!loaded.scenario) {
      process.stderr.write(`scenario "${n}" failed to load:\n${loaded.error}\n`);
      failedRuns += 1;
      continue;
    }
    if (target && !loaded.scenario.remote) {
      if (name === 'all') {
        progress.log(`${n}: skipped (it starts what it measures; no --target)`);
        continue;
      }
      process.stderr.write(`${n} cannot run against --target: it starts the parts it measures on this machine\n`);
      return 2;
    }
    if (g.quietLoad !== null) await quiet(g.quietLoad, g.quietWaitS, progress);
    try {
      const outcome = await runScenario(loaded.scenario, scenarioArgs, { smoke: g.smoke, outDir, resultsDir: RESULTS, slo, progress, target, onContext: (c) => (live = c) });
      failedSlos += outcome.verdicts.filter((v) => v.verdict === 'fail').length;
    } catch (err) {
      failedRuns += 1;
      process.stderr.write(`bench ${n} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  if (failedRuns > 0) return 1;
  return g.failOnSlo && failedSlos > 0 ? 3 : 0;
}
