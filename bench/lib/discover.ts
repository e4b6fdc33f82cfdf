/**
 * Scenarios are found by listing bench/scenarios/*.ts and imported only when
 * needed, so a new file plugs in without a registry and a file that fails to
 * import only fails when it is selected (`--help` lists it as broken).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Scenario } from './types.js';

export const SCENARIOS_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));

export type Loaded = { name: string; file: string; scenario: Scenario | null; error: string | null };

/** Scenario names (file stems), sorted. */
export async function scenarioNames(dir = SCENARIOS_DIR): Promise<string[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function isScenario(v: unknown): v is Scenario {
  const s = v as Scenario | null;
  return typeof s === 'object' && s !== null && typeof s.name === 'string' && typeof s.run === 'function' && Array.isArray(s.options);
}

/** Imports one scenario file; a failed import or a file without `scenario` is reported, not thrown. */
export async function loadScenario(name: string, dir = SCENARIOS_DIR): Promise<Loaded> {
  const file = join(dir, `${name}.ts`);
  try {
    const mod = (await import(pathToFileURL(file).href)) as { scenario?: unknown };
    if (!isScenario(mod.scenario)) return { name, file, scenario: null, error: `${file} does not export "scenario" (a Scenario from bench/lib/types.ts)` };
    return { name, file, scenario: mod.scenario, error: null };
  } catch (err) {
    return { name, file, scenario: null, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}
