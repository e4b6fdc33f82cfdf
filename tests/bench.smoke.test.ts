/**
 * The bench harness and its scenarios stay runnable: the CLI as a child process, scenarios in
 * --smoke mode (tiny runs against real gateways, Redis and Chromium), and the shape of what
 * every run leaves behind. Structure only: the bench reports timings, tests never assert them.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchCli, type Run } from './helpers/benchCli.js';

const OUT = mkdtempSync(join(tmpdir(), 'parley-bench-smoke-'));

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

const bench = runBenchCli;

/** The files of the run of `scenario` in `dir`, checked for shape; returns the parsed JSON. */
function checkOutputs(dir: string, scenario: string, run: Run): Record<string, unknown> {
  expect(run.code, run.stderr.slice(-4000)).toBe(0);
  const files = readdirSync(dir).filter((f) => f.startsWith(`${scenario}-`));
  const json = files.find((f) => f.endsWith('.json'));
  const md = files.find((f) => f.endsWith('.md'));
  expect(json, `results JSON of ${scenario} in ${files.join(', ')}`).toBeDefined();
  expect(md).toBeDefined();
  const record = JSON.parse(readFileSync(join(dir, json!), 'utf8')) as Record<string, unknown> & {
    machine: { cpuModel: string; cores: number; memoryGiB: number; versions: Record<string, string> };
    figures: Record<string, number>;
    slo: Array<{ figure: string; verdict: string }>;
    plots: Array<{ id: string; file: string }>;
    summary: unknown[];
  };
  expect(record.scenario).toBe(scenario);
  expect(record.smoke).toBe(true);
  expect(record).toHaveProperty('samples');
  expect(record).toHaveProperty('options');
  expect(record.machine.cores).toBeGreaterThan(0);
  expect(record.machine.cpuModel.length).toBeGreaterThan(0);
  expect(record.machine.versions.node).toMatch(/^v\d+/);
  expect(record.machine.versions.mediasoup).toBe('3.12.16');
  expect(Array.isArray(record.loadAverageAtStart)).toBe(true);
  expect(Object.keys(record.figures).length).toBeGreaterThan(0);
  expect(record.summary.length).toBeGreaterThan(0);
  for (const v of record.slo) expect(['pass', 'fail', 'no data']).toContain(v.verdict);
  // Each plot is an SVG document named in the JSON.
  expect(record.plots.length).toBeGreaterThan(0);
  for (const p of record.plots) {
    const svg = readFileSync(join(dir, p.file), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity/);
  }
  // The report: the summary table, SLO verdicts, the plots.
  const report = readFileSync(join(dir, md!), 'utf8');
  expect(report).toContain('## Summary');
  expect(report).toMatch(/^\| .+ \|$/m);
  expect(report).toContain('## SLOs');
  for (const p of record.plots) expect(report).toContain(`](${p.file})`);
  // The terminal output: the table and one verdict line per SLO of the scenario.
  expect(run.stdout).toContain(`== ${scenario} (smoke`);
  expect(run.stdout.match(new RegExp(`^SLO (PASS|FAIL|NO DATA)\\s+${scenario}: `, 'gm'))?.length ?? 0).toBe(record.slo.length);
  return record;
}

/**
 * The pipeline smoke (1 speaker, simultaneous only): the mode ran as configured, and the figures the SLOs
 * name are produced under those names (whether a figure has data depends on the run; its SLO then says
 * "no data"). The recognizer-alone pass compares both modes even in smoke.
 */
function checkPipeline(record: Record<string, unknown>): void {
  const r = record as { environment: { modes: Array<{ mode: string; workersReported: Array<{ recognition: string } | null> }> }; figures: Record<string, number>; slo: Array<{ figure: string }>; samples: { levels: Array<{ mode: string; speakers: number }>; stt: Array<{ mode: string }> } };
  expect(r.environment.modes.map((m) => m.mode)).toEqual(['simultaneous']);
  expect(r.environment.modes[0]!.workersReported.map((w) => w?.recognition)).toEqual(['streaming']);
  expect(r.samples.levels.map((l) => [l.mode, l.speakers])).toEqual([['simultaneous', 1]]);
  expect([...new Set(r.samples.stt.map((x) => x.mode))].sort()).toEqual(['batch', 'streaming']);
  for (const figure of ['delivered_n', 'dropped_n', 'max_speakers_within_slo', 'stt_wer', 'stt_wer_batch', 'wer_delta']) expect(r.figures).toHaveProperty(figure);
  expect(Object.keys(r.figures).some((f) => f.endsWith('_batch') && !f.startsWith('stt_'))).toBe(false);
  for (const figure of ['e2e_from_mic_p50_ms', 'stt_final_p50_ms', 'partial_interval_p50_ms', 'wer_delta', 'max_speakers_within_slo']) expect(r.slo.map((v) => v.figure)).toContain(figure);
}

