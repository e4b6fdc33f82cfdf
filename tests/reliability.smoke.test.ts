/**
 * The reliability suites stay runnable and their invariants hold: `chaos --smoke` and
 * `soak --smoke` through the bench CLI as child processes (BENCH_SCENARIOS_DIR=bench/reliability),
 * results in a temp dir; checks the shape of what they leave and that no failure or error was
 * counted. No timing is asserted: the suites report timings, their SLO file judges them.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runBenchCli, type Run } from './helpers/benchCli.js';

const OUT = mkdtempSync(join(tmpdir(), 'parley-reliability-smoke-'));

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/** `tsx bench/cli.ts <suite> --smoke` with the reliability scenarios, results in `dir`. */
function suite(name: string, dir: string, timeoutMs: number, extra: string[] = []): Promise<Run> {
  const args = [name, '--smoke', '--results-dir', dir, '--slo', 'bench/reliability/slo.yaml', ...extra];
  return runBenchCli(args, { BENCH_SCENARIOS_DIR: join(ROOT, 'bench/reliability') }, timeoutMs);
}

type Record_ = {
  scenario: string;
  smoke: boolean;
  machine: { cores: number };
  figures: Record<string, number>;
  slo: Array<{ figure: string; verdict: string }>;
  summary: Array<Record<string, unknown>>;
  notes: string[];
  samples: Record<string, unknown>;
};

/** The run's JSON (with its Markdown report and plots beside it), checked for shape. */
function outputs(dir: string, name: string, run: Run, plots: string[]): Record_ {
  expect(run.code, run.stderr.slice(-4000)).toBe(0);
  const files = readdirSync(dir);
  const json = files.find((f) => f.startsWith(`${name}-`) && f.endsWith('.json'));
  expect(json, `results JSON of ${name} in ${files.join(', ')}`).toBeDefined();
  expect(files.some((f) => f.startsWith(`${name}-`) && f.endsWith('.md'))).toBe(true);
  for (const p of plots) expect(files.some((f) => f.endsWith(`-${p}.svg`)), `plot ${p}`).toBe(true);
  const record = JSON.parse(readFileSync(join(dir, json!), 'utf8')) as Record_;
  expect(record.scenario).toBe(name);
  expect(record.smoke).toBe(true);
  expect(record.machine.cores).toBeGreaterThan(0);
  expect(record.summary.length).toBeGreaterThan(0);
  expect(record.slo.map((v) => v.figure)).toContain({ chaos: 'failures', soak: 'errors', hostile: 'invariant_failures' }[name]);
  expect(run.stdout).toMatch(new RegExp(`SLO \\w+\\s+${name}:`));
  return record;
}

const KINDS = ['replica-kill', 'redis-restart', 'worker-kill', 'ai-worker-kill', 'replica-pause'];

describe('reliability suites (--smoke)', () => {
  it('chaos: each fault kind once on a live 3-replica call, and every invariant holds after each', async () => {
    const dir = join(OUT, 'chaos');
    const run = await suite('chaos', dir, 600_000, ['--kinds', KINDS.join(','), '--faults', String(KINDS.length)]);
    const record = outputs(dir, 'chaos', run, ['recovery', 'survivors']);
    const faults = (record.samples as { faults: Array<{ kind: string; recoveryMs: number | null; failures: string[] }> }).faults;
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set(KINDS));
    expect(record.figures.faults_n).toBe(faults.length);
    // Failures are listed in the notes: show them when the invariant check fails.
    expect(record.figures.failures, record.notes.filter((n) => n.startsWith('FAILURE')).join('\n')).toBe(0);
    for (const f of faults) expect(f.recoveryMs, `${f.kind} recovered`).not.toBeNull();
  }, 660_000);

  it.each(['sentinel', 'cluster'])('chaos --redis %s: the Redis primary killed (replica promoted), then a replica, and every invariant holds', async (mode) => {
    const dir = join(OUT, `chaos-${mode}`);
    const kinds = ['redis-primary-kill', 'replica-kill'];
    const run = await suite('chaos', dir, 600_000, ['--redis', mode, '--kinds', kinds.join(','), '--faults', String(kinds.length)]);
    const record = outputs(dir, 'chaos', run, ['recovery', 'survivors']);
    const faults = (record.samples as { faults: Array<{ kind: string; target: string; recoveryMs: number | null }> }).faults;
    expect(faults.map((f) => f.kind).sort()).toEqual([...kinds].sort());
    expect(faults.find((f) => f.kind === 'redis-primary-kill')!.target).toMatch(/^redis primary :\d+$/);
    expect(record.figures.failures, record.notes.filter((n) => n.startsWith('FAILURE')).join('\n')).toBe(0);
    for (const f of faults) expect(f.recoveryMs, `${f.kind} recovered`).not.toBeNull();
  }, 660_000);

  it('hostile: thousands of hostile frames against a gateway beside a live call, every invariant holding', async () => {
    const dir = join(OUT, 'hostile');
    const record = outputs(dir, 'hostile', await suite('hostile', dir, 300_000), ['codes']);
    expect(record.figures.messages_sent).toBeGreaterThanOrEqual(3000);
    expect(record.figures.invariant_failures, record.notes.join('\n')).toBe(0);
    expect(record.figures.unanswered).toBe(0);
    expect(record.summary.map((r) => r.category)).toEqual(expect.arrayContaining(['malformed', 'bad-token', 'pollution', 'flood', 'abandon']));
    for (const row of record.summary) expect(Number(row.sent), String(row.category)).toBeGreaterThan(0);
  }, 330_000);

  it('soak: peers joining and leaving with speech through the pipeline, sampled over time, without errors', async () => {
    const dir = join(OUT, 'soak');
    const run = await suite('soak', dir, 420_000);
    const record = outputs(dir, 'soak', run, ['memory', 'handles', 'latency']);
    const samples = (record.samples as { samples: Array<{ t: number; replicas: unknown[] }> }).samples;
    expect(samples.length).toBeGreaterThan(3);
    for (const s of samples) expect(s.replicas.length).toBeGreaterThan(0);
    for (const f of ['rss_growth_mb_per_hour', 'heap_growth_mb_per_hour', 'handles_growth_per_hour', 'churn_joins']) expect(record.figures).toHaveProperty(f);
    expect(record.figures.churn_joins).toBeGreaterThan(0);
    expect(record.figures.errors, record.notes.filter((n) => n.startsWith('ERROR')).join('\n')).toBe(0);
  }, 480_000);
});
