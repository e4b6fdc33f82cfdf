/**
 * src/devkit (child processes, Chromium, a test signaling client) is shared by the tests and the
 * bench; the product must not import it (it needs development dependencies), and the bench must not
 * reach into tests/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const importsMatching = (files: string[], pattern: RegExp): string[] =>
  files.filter((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/from '([^']+)'/g)].some((m) => pattern.test(m[1]!)));

describe('devkit boundary', () => {
  it('no product file imports src/devkit', () => {
    const product = sources('src').filter((f) => !f.startsWith('src/devkit/') && !f.endsWith('.test.ts'));
    expect(product.length).toBeGreaterThan(100);
    expect(importsMatching(product, /\/devkit\//)).toEqual([]);
  });

  it('no bench file imports tests/', () => {
    const bench = sources('bench');
    expect(bench.length).toBeGreaterThan(20);
    expect(importsMatching(bench, /(^|\/)tests\//)).toEqual([]);
  });

  it('the check sees an import when there is one (not vacuous)', () => {
    expect(importsMatching(['src/devkit/cluster.ts'], /\/util\/ports\.js$/)).toEqual(['src/devkit/cluster.ts']);
  });
});