describe('bench CLI', () => {
  it('lists every scenario, describes one, refuses an unknown one', async () => {
    const help = await bench(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['pipeline', 'pipe', 'failover']) expect(help.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
    const one = await bench(['pipeline', '--help']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('--speakers <a,b,...>');
    expect(one.stdout).toMatch(/default 1,2,3,4,6; --smoke 1/);
    expect(one.stdout).toMatch(/--modes <a,b,\.\.\.>.*default consecutive,simultaneous; --smoke simultaneous/);
    const unknown = await bench(['no-such-scenario']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown scenario');
  }, 60_000);

  it('plugs in scenario files by listing the folder; a broken one fails only when selected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-bench-scenarios-'));
    const out = join(OUT, 'fake');
    try {
      writeFileSync(
        join(dir, 'fake.ts'),
        `export const scenario = {
          name: 'fake', title: 'A fake scenario', description: 'Counts.',
          options: [{ name: 'n', type: 'number', default: 50, smoke: 3, help: 'samples' }],
          async run(ctx, o) {
            const xs = Array.from({ length: o.n }, (_, i) => i);
            xs.forEach((_, i) => ctx.progress(i + 1, xs.length, 'counting'));
            let cleaned = false; ctx.defer(() => { cleaned = true; });
            return { summary: [{ what: 'x', n: xs.length }], figures: { x_n: xs.length }, samples: xs, notes: ['fake'],
              plots: [{ id: 'p', title: 'P', kind: 'line', xLabel: 'i', yLabel: 'v', series: [{ name: 's', points: xs.map((x) => [x, x]) }] }] };
          } };\n`,
      );
      writeFileSync(join(dir, 'broken.ts'), `throw new Error('this scenario cannot load');\nexport const scenario = null;\n`);
      const env = { BENCH_SCENARIOS_DIR: dir };
      const help = await bench(['--help'], env);
      expect(help.stdout).toMatch(/^  fake\s+A fake scenario$/m);
      expect(help.stdout).toMatch(/^  broken\s+\(cannot load: .*this scenario cannot load/m);
      const broken = await bench(['broken', '--smoke'], env);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('this scenario cannot load');
      const slo = join(dir, 'slo.yaml');
      writeFileSync(slo, 'fake:\n  x_n: { min: 1 }\n  missing_ms: { max: 5 }\n');
      const run = await bench(['fake', '--smoke', '--results-dir', out, '--slo', slo], env);
      const record = checkOutputs(out, 'fake', run);
      expect(record.samples).toEqual([0, 1, 2]);
      expect(run.stdout).toMatch(/SLO PASS\s+fake: x_n >= 1/);
      expect(run.stdout).toMatch(/SLO NO DATA fake: missing_ms <= 5/);
      expect(run.stderr).toMatch(/progress .*3\/3 counting/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('bench scenarios in --smoke mode (real gateways, Redis, Chromium)', () => {
  for (const scenario of ['pipeline', 'pipe', 'failover', 'video']) {
    it(`${scenario} runs and leaves a well-formed JSON, SVG plots and a report`, async () => {
      const out = join(OUT, scenario);
      const run = await bench([scenario, '--smoke', '--results-dir', out]);
      const record = checkOutputs(out, scenario, run);
      expect(Object.keys((record as { environment: object }).environment).length).toBeGreaterThan(0);
      if (scenario === 'pipeline') checkPipeline(record);
      if (scenario === 'video') checkSyntheticRoom(record);
    }, 300_000);
  }
});

/** The video scenario's synthetic room (3 people in smoke): each viewer receives the two other cameras. */
function checkSyntheticRoom(record: unknown): void {
  const r = record as { figures: Record<string, number>; samples: { synthetic: { window: { consumers: number; streamsReceiving: number } } } };
  expect(r.figures.synthetic_room_people).toBe(3);
  expect(r.figures.synthetic_room_video_consumers).toBe(6);
  expect(r.samples.synthetic.window.streamsReceiving).toBe(6);
}
