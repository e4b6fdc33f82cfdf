import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { configSchema, loadConfig } from './load.js';

const SAMPLE = fileURLToPath(new URL('../../parley.sample.yaml', import.meta.url));

function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('parley.sample.yaml', () => {
  it('documents exactly the configuration keys, with their defaults', () => {
    const sample = parse(readFileSync(SAMPLE, 'utf8')) as unknown;
    const defaults = configSchema.parse({});
    expect(keyPaths(sample).sort()).toEqual(keyPaths(defaults).sort());
    // Through loadConfig on both sides: it fills what depends on other keys (http.host from the mode).
    expect(loadConfig({ file: SAMPLE, env: {} })).toEqual(loadConfig({ env: {} }));
  });
});
