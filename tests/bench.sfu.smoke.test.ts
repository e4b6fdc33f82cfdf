/**
 * The SFU bench scenarios (ports, capacity, join) and signaling run in --smoke mode through
 * the bench CLI, as CI does: each must finish, exit 0 and write a results JSON
 * with the structure the report relies on. Timings are never asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-sfu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Results = { scenario: string; smoke: boolean; figures: Record<string, number>; summary: Array<Record<string, unknown>>; samples: unknown; plots: unknown[]; notes: string[]; machine: unknown };

function runSmoke(name: string, args: string[] = []): { results: Results; files: string[]; output: string } {
  const out = join(dir, [name, ...args].join('_').replace(/[^\w.-]+/g, '_'));
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/cli.ts', name, '--smoke', ...args, '--results-dir', out], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  expect(run.status, output).toBe(0);
  const files = readdirSync(out);
  const json = files.find((f) => f.startsWith(`${name}-`) && f.endsWith('.json'));
  expect(json, files.join(', ')).toBeDefined();
  return { results: JSON.parse(readFileSync(join(out, json!), 'utf8')) as Results, files, output };
}

function expectCommon(r: Results, files: string[], name: string): void {
  expect(r.scenario).toBe(name);
  expect(r.smoke).toBe(true);
  expect(r.machine).toBeTruthy();
  expect(r.summary.length).toBeGreaterThan(0);
  expect(r.plots.length).toBeGreaterThan(0);
  expect(r.notes.some((n) => /noisy neighbour|client side|not a mediasoup limit/i.test(n))).toBe(true);
  expect(files.some((f) => f.endsWith('.md'))).toBe(true);
  expect(files.some((f) => f.endsWith('.svg'))).toBe(true);
}

describe('bench SFU scenarios, --smoke through the CLI', () => {
  it('ports: both modes measured, one port in WebRtcServer mode, the port range runs out with an error', { timeout: 300_000 }, () => {
    const { results, files } = runSmoke('ports');
    expectCommon(results, files, 'ports');
    const modes = results.samples as Array<{ mode: string; points: Array<{ portsInUse: number; connected: number; transports: number }>; error?: string }>;
    expect(modes.map((m) => m.mode)).toEqual(['webrtc-server', 'port-range']);
    const [server, range] = modes as [(typeof modes)[0], (typeof modes)[0]];
    expect(server.points.every((p) => p.portsInUse === 1)).toBe(true);
    expect(server.points.at(-1)!.connected).toBe(server.points.at(-1)!.transports);
    expect(range.points.at(-1)!.portsInUse).toBe(range.points.at(-1)!.transports);
    expect(range.error).toMatch(/port/i);
    expect(results.figures.webrtc_server_max_peers_per_port).toBeGreaterThan(0);
  });

  it('capacity: a ramp per SFU (Parley and Janus) with loss, jitter and CPU per step', { timeout: 300_000 }, () => {
    const { results, files } = runSmoke('capacity');
    expectCommon(results, files, 'capacity');
    const ramps = results.samples as Array<{ sfu: string; steps: Array<Record<string, number>>; stoppedBy: string }>;
    expect(ramps.map((r) => r.sfu)).toEqual(['parley', 'janus']);
    for (const r of ramps) {
      expect(r.steps.length).toBeGreaterThan(0);
      for (const key of ['consumers', 'lossPct', 'jitterP95Ms', 'sfuCpuPct', 'clientCpuPct']) expect(typeof r.steps[0]![key]).toBe('number');
      expect(r.steps[0]!.consumers).toBeGreaterThan(0);
      expect(r.stoppedBy).toMatch(/limited by/);
    }
    expect(Object.keys(results.figures)).toEqual(expect.arrayContaining(['parley_knee_consumers', 'janus_knee_consumers']));
  });

  it('capacity --media video: simulcast publishers and subscribers on both SFUs, every consumer delivering', { timeout: 300_000 }, () => {
    const { results, files } = runSmoke('capacity', ['--media', 'video', '--publishers', '2']);
    expectCommon(results, files, 'capacity');
    const ramps = results.samples as Array<{ sfu: string; steps: Array<Record<string, number>> }>;
    expect(ramps.map((r) => r.sfu)).toEqual(['parley', 'janus']);
    for (const r of ramps) {
      const step = r.steps[0]!;
      // 2 subscribers x 2 publishers, each subscriber at its own layer: every consumer sends packets.
      expect(step.consumers).toBe(4);
      expect(step.streamsReceiving).toBe(4);
    }
    expect(Object.keys(results.figures)).toEqual(expect.arrayContaining(['parley_video_knee_consumers', 'janus_video_knee_consumers']));
    expect(results.notes.some((n) => /synthetic VP8/.test(n))).toBe(true);
    // A variant of capacity: its files must not replace the audio run's.
    expect(files.filter((f) => f.endsWith('.json')).every((f) => f.startsWith('capacity-video-'))).toBe(true);
  });

  it('join: samples for single replica, cross replica and Janus, warm-up flagged', { timeout: 300_000 }, () => {
    const { results, files } = runSmoke('join');
    expectCommon(results, files, 'join');
    const samples = results.samples as Array<{ target: string; warmup: boolean; totalMs: number; error?: string }>;
    for (const target of ['single', 'cross', 'janus']) {
      const mine = samples.filter((s) => s.target === target);
      expect(mine.some((s) => s.warmup)).toBe(true);
      expect(mine.filter((s) => !s.warmup && !s.error).length).toBeGreaterThan(0);
    }
    expect(Object.keys(results.figures)).toEqual(expect.arrayContaining(['join_single_n', 'join_cross_n', 'join_janus_n']));
  });

  it('signaling: a step per Redis mode (one server, a 3-shard cluster) with join times and the CPU of gateways and Redis', { timeout: 300_000 }, () => {
    const { results, files } = runSmoke('signaling');
    expectCommon(results, files, 'signaling');
    const ramps = results.samples as Array<{ mode: string; steps: Array<{ joins: number; failed: number; p95: number; redisCpu: number; nodeCpu: number }> }>;
    expect(ramps.map((r) => r.mode)).toEqual(['single', 'cluster']);
    for (const r of ramps) {
      expect(r.steps.length).toBeGreaterThan(0);
      expect(r.steps[0]!.failed).toBe(0);
      expect(r.steps[0]!.p95).toBeGreaterThan(0);
      expect(r.steps[0]!.nodeCpu).toBeGreaterThan(0);
    }
    expect(Object.keys(results.figures)).toEqual(expect.arrayContaining(['signaling_single_max_joins_per_s', 'signaling_cluster_max_joins_per_s']));
  });
});
