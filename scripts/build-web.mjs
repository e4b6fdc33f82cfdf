#!/usr/bin/env node
// Bundles the browser client: src/web/main.ts -> dist/web/app.js (+ map), and copies the page
// and its stylesheet next to it. Works from any cwd.

import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'web');
const outDir = join(root, 'dist', 'web');

const started = performance.now();
try {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: [join(srcDir, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome110',
    minify: true,
    sourcemap: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  await Promise.all(['index.html', 'styles.css'].map((file) => copyFile(join(srcDir, file), join(outDir, file))));
} catch (err) {
  // esbuild has already printed its diagnostics
  console.error(`[web] build failed: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
  process.exit(1);
}
console.log(`[web] built dist/web in ${Math.round(performance.now() - started)} ms`);
