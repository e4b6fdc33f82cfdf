/**
 * signaling: how many joins per second the gateways take before the p95 join
 * time passes the SLO, on one Redis and on a three-shard Redis Cluster, in the
 * same run, with the CPU of the gateways and of Redis at each rate, so the
 * bottleneck is named from measurements, not assumed.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisClusterSet } from '../../src/state/RedisClusterSet.js';
import { EmbeddedRedis } from '../../src/state/EmbeddedRedis.js';
import { startReplicas } from '../../src/devkit/cluster.js';
import { SignalingClient, testToken } from '../../src/devkit/signaling.js';
import { CpuMeter, childPids } from '../clients/procCpu.js';
import { metricValue, replicaCpu } from '../lib/metrics.js';
import { summarize } from '../lib/stats.js';
import type { RunContext, Scenario, Series } from '../lib/types.js';

type Mode = 'single' | 'cluster';
type Step = { mode: Mode; rate: number; joins: number; failed: number; firstError: string | null; p50: number; p95: number; max: number; gatewayCpu: number; nodeCpu: number; workerCpu: number; loopLagP99Ms: number; redisCpu: number; redisBusiestCpu: number; clientCpu: number };
type Ramp = { mode: Mode; steps: Step[]; stoppedBy: string };

const LABEL: Record<Mode, string> = { single: 'one Redis', cluster: 'Redis Cluster, 3 shards' };

export const scenario: Scenario = {
  name: 'signaling',
  title: 'Joins per second until the p95 join time passes the SLO: one Redis vs a 3-shard Redis Cluster, same run',
  description: [
    'Signaling only (no media): each participant opens a WebSocket to a gateway, joins a room (token check, room',
    'actor compare-and-set, peer snapshot, room event), stays --hold-ms, leaves. Joins are started at a fixed rate for',
    '--step-s seconds per step, spread round-robin over --replicas gateways and over rooms of --room-size; the rate',
    'doubles until the p95 join time (WebSocket created -> join response) passes --slo-ms or joins fail. Each Redis mode',
    'gets fresh gateways (production cluster timings) on one redis-server or on a Redis Cluster of three primaries with a',
    'replica each; CPU of the gateway processes and of the Redis processes is sampled per step.',
  ].join('\n'),
  options: [
    { name: 'modes', type: 'list', default: ['single', 'cluster'], help: 'single, cluster' },
    { name: 'replicas', type: 'number', default: 2, help: 'gateway replicas' },
    { name: 'rates', type: 'list', default: [10, 20, 40, 80, 160, 320], smoke: [10], help: 'joins per second, one step each, until the SLO breaks' },
    { name: 'step-s', type: 'number', default: 10, smoke: 2, help: 'seconds per step' },
    { name: 'slo-ms', type: 'number', default: 500, help: 'p95 join time the rate must keep (ms)' },
    { name: 'hold-ms', type: 'number', default: 2000, smoke: 500, help: 'how long each participant stays before leaving (ms)' },
    { name: 'room-size', type: 'number', default: 4, help: 'participants per room' },
  ],
  async run(ctx, o) {
    const modes = (o.modes as string[]).map(String) as Mode[];
    for (const m of modes) if (!(m in LABEL)) throw new TypeError(`--modes: unknown mode "${m}" (single, cluster)`);
    const ramps: Ramp[] = [];
    for (const mode of modes) ramps.push(await ramp(ctx, mode, o));
    return report(ramps, Number(o['slo-ms']));
  },
};

async function ramp(ctx: RunContext, mode: Mode, o: Record<string, unknown>): Promise<Ramp> {
  ctx.log(`${LABEL[mode]}: starting Redis and ${String(o.replicas)} gateway(s)`);
  const { url, redisPids } = await startRedis(ctx, mode);
  // Production cluster timings; every bench client comes from 127.0.0.1, so the per-address limits (64
  // sockets, 500 messages/s by default) are raised to stand for many users' addresses.
  const cluster = {
    PARLEY_CLUSTER_HEARTBEAT_MS: '2000',
    PARLEY_CLUSTER_STALE_AFTER_MS: '5000',
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_AI_ENABLED: 'false',
    PARLEY_HTTP_MAX_CONNECTIONS_PER_IP: '100000',
    PARLEY_HTTP_IP_RATE_LIMIT_PER_SECOND: '100000',
    PARLEY_HTTP_IP_RATE_LIMIT_BURST: '100000',
  };
  const gateways = await startReplicas(url, Number(o.replicas), `sig-${mode}-${process.pid}`, cluster);
  const stopGateways = async () => void (await Promise.all(gateways.map((g) => g.stop())));
  ctx.defer(stopGateways);
  const gatewayPids = gateways.flatMap((g) => [g.child.pid!, ...childPids(g.child.pid!, 'mediasoup')]);
  const steps: Step[] = [];
  let stoppedBy = 'the last rate passed';
  const rates = (o.rates as Array<number | string>).map(Number);
  for (const [i, rate] of rates.entries()) {
    ctx.progress(i, rates.length, `${LABEL[mode]}: ${rate} joins/s`);
    const step = await runStep(ctx, mode, rate, gateways.map((g) => g.url), gatewayPids, redisPids, o);
    steps.push(step);
    ctx.log(`${LABEL[mode]} ${rate}/s: p95 ${step.p95} ms, ${step.failed} failed, gateways ${step.gatewayCpu}% CPU, Redis ${step.redisCpu}%`);
    if (step.failed > step.joins * 0.01) {
      stoppedBy = `joins failed at ${rate}/s (first: ${step.firstError})`;
      break;
    }
    if (step.p95 > Number(o['slo-ms'])) {
      stoppedBy = `p95 past the SLO at ${rate}/s`;
      break;
    }
  }
  await stopGateways();
  return { mode, steps, stoppedBy };
}

async function startRedis(ctx: RunContext, mode: Mode): Promise<{ url: string; redisPids: number[][] }> {
  if (mode === 'single') {
    const redis = await EmbeddedRedis.start();
    ctx.defer(() => redis.stop());
    return { url: redis.url, redisPids: [[redis.pid!]] };
  }
  const set = await RedisClusterSet.start();
  ctx.defer(() => set.stop());
  return { url: set.url, redisPids: set.servers.map((s) => [s.pid!]) };
}

async function runStep(ctx: RunContext, mode: Mode, rate: number, urls: string[], gatewayPids: number[], redisPids: number[][], o: Record<string, unknown>): Promise<Step> {
  const total = Math.max(1, Math.round(rate * Number(o['step-s'])));
  const roomSize = Number(o['room-size']);
  // Tokens are signed ahead: the clock measures the gateway, not the bench's HMAC.
  const ids = Array.from({ length: total }, (_, i) => ({ roomId: `sig-${mode}-${rate}-${Math.floor(i / roomSize)}`, identity: `p${i}` }));
  const tokens = await Promise.all(ids.map((p) => testToken(p.roomId, p.identity)));
  const gatewayCpu = new CpuMeter(gatewayPids);
  const clientCpu = new CpuMeter([process.pid]);
  const redisCpu = redisPids.map((pids) => new CpuMeter(pids));
  const cpuBefore = await Promise.all(urls.map(replicaCpu));
  const cpuFrom = performance.now();
  gatewayCpu.start();
  clientCpu.start();
  for (const m of redisCpu) m.start();
  const times: number[] = [];
  let failed = 0;
  let firstError: string | null = null;
  const started = performance.now();
  const running: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal });
    running.push(
      joinOnce(urls[i % urls.length]!, ids[i]!.roomId, tokens[i]!, Number(o['hold-ms'])).then(
        (ms) => void times.push(ms),
        (err: unknown) => {
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
        },
      ),
    );
  }
  await Promise.all(running);
  const redisPercents = redisCpu.map((m) => m.percent());
  const cpuAfter = await Promise.all(urls.map(replicaCpu));
  const seconds = (performance.now() - cpuFrom) / 1000;
  const share = (pick: (c: { worker: number; node: number }) => number) => Math.round((cpuAfter.reduce((n, c, i) => n + pick(c) - pick(cpuBefore[i]!), 0) / seconds) * 100);
  // prom-client resets the event-loop histogram at each scrape: the p99 of this step's lag.
  const lags = await Promise.all(urls.map(async (url) => metricValue(await (await fetch(`${url}/metrics`)).text(), 'parley_nodejs_eventloop_lag_p99_seconds') ?? 0));
  const s = summarize(times);
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    mode,
    rate,
    joins: total,
    failed,
    firstError,
    p50: r(s.p50),
    p95: r(s.p95),
    max: r(s.max),
    gatewayCpu: Math.round(gatewayCpu.percent()),
    nodeCpu: share((c) => c.node),
    workerCpu: share((c) => c.worker),
    loopLagP99Ms: Math.round(Math.max(...lags) * 1000),
    redisCpu: Math.round(redisPercents.reduce((a, b) => a + b, 0)),
    redisBusiestCpu: Math.round(Math.max(...redisPercents)),
    clientCpu: Math.round(clientCpu.percent()),
  };
}

/** WebSocket created -> join response (ms); then stays `holdMs` and leaves. */
async function joinOnce(url: string, roomId: string, token: string, holdMs: number): Promise<number> {
  const start = performance.now();
  const sig = await SignalingClient.connect(url);
  try {
    const res = await sig.request('join', { token, roomId }, 10_000);
    if (!res.ok) throw new Error(`join refused: ${JSON.stringify(res.error)}`);
    const ms = performance.now() - start;
    await sleep(holdMs);
    await sig.request('leave', {}, 5000).catch(() => undefined);
    return ms;
  } finally {
    await sig.close().catch(() => undefined);
  }
}

