#!/usr/bin/env node
// Runs vitest (arguments passed through), then prints one plain closing line
// "tests: N passed, N failed, N skipped" that any CI can read; exits with vitest's code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.cache', 'vitest-results.json');
mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) {
    console.error('no test ran');
    process.exit(1);
  }
} else {
  console.log('tests: 0 passed, 1 failed (vitest wrote no results)');
}
process.exit(run.status ?? 1);
