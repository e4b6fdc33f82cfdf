/**
 * pipe: what a cross-replica hop costs. The same room on 1, 2 and 3 replicas, with the same
 * pages (speakers on replica 0, three listeners spread over the replicas): the delay a pipe adds
 * to the audio a listener hears (tone-burst onsets, remote listener minus local listener) and
 * the CPU per piped stream. See bench/README.md ("pipe").
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { joinCall } from '../../src/devkit/browser.js';
import { bytesFrom } from '../../src/devkit/cluster.js';
import { SPEECH_WAV } from '../../src/devkit/media.js';
import { replicaCpu } from '../lib/metrics.js';
import { installPeerConnectionTap, loudest, onsetDelays, readInbound, startInboundProbe, toneOnsets } from '../lib/probes.js';
import { figuresOf, round, summarize, summaryRow } from '../lib/stats.js';
import { sleep, startBrowser, startRedis, startReplica, until } from '../lib/stack.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult } from '../lib/types.js';

const LISTENERS = 3;
const THRESHOLD = 1e-3; // mean power of the tone is about 0.1; silence (and Opus comfort noise) far below 1e-3
const QUIET_MS = 400; // bursts are 200 ms of tone every second

/** 200 ms of 1 kHz every second for 10 s (Chromium loops it). */
function toneBursts(): string {
  const out = join(tmpdir(), 'parley-bench-tone-bursts.wav');
  if (!existsSync(out)) execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', out, 'synth', '0.2', 'sine', '1000', 'vol', '0.5', 'pad', '0', '0.8', 'repeat', '9']);
  return out;
}

type Level = {
  replicas: number;
  pipedStreams: number;
  /** Listener index -> the replica it joined. */
  placement: number[];
  /** Per listener (1..), onset delay versus listener 0 (on the speakers' replica), ms per burst. */
  delays: Array<{ listener: number; replica: number; remote: boolean; ms: number[] }>;
  bursts: number;
  /** CPU over the window, % of one core: mediasoup workers and gateway Node processes, summed over replicas. */
  workerCpuPct: number;
  nodeCpuPct: number;
  windowS: number;
};

type Shared = { ctx: RunContext; o: OptionValues; tone: Awaited<ReturnType<typeof startBrowser>>; load: Awaited<ReturnType<typeof startBrowser>>; listeners: Awaited<ReturnType<typeof startBrowser>> };