function report(ramps: Ramp[], sloMs: number) {
  const figures: Record<string, number> = {};
  const summary = ramps.flatMap((ramp) =>
    ramp.steps.map((s) => ({
      redis: LABEL[ramp.mode],
      'joins/s': s.rate,
      joins: s.joins,
      failed: s.failed,
      'p50 ms': s.p50,
      'p95 ms': s.p95,
      'gateways CPU %': s.gatewayCpu,
      'Node / mediasoup %': `${s.nodeCpu} / ${s.workerCpu}`,
      'event loop p99 ms': s.loopLagP99Ms,
      'Redis CPU %': s.redisCpu,
      'busiest redis-server %': s.redisBusiestCpu,
      'bench client %': s.clientCpu,
    })),
  );
  const notes: string[] = [];
  for (const ramp of ramps) {
    const kept = ramp.steps.filter((s) => s.p95 <= sloMs && s.failed <= s.joins * 0.01);
    const best = kept.at(-1);
    figures[`signaling_${ramp.mode}_max_joins_per_s`] = best?.rate ?? 0;
    if (best) figures[`signaling_${ramp.mode}_p95_ms_at_max`] = best.p95;
    const last = ramp.steps.at(-1);
    if (last) notes.push(`${LABEL[ramp.mode]}: ${ramp.stoppedBy}; at ${last.rate} joins/s the gateways used ${last.gatewayCpu}% of one core, Redis ${last.redisCpu}% (busiest redis-server ${last.redisBusiestCpu}%) and the bench client ${last.clientCpu}%: the bottleneck is ${bottleneck(last)}.`);
  }
  const series: Series[] = ramps.map((ramp) => ({ name: LABEL[ramp.mode], points: ramp.steps.map((s) => [s.rate, s.p95] as [number, number]) }));
  notes.push(
    'A single-threaded redis-server saturates near 100% of one core; the gateways (Node + mediasoup workers) share the machine\'s cores with the bench client and Redis.',
    'Noisy neighbour: clients, gateways and Redis share this machine; the p95 moves most on a busy machine.',
  );
  return {
    summary,
    figures,
    samples: ramps,
    plots: [{ id: 'p95', title: `p95 join time per rate (SLO ${sloMs} ms)`, kind: 'line' as const, xLabel: 'joins per second', yLabel: 'p95 ms', series }],
    notes,
    environment: { modes: ramps.map((r) => r.mode) },
  };
}

/** What was at its ceiling at the last step: a redis-server near one core, the gateways' event loops, else the shared cores. */
function bottleneck(s: Step): string {
  if (s.redisBusiestCpu >= 80) return `Redis (one redis-server at ${s.redisBusiestCpu}% of its single core)`;
  if (s.loopLagP99Ms >= 100) {
    return `the gateways' Node event loops (p99 lag ${s.loopLagP99Ms} ms; Node ${s.nodeCpu}% and mediasoup workers ${s.workerCpu}% of one core over ${s.joins / s.rate} s), not Redis (${s.redisCpu}%)`;
  }
  const machine = Math.round((s.gatewayCpu + s.redisCpu + s.clientCpu) / availableParallelism());
  return (
    `not Redis (${s.redisCpu}%, busiest server ${s.redisBusiestCpu}%): the gateways (Node ${s.nodeCpu}%, mediasoup ${s.workerCpu}% of one core, event-loop p99 ` +
    `${s.loopLagP99Ms} ms), Redis and the bench client (${s.clientCpu}%) together use ${machine}% of this ${availableParallelism()}-core machine`
  );
}
