/**
 * `parley bench compare`: two recorded runs side by side, noise from the runs themselves, and the exit
 * code a gate reads. The runs are real recorded pipeline runs (bench/results), and variants of one
 * with its SLO verdicts computed again by the bench's own SLO code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns, standardError, type RecordedRun } from '../bench/lib/compare.js';
import { evaluateSlo, loadSlo } from '../bench/lib/slo.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OLD = join(ROOT, 'bench/results/pipeline-2026-12-07T07-35-46Z.json');
const NEW = join(ROOT, 'bench/results/pipeline-2026-12-07T08-23-04Z.json');
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as RecordedRun;

/** The run with `family`'s figures scaled by `factor` (or shifted by `k` standard errors), verdicts recomputed. */
async function variant(base: RecordedRun, name: string, change: (figure: string, value: number) => number): Promise<string> {
  const figures = Object.fromEntries(Object.entries(base.figures).map(([f, v]) => [f, change(f, v)]));
  const slo = evaluateSlo(await loadSlo(join(ROOT, 'bench/slo.yaml')), base.scenario, figures);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ ...base, figures, slo }));
  return file;
}

const compare = (...args: string[]) => spawnSync(process.execPath, ['bin/parley.js', 'bench', 'compare', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('parley bench compare', () => {
  it('two recorded runs of the same code: within the noise, no SLO regression, exit 0', () => {
    const run = compare(OLD, NEW);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/e2e_from_mic_p50_ms \(SLO\)\s+899\s+867\s+-32/);
    expect(run.stdout).toContain('no SLO that passed in the old run fails in the new one');
  });

  it('a regression that fails an SLO exits 3 and names it; the noise of the same run does not', async () => {
    const base = read(NEW);
    const slowCaptions = await variant(base, 'slow', (f, v) => (f.startsWith('partial_interval_p') ? v * 2.5 : v));
    const se = (f: string) => standardError(base.figures, f) ?? 0;
    const noisy = await variant(base, 'noisy', (f, v) => v + 0.5 * se(f));

    const regressed = compare(NEW, slowCaptions);
    expect(regressed.status).toBe(3);
    expect(regressed.stdout).toMatch(/SLO REGRESSION partial_interval_p50_ms <= 300: PASS \(159\) -> FAIL \(397\.5\)/);
    expect(regressed.stdout).toMatch(/partial_interval_p50_ms \(SLO\).*beyond noise, worse/);

    const jitter = compare(NEW, noisy);
    expect(jitter.status).toBe(0);
    expect(jitter.stdout).not.toContain('beyond noise');
  });

  it('repeats on a side add their spread to the noise', () => {
    const a = read(OLD);
    const b = read(NEW);
    const one = compareRuns([a], [b]).figures.find((f) => f.figure === 'e2e_from_mic_p50_ms')!;
    const both = compareRuns([a, b], [b]).figures.find((f) => f.figure === 'e2e_from_mic_p50_ms')!;
    expect(one.noise).not.toBeNull();
    expect(both.old).toBe((899 + 867) / 2);
    expect(both.noise).not.toBe(one.noise);
  });

  it('refuses runs of different scenarios and files that are not runs, with exit 2', async () => {
    const other = join(ROOT, 'bench/results/latest/failover.json');
    const mixed = compare(OLD, other);
    expect(mixed.status).toBe(2);
    expect(mixed.stdout).toContain('different scenarios (pipeline, failover)');
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"hello": 1}');
    const bad = compare(OLD, junk);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toContain('is not a bench run');
    expect(compare('--help').status).toBe(0);
  });
});