async function runLevel({ ctx, o, tone, load, listeners }: Shared, replicasN: number, index: number, total: number): Promise<Level> {
  const redis = await startRedis(ctx);
  const replicas: Array<Awaited<ReturnType<typeof startReplica>>> = [];
  const pages: Page[] = [];
  try {
    for (let i = 0; i < replicasN; i++) replicas.push(await startReplica(ctx, redis.url, `pipe${replicasN}-${i}`));
    const url = (i: number) => replicas[i % replicasN]!.url;
    const roomId = `bench-pipe-${replicasN}`;
    ctx.progress(index, total, `${replicasN} replica(s): joining`);
    const join = async (browser: Shared['tone'], replica: number, name: string, role?: 'listener') => {
      const page = await browser.newPage();
      pages.push(page);
      if (role) await installPeerConnectionTap(page);
      await joinCall(page, url(replica), { roomId, displayName: name, ...(role ? { role } : {}) });
      return { page, peerId: await page.evaluate(() => window.parley!.peerId!) };
    };
    const toneSpeaker = await join(tone, 0, 'Tone');
    const speakerIds = [toneSpeaker.peerId];
    for (let s = 1; s < Number(o.streams); s++) speakerIds.push((await join(load, 0, `Load ${s}`)).peerId);
    const placement = Array.from({ length: LISTENERS }, (_, j) => j % replicasN);
    const ls: Array<{ page: Page; peerId: string }> = [];
    for (const [j, r] of placement.entries()) ls.push(await join(listeners, r, `Listener ${j}`, 'listener'));
    await until(ctx, async () => {
      for (const l of ls) for (const id of speakerIds) if ((await bytesFrom(l.page, id)) === 0) return null;
      return true;
    }, 30_000, 'every listener to hear every stream', 200);
    await sleep(ctx, 2000);

    for (const l of ls) await startInboundProbe(l.page);
    const cpu0 = await Promise.all(replicas.map((r) => replicaCpu(r.url)));
    const t0 = Date.now();
    const durationMs = Number(o.duration) * 1000;
    while (Date.now() - t0 < durationMs) {
      ctx.progress(index + (Date.now() - t0) / durationMs, total, `${replicasN} replica(s): measuring`);
      await sleep(ctx, Math.min(1000, durationMs));
    }
    const cpu1 = await Promise.all(replicas.map((r) => replicaCpu(r.url)));
    const windowS = (Date.now() - t0) / 1000;
    const series = (await Promise.all(ls.map((l) => readInbound(l.page)))).map(loudest);
    const reference = toneOnsets(series[0]!, THRESHOLD, QUIET_MS);
    const delays = ls.slice(1).map((_, k) => {
      const j = k + 1;
      return { listener: j, replica: placement[j]!, remote: placement[j] !== 0, ms: onsetDelays(reference, toneOnsets(series[j]!, THRESHOLD, QUIET_MS), 400) };
    });
    const sumCpu = (k: 'worker' | 'node') => (cpu1.reduce((s, c) => s + c[k], 0) - cpu0.reduce((s, c) => s + c[k], 0)) / windowS * 100;
    return {
      replicas: replicasN,
      pipedStreams: speakerIds.length * new Set(placement.filter((r) => r !== 0)).size,
      placement,
      delays,
      bursts: reference.length,
      workerCpuPct: round(sumCpu('worker')),
      nodeCpuPct: round(sumCpu('node')),
      windowS: round(windowS),
    };
  } finally {
    for (const p of pages) await p.close().catch(() => undefined);
    for (const r of replicas) await r.kill();
    await redis.stop();
  }
}

