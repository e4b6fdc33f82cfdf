/**
 * The bench aimed at a deployment it did not start (`--target`): a loopback cluster stands in for it
 * (an embedded Redis and two `parley up` replicas in production mode, with their own auth secret and
 * metrics token), and join, capacity and failover run against its URLs through runScenario with a
 * RemoteTarget, as the CLI's --target does. Checked: the joins reached those gateways (their own
 * /metrics count them), nothing of Janus ran, failover stopped a replica through the stop command,
 * tokens from a token endpoint work and a broken one is a coded error, and a scenario that needs its
 * own parts is refused. Plus the pure parts (Prometheus text, turns, limits). Timings are never asserted.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { histogramDelta, histogramOf, histogramQuantile, parsePrometheus, sumOf } from '../bench/clients/prometheus.js';
import { mintToken, stopCommandFor, TargetBudget } from '../bench/lib/remote.js';
import { runScenario } from '../bench/lib/runner.js';
import type { Progress } from '../bench/lib/progress.js';
import type { RemoteTarget, Scenario } from '../bench/lib/types.js';
import { scenario as capacity } from '../bench/scenarios/capacity.js';
import { scenario as failover } from '../bench/scenarios/failover.js';
import { scenario as joinScenario } from '../bench/scenarios/join.js';
import { scenario as pipeline } from '../bench/scenarios/pipeline.js';
import { scenario as ports } from '../bench/scenarios/ports.js';
import { turnSamples, voiceRuns } from '../bench/scenarios/_pipelineTurns.js';
import { signJoinToken, tokenKey, verifyJoinToken } from '../src/auth/tokens.js';
import { startReplicas } from '../src/devkit/cluster.js';
import { spawnAiWorker, type GatewayProcess } from '../src/devkit/gateway.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';

const SECRET = 'bench-target-secret-0123456789-abcdefghij';
const METRICS_TOKEN = 'bench-target-metrics-token';
const OUT = mkdtempSync(join(tmpdir(), 'parley-bench-target-'));

let redis: EmbeddedRedis;
let replicas: GatewayProcess[] = [];
const servers: Server[] = [];
const logs: string[] = [];
const progress: Progress = { update: () => undefined, log: (m) => void logs.push(m), finish: () => undefined };

function target(extra: Partial<RemoteTarget> = {}): RemoteTarget {
  return {
    urls: replicas.map((r) => r.url),
    tokens: { kind: 'secret', secret: SECRET, issuer: 'parley' },
    metricsToken: METRICS_TOKEN,
    stopCommand: null,
    limits: { maxClients: 20, maxSeconds: 120 },
    ...extra,
  };
}

type Record_ = { samples: unknown; notes: string[]; environment: Record<string, unknown>; figures: Record<string, number> };

async function run(scenario: Scenario, args: string[], t: RemoteTarget): Promise<Record_> {
  const outcome = await runScenario(scenario, args, { smoke: true, outDir: join(OUT, scenario.name), resultsDir: OUT, slo: {}, progress, target: t, print: () => undefined });
  return JSON.parse(readFileSync(outcome.files.json, 'utf8')) as Record_;
}

async function newJoins(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return sumOf(parsePrometheus(await res.text()), 'parley_joins_total', { kind: 'new' }) ?? 0;
}

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  replicas = await startReplicas(redis.url, 2, `bench-target-${process.pid}`, {
    PARLEY_MODE: 'production',
    PARLEY_AUTH_SECRET: SECRET,
    // Production mode with the server API on needs a key pair (the bench does not use the API).
    PARLEY_API_KEYS: `bench:${SECRET}`,
    PARLEY_AUTH_METRICS_TOKEN: METRICS_TOKEN,
    PARLEY_CLUSTER_HEARTBEAT_MS: '500',
    PARLEY_CLUSTER_STALE_AFTER_MS: '2000',
    PARLEY_LOG_LEVEL: 'warn',
  });
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r.stop();
  await redis?.stop();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  rmSync(OUT, { recursive: true, force: true });
}, 60_000);

describe('bench against a deployment (--target)', () => {
  it('the deployment is one the bench could not join on its own: no dev tokens, /metrics behind its token', async () => {
    expect((await fetch(`${replicas[0]!.url}/dev/token`, { method: 'POST', body: '{}' })).status).not.toBe(200);
    expect((await fetch(`${replicas[0]!.url}/metrics`)).status).toBe(401);
  });

  it('join: single and cross measured on the target URLs, counted by the gateways, Janus skipped', { timeout: 120_000 }, async () => {
    const before = await Promise.all(replicas.map((r) => newJoins(r.url)));
    const record = await run(joinScenario, ['--joins', '2', '--warmup', '1'], target());
    const samples = record.samples as Array<{ target: string; warmup: boolean; error?: string }>;
    expect([...new Set(samples.map((s) => s.target))].sort()).toEqual(['cross', 'single']);
    for (const t of ['single', 'cross']) expect(samples.filter((s) => s.target === t && !s.warmup && !s.error).length, JSON.stringify(samples)).toBe(2);
    expect(record.notes.some((n) => /janus: skipped/.test(n))).toBe(true);
    expect(record.notes.some((n) => n.startsWith('measured from outside'))).toBe(true);
    expect(record.figures).not.toHaveProperty('join_janus_n');
    // The publisher and the single joiners on the first replica, the cross joiners on the second.
    const after = await Promise.all(replicas.map((r) => newJoins(r.url)));
    expect(after[0]! - before[0]!).toBeGreaterThanOrEqual(1 + 3);
    expect(after[1]! - before[1]!).toBeGreaterThanOrEqual(3);
    expect(Object.values(record.environment.deploymentJoins as Record<string, number>).every((n) => n >= 3)).toBe(true);
  });

  it('capacity: the Parley ramp on the first URL with the SFU CPU from its /metrics; no Janus ramp', { timeout: 120_000 }, async () => {
    const before = await newJoins(replicas[0]!.url);
    const record = await run(capacity, [], target());
    const ramps = record.samples as Array<{ sfu: string; steps: Array<{ consumers: number; streamsReceiving: number; sfuCpuPct: number | null }>; sfuCpuFrom: string }>;
    expect(ramps.map((r) => r.sfu)).toEqual(['parley']);
    const step = ramps[0]!.steps[0]!;
    expect(step.consumers).toBe(2);
    expect(step.streamsReceiving).toBe(2);
    expect(typeof step.sfuCpuPct).toBe('number');
    expect(ramps[0]!.sfuCpuFrom).toContain(`${replicas[0]!.url}/metrics`);
    expect(Object.keys(record.figures).some((f) => f.startsWith('janus'))).toBe(false);
    expect(await newJoins(replicas[0]!.url)).toBeGreaterThanOrEqual(before + 3);
  });

  it('capacity without a readable /metrics: the ramp runs, its SFU CPU is reported as not measured', { timeout: 120_000 }, async () => {
    const record = await run(capacity, ['--sfus', 'parley'], target({ metricsToken: 'wrong-token' }));
    const ramps = record.samples as Array<{ steps: Array<{ consumers: number; sfuCpuPct: number | null }>; sfuCpuFrom: string }>;
    expect(ramps[0]!.steps[0]!.consumers).toBe(2);
    expect(ramps[0]!.sfuCpuFrom).toMatch(/^not measured \(.*HTTP 401/);
    expect(record.figures).not.toHaveProperty('parley_knee_sfu_cpu_pct');
  });

  it('tokens from a token endpoint; an endpoint that fails is a coded error', { timeout: 120_000 }, async () => {
    const asked: Array<Record<string, string>> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        const r = JSON.parse(body) as Record<string, string>;
        asked.push(r);
        if (r.identity === 'publisher' && r.room?.startsWith('refuse')) return void res.writeHead(403).end('no');
        void signJoinToken(tokenKey(SECRET, 'parley'), { roomId: r.room!, identity: r.identity!, displayName: r.name!, role: r.role as 'speaker', ttlSeconds: 60 }).then(({ token }) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
        });
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    const endpoint = target({ tokens: { kind: 'endpoint', url: `http://127.0.0.1:${address.port}/token` } });
    const record = await run(joinScenario, ['--targets', 'single', '--joins', '1', '--warmup', '0'], endpoint);
    const samples = record.samples as Array<{ error?: string }>;
    expect(samples.length).toBe(1);
    expect(samples[0]!.error).toBeUndefined();
    expect(asked.map((a) => a.identity)).toEqual(['publisher', 'joiner-single-0']);
    expect(asked[0]).toMatchObject({ role: 'speaker', name: 'publisher' });
    await expect(mintToken(endpoint, { room: 'refuse-me', identity: 'publisher' })).rejects.toThrow(/^ERR_BENCH_TOKEN_ENDPOINT: .*HTTP 403/);
    const unreachable = target({ tokens: { kind: 'endpoint', url: 'http://127.0.0.1:1/token' } });
    await expect(run(joinScenario, ['--targets', 'single'], unreachable)).rejects.toThrow(/ERR_BENCH_TOKEN_ENDPOINT: .*could not be reached/);
  });

  it('refuses a scenario that starts its own parts, and failover without a stop command', async () => {
    await expect(run(ports, [], target())).rejects.toThrow(/cannot run against --target/);
    await expect(run(failover, [], target())).rejects.toThrow(/ERR_BENCH_TARGET_UNSUPPORTED: .*--stop-command/);
    await expect(run(failover, [], target({ urls: [replicas[0]!.url], stopCommand: 'true' }))).rejects.toThrow(/ERR_BENCH_TARGET_UNSUPPORTED: .*two URLs/);
    await expect(run(failover, [], target({ stopCommand: 'true', limits: { maxClients: 1, maxSeconds: 60 } }))).rejects.toThrow(/ERR_BENCH_TARGET_LIMIT/);
  });

  it('stays within --max-seconds and --max-clients: a long join run stops by itself, a capacity ramp is clamped', { timeout: 120_000 }, async () => {
    const long = await run(joinScenario, ['--targets', 'single', '--joins', '1000', '--warmup', '0'], target({ limits: { maxClients: 20, maxSeconds: 3 } }));
    const joins = (long.samples as unknown[]).length;
    expect(joins).toBeGreaterThan(0);
    expect(joins).toBeLessThan(1000);
    expect(long.notes.some((n) => n.includes('stopped at --max-seconds 3'))).toBe(true);
    // 1 publisher + 10 steps of 2 subscribers would hold 21 clients at once: clamped to 8, so 3 steps at most.
    const clamped = await run(capacity, ['--sfus', 'parley', '--max-steps', '10', '--step', '2', '--loss-pct', '100', '--jitter-ms', '10000'], target({ limits: { maxClients: 8, maxSeconds: 60 } }));
    const steps = (clamped.samples as Array<{ steps: Array<{ subscribers: number }> }>)[0]!.steps;
    expect(steps.length).toBeGreaterThan(0);
    expect(Math.max(...steps.map((x) => x.subscribers))).toBeLessThanOrEqual(7);
    expect(clamped.notes.some((n) => n.includes('clamped to --max-clients 8'))).toBe(true);
  });

  it('pipeline: a speaker and a Spanish listener page on the deployment; turns timed from the microphone, engine spans from /metrics', { timeout: 240_000 }, async () => {
    const worker = await spawnAiWorker(redis.url);
    try {
      const record = await run(pipeline, ['--min-utterances', '2', '--duration', '10'], target());
      expect(record.figures.finish_from_mic_n, record.notes.join('\n')).toBeGreaterThanOrEqual(1);
      expect(record.figures.partial_interval_n).toBeGreaterThan(0);
      expect(Object.keys(record.figures).some((f) => f.startsWith('metrics_') && f.endsWith('_n'))).toBe(true);
      expect(record.notes[0]).toMatch(/^measured from outside .*not available there: /);
    } finally {
      await worker.kill();
    }
  });

  it('failover: the stop command stops the last replica, the displaced page comes back on the other', { timeout: 150_000 }, async () => {
    const pids = replicas.map((r) => r.child.pid!);
    const stopCommand = `case {index} in 0) kill -9 ${pids[0]} ;; 1) kill -9 ${pids[1]} ;; esac`;
    const record = await run(failover, ['--timeout', '25'], target({ stopCommand }));
    expect(await replicas[1]!.exited).toBeNull(); // killed by a signal, not exited
    expect(replicas[1]!.child.signalCode).toBe('SIGKILL');
    expect(replicas[0]!.child.exitCode).toBeNull();
    const repeats = record.samples as Array<{ recoveryMs: number | null; movedTo: string }>;
    expect(repeats.length).toBe(1);
    expect(repeats[0]!.recoveryMs, logs.slice(-20).join('\n')).not.toBeNull();
    expect(repeats[0]!.movedTo).toContain(new URL(replicas[0]!.url).host);
    expect(record.notes.some((n) => n.includes('--stop-command'))).toBe(true);
    expect(JSON.stringify(record)).not.toContain(stopCommand); // the command is not recorded (it may hold credentials)
  });
});

describe('bench --target, the pure parts', () => {
  it('reads Prometheus text: sums, histograms, their change and quantiles', () => {
    const text = (n: number) =>
      [
        '# HELP parley_ai_stage_seconds Time spent per stage',
        '# TYPE parley_ai_stage_seconds histogram',
        `parley_ai_stage_seconds_bucket{le="0.1",stage="stt",replica="a"} ${n}`,
        `parley_ai_stage_seconds_bucket{le="0.2",stage="stt",replica="a"} ${2 * n}`,
        `parley_ai_stage_seconds_bucket{le="+Inf",stage="stt",replica="a"} ${2 * n}`,
        `parley_ai_stage_seconds_sum{stage="stt",replica="a"} ${0.3 * n}`,
        `parley_ai_stage_seconds_count{stage="stt",replica="a"} ${2 * n}`,
        'parley_worker_cpu_seconds{worker="0",replica="a"} 1.5',
        'parley_worker_cpu_seconds{worker="1",replica="a"} 2.5',
      ].join('\n');
    const before = parsePrometheus(text(1));
    const after = parsePrometheus(text(3));
    expect(sumOf(after, 'parley_worker_cpu_seconds')).toBe(4);
    expect(sumOf(after, 'parley_missing')).toBeNull();
    const h = histogramDelta(histogramOf(before, 'parley_ai_stage_seconds', { stage: 'stt' }), histogramOf(after, 'parley_ai_stage_seconds', { stage: 'stt' })!);
    expect(h.count).toBe(4);
    expect(h.buckets).toEqual([[0.1, 2], [0.2, 4], [Infinity, 4]]);
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(h, 0.75)).toBeCloseTo(0.15);
    expect(histogramOf(after, 'parley_ai_stage_seconds', { stage: 'tts' })).toBeNull();
  });

  it('finds the speaker\'s turns and times the listener\'s records inside each', () => {
    const mic: Array<[number, number]> = [];
    for (let t = 0; t < 20_000; t += 20) mic.push([t, t % 10_000 < 3000 ? 1e-2 : 1e-6]);
    const runs = voiceRuns(mic, 1e-3, 1500);
    expect(runs).toEqual([{ start: 0, end: 2980 }, { start: 10_000, end: 12_980 }]);
    const caption = (at: number, final: boolean, original = true) => ({ utteranceId: 'u1', speakerPeerId: 'p', language: original ? 'en' : 'es', text: 'x', original, final, receivedAt: at });
    const turns = turnSamples(0, runs, [caption(2000, false), caption(2300, false), caption(3200, true), caption(3300, true, false)], [{ at: 3500, prevAt: 3480, bytes: 1, producerId: 't' }, { at: 5000, prevAt: 4980, bytes: 2, producerId: 't' }], 0);
    expect(turns).toHaveLength(1); // the second turn has no next one: not closed
    expect(turns[0]).toMatchObject({ utterances: 1, finalCaptionFromMicMs: 220, firstAudioFromMicMs: 520, finishFromMicMs: 2020, partialIntervalsMs: [300] });
  });

  it('mints tokens the deployment verifies; clamps or refuses clients beyond --max-clients; substitutes the stop command', async () => {
    const t: RemoteTarget = { urls: ['http://a:1', 'http://b:2'], tokens: { kind: 'secret', secret: SECRET, issuer: 'acme' }, metricsToken: null, stopCommand: 'stop {url} #{index}', limits: { maxClients: 10, maxSeconds: 60 } };
    const claims = await verifyJoinToken(tokenKey(SECRET, 'acme'), await mintToken(t, { room: 'r1', identity: 'i1', role: 'listener' }));
    expect(claims).toMatchObject({ roomId: 'r1', identity: 'i1', role: 'listener' });
    const budget = new TargetBudget(t);
    expect(budget.clients(8, 'a')).toBe(8);
    expect(budget.clients(30, 'b', 4)).toBe(10);
    expect(budget.notes.join()).toMatch(/b: 30 client\(s\) at once asked, clamped to --max-clients 10/);
    expect(() => budget.clients(30, 'c', 11)).toThrow(/^ERR_BENCH_TARGET_LIMIT: c needs at least 11/);
    expect(budget.expired('x')).toBe(false);
    expect(new TargetBudget(t, Date.now() - 61_000).expired('x')).toBe(true);
    expect(stopCommandFor(t.stopCommand!, t.urls[1]!, 1)).toBe('stop http://b:2 #1');
  });
});
