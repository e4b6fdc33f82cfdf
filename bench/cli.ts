/**
 * `npm run bench -- ...`, the same command line as `parley bench ...` (bench/lib/cli/index.ts).
 * See bench/README.md.
 */
import { benchMain } from './lib/cli/index.js';

benchMain(process.argv.slice(2), 'npm run bench --').then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