async function run(ctx: RunContext, o: OptionValues): Promise<ScenarioResult> {
  const levels = (o.replicas as number[]).map(Number);
  if (!levels.includes(1)) throw new TypeError('--replicas must include 1 (the baseline every other level is compared with)');
  const shared: Shared = {
    ctx,
    o,
    tone: await startBrowser(ctx, { fakeAudioWav: toneBursts() }),
    load: await startBrowser(ctx, { fakeAudioWav: SPEECH_WAV }),
    listeners: await startBrowser(ctx),
  };
  const results: Level[] = [];
  for (const [i, n] of levels.entries()) results.push(await runLevel(shared, n, i, levels.length));
  ctx.progress(levels.length, levels.length, 'done');

  const base = results.find((r) => r.replicas === 1)!;
  const local = summarize(results.flatMap((r) => r.delays.filter((d) => !d.remote).flatMap((d) => d.ms)));
  const remote = summarize(results.flatMap((r) => r.delays.filter((d) => d.remote).flatMap((d) => d.ms)));
  const summary = results.flatMap((r) => [
    ...[false, true].map((remoteSide) => {
      const ms = r.delays.filter((d) => d.remote === remoteSide).flatMap((d) => d.ms);
      return ms.length ? summaryRow({ replicas: r.replicas, listener: remoteSide ? 'other replica (piped)' : 'same replica (control)', piped_streams: r.pipedStreams, worker_cpu_pct: r.workerCpuPct, node_cpu_pct: r.nodeCpuPct }, summarize(ms)) : null;
    }),
  ]).filter((x): x is NonNullable<typeof x> => x !== null);
  const perStream = results
    .filter((r) => r.pipedStreams > 0)
    .map((r) => ({ replicas: r.replicas, worker: (r.workerCpuPct - base.workerCpuPct) / r.pipedStreams, node: (r.nodeCpuPct - base.nodeCpuPct) / r.pipedStreams }));
  const figures: Record<string, number> = {
    ...Object.fromEntries(Object.entries(figuresOf('added_latency', remote)).map(([k, v]) => [k, v])),
    ...figuresOf('control_delay', local),
  };
  for (const p of perStream) {
    figures[`worker_cpu_pct_per_piped_stream_at_${p.replicas}`] = round(p.worker);
    figures[`node_cpu_pct_per_piped_stream_at_${p.replicas}`] = round(p.node);
  }
  for (const r of results) figures[`worker_cpu_pct_at_${r.replicas}`] = r.workerCpuPct;
  return {
    summary,
    figures,
    samples: results,
    plots: [
      {
        id: 'delay',
        title: 'Audio onset delay versus a listener on the speakers\' replica',
        kind: 'scatter',
        xLabel: 'replicas in the room',
        yLabel: 'ms (this listener minus the local reference listener)',
        series: [
          { name: 'same replica (control)', points: results.flatMap((r) => r.delays.filter((d) => !d.remote).flatMap((d) => d.ms.map((ms) => [r.replicas - 0.08, ms] as [number, number]))) },
          { name: 'other replica (piped)', points: results.flatMap((r) => r.delays.filter((d) => d.remote).flatMap((d) => d.ms.map((ms) => [r.replicas + 0.08, ms] as [number, number]))) },
        ],
        marks: [{ label: 'no delay', y: 0 }],
      },
      {
        id: 'cpu',
        title: 'CPU of the replicas (same pages, spread over more replicas)',
        kind: 'bar',
        xLabel: 'replicas in the room',
        yLabel: '% of one core over the window',
        categories: results.map((r) => `${r.replicas} replica${r.replicas === 1 ? '' : 's'}`),
        series: [
          { name: 'mediasoup workers', points: results.map((r, i) => [i, r.workerCpuPct] as [number, number]) },
          { name: 'gateway Node processes', points: results.map((r, i) => [i, r.nodeCpuPct] as [number, number]) },
        ],
      },
    ],
    notes: [
      `Same pages at every level: ${o.streams} speaker stream(s) on replica 0 (one plays 200 ms tone bursts every second, the others the LibriVox clip) and ${LISTENERS} listener pages placed on replica (listener index mod replicas); only the placement changes, so the CPU difference is the piping.`,
      'Delay: the onset of each tone burst in the audio a listener plays out (inbound-rtp totalAudioEnergy and totalSamplesDuration sampled every 10 ms in the page, so after its jitter buffer; the onset is placed inside the sampling interval from the energy that arrived in it, so a late poll does not move it), minus the onset at listener 0 on the speakers\' replica; same-replica listeners are the control: their spread is the measurement noise.',
      'CPU: parley_worker_cpu_seconds and parley_process_cpu_seconds_total from each replica\'s /metrics over the window; per piped stream = (level - 1 replica level) / piped streams. With few streams this is near the noise: read it as an upper bound.',
      'Everything (replicas, Redis, three Chromium instances) shares this machine with other workloads (noisy neighbours): see the load averages.',
    ],
    environment: { listeners: LISTENERS, streams: Number(o.streams), pipeSrtp: false },
  };
}

export const scenario: Scenario = {
  name: 'pipe',
  title: 'Cross-replica cost: added one-way latency and CPU per piped stream, 1 vs 2 vs 3 replicas for the same room',
  description: `One room, the same pages at every level: speakers on replica 0 (one page plays 200 ms tone
bursts every second) and three listener pages placed round-robin over 1, 2 or 3 replicas
(\`parley up\` children on one Redis), so listeners on other replicas receive the streams through
PipeTransports. Latency: each listener page samples the tone's played-out energy every 10 ms; the
clock starts at a burst's onset at listener 0 (on the speakers' replica) and stops at the same
burst's onset at the other listener. CPU: mediasoup worker and gateway CPU seconds from /metrics
over the window, compared with the 1-replica level.`,
  options: [
    { name: 'replicas', type: 'list', default: [1, 2, 3], smoke: [1, 2], help: 'replica counts to compare (must include 1)' },
    { name: 'duration', type: 'number', default: 40, smoke: 5, help: 'seconds measured per level' },
    { name: 'streams', type: 'number', default: 4, smoke: 1, help: 'speaker streams on replica 0 (1 tone + the rest speech)' },
  ],
  run,
};
