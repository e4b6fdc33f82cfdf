/**
 * The bench's command line, shared by `parley bench ...` (src/cli/main.ts) and `npm run bench -- ...`
 * (bench/cli.ts): run scenarios, compare two runs, or draw a recorded run again.
 */
import { runCompare } from './compare.js';
import { runReport } from './report.js';
import { runScenarios } from './run.js';

/** Returns the process exit code. `prog` is how the user called us, for the help texts. */
export async function benchMain(argv: string[], prog = 'parley bench'): Promise<number> {
  const print = (s: string) => process.stdout.write(`${s}\n`);
  try {
    if (argv[0] === 'compare') return await runCompare(argv.slice(1), prog, print);
    if (argv[0] === 'report') return await runReport(argv.slice(1), prog, print);
    return await runScenarios(argv, prog);
  } catch (err) {
    process.stderr.write(`${prog}: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof TypeError ? 2 : 1;
  }
}
