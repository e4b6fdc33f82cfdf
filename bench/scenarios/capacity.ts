/**
 * capacity: audio (or simulcast video) consumers one mediasoup worker carries
 * at < 0.5 % loss and bounded jitter, ramped side by side with Janus VideoRoom
 * in the same run.
 */
import { cpus } from 'node:os';
import { ClientPool } from '../clients/ClientPool.js';
import { createJanusRoom } from '../clients/JanusClient.js';
import { measureWindow, type WindowResult } from '../clients/loadWindow.js';
import type { JoinSpec } from '../clients/pool-protocol.js';
import type { CpuGauge } from '../clients/procCpu.js';
import { MetricsCpuMeter } from '../clients/remoteMetrics.js';
import { startJanusTarget, startParley } from '../clients/targets.js';
import { localAddressFor, mintToken, TargetBudget, TargetError, TargetErrors, tokenSource } from '../lib/remote.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult, SummaryRow } from '../lib/types.js';

type Sfu = 'parley' | 'janus';
type Media = 'audio' | 'video';
/** `firstWindow`: the last window over the bounds that was measured again (the step's figures are the final window's). */
type Step = WindowResult & { sfu: Sfu; step: number; subscribers: number; pass: boolean; firstWindow?: WindowResult };
/** `sfuCpuFrom`: where a remote ramp's SFU CPU came from, or why it was not measured. */
type Ramp = { sfu: Sfu; steps: Step[]; knee: Step | null; stoppedBy: string; sfuCpuFrom?: string };
type SpecFor = (identity: string, publish: boolean, subscribe: boolean) => Promise<JoinSpec>;
/** Where a ramp's clients join, and how the SFU's CPU is read (its pids here, or a deployment's /metrics). */
type RampTarget = { spec: SpecFor; sfuCpu: number[] | CpuGauge; cpuFrom?: () => string };

const MEDIASOUP_PUBLISHED = 500;
const LIVEKIT_PER_CORE = 3000 / 16;

export const scenario: Scenario = {
  name: 'capacity',
  title: 'Audio or simulcast video consumers per mediasoup worker at < 0.5 % loss, ramped side by side with Janus VideoRoom',
  description: [
    'One room with P publishers (werift peers sending real Opus, 50 packets/s; with --media video, VP8 simulcast of three',
    'layers, 180p/360p/720p at 150k/500k/1.5M bit/s and 30 frames/s, with real payload descriptors and key-frame headers',
    'and filler picture data, see bench/clients/vp8Source.ts). Each video subscriber receives one layer, taken in turn',
    'from --layers (Parley: the tile it reports; Janus: the substream it configures). Each step adds subscribers that consume',
    'every publisher (consumers = subscribers x P), waits a warm-up, then measures a window: loss from RTP sequence gaps',
    '(a stream that delivers nothing counts as fully lost) and RFC 3550 interarrival jitter per stream, the SFU process CPU',
    '(mediasoup worker; Janus process) and the load clients\' CPU, from /proc. The ramp stops at the first step over the',
    'loss or jitter bound (the knee is the step before it), when a join fails, or after max-steps. The same ramp then runs',
    'against Janus 1.1.2 VideoRoom started on this machine, in the same run, with the same clients.',
  ].join('\n'),
  options: [
    { name: 'sfus', type: 'list', default: ['parley', 'janus'], help: 'SFUs to ramp, in this order' },
    { name: 'media', type: 'string', default: 'audio', help: 'audio (Opus) or video (VP8 simulcast, three layers)' },
    { name: 'layers', type: 'list', default: ['0', '1', '2'], help: 'video: the layers subscribers receive, in turn (0 = 180p, 1 = 360p, 2 = 720p)' },
    { name: 'publishers', type: 'number', default: 4, smoke: 1, help: 'publishers in the room (each subscriber consumes all of them)' },
    { name: 'step', type: 'number', default: 10, smoke: 2, help: 'subscribers added per step' },
    { name: 'max-steps', type: 'number', default: 25, smoke: 1, help: 'stop after this many steps' },
    { name: 'warmup-ms', type: 'number', default: 2000, smoke: 500, help: 'settling time after each step, excluded from the window' },
    { name: 'window-ms', type: 'number', default: 5000, smoke: 1000, help: 'measurement window per step' },
    { name: 'loss-pct', type: 'number', default: 0.5, help: 'loss bound (percent)' },
    { name: 'jitter-ms', type: 'number', default: 30, help: 'bound on the p95 of the streams\' interarrival jitter (ms)' },
    { name: 'retries', type: 'number', default: 2, smoke: 1, help: 'windows measured again at the same load when one is over the bounds' },
    { name: 'client-procs', type: 'number', default: 2, smoke: 1, help: 'load-client processes the werift peers are spread over' },
  ],
  remote: {
    unavailable: [
      'the Janus comparison (Janus is started on this machine, not in the deployment)',
      "the SFU CPU when the deployment's /metrics is not readable (no --metrics-token): then no consumers-per-core figures",
      'the CPU of the gateways\' Node processes (only the mediasoup workers\' is exported)',
    ],
  },
  async run(outer, o) {
    const budget = outer.target ? new TargetBudget(outer.target) : null;
    const ctx = budget ? budget.scope(outer) : outer;
    const asked = (o.sfus as string[]).map((s) => String(s)) as Sfu[];
    const sfus = budget ? asked.filter((s) => s !== 'janus') : asked;
    if (budget && asked.includes('janus')) budget.notes.push('janus: skipped, the Janus ramp runs only against a Janus this machine starts (no --target).');
    if (budget && !sfus.includes('parley')) throw new TargetError(TargetErrors.UNSUPPORTED, 'capacity against --target ramps Parley only: add parley to --sfus');
    if (o.media !== 'audio' && o.media !== 'video') throw new TypeError(`--media: unknown media "${o.media}" (audio, video)`);
    const layers = (o.layers as string[]).map(Number);
    if (layers.length === 0 || layers.some((l) => !(l >= 0 && l <= 2 && Number.isInteger(l)))) throw new TypeError(`--layers: expected layers 0, 1 or 2, got "${(o.layers as string[]).join(',')}"`);
    const ramps: Ramp[] = [];
    for (const sfu of sfus) {
      if (sfu !== 'parley' && sfu !== 'janus') throw new TypeError(`--sfus: unknown SFU "${sfu}" (parley, janus)`);
      ramps.push(await ramp(ctx, sfu, o, budget));
    }
    const result = report(ramps, o);
    return budget ? remoteReport(result, budget, ramps) : result;
  },
};

async function ramp(ctx: RunContext, sfu: Sfu, o: OptionValues, budget: TargetBudget | null): Promise<Ramp> {
  const publishers = Number(o.publishers);
  const stepSize = Number(o.step);
  const media = o.media as Media;
  const layers = (o.layers as string[]).map(Number);
  let maxSteps = Number(o['max-steps']);
  if (budget) {
    // --max-clients bounds the peers held at once: the publishers and every subscriber of the last step.
    const allowed = budget.clients(publishers + maxSteps * stepSize, 'capacity ramp (publishers + subscribers)', publishers + stepSize);
    maxSteps = Math.min(maxSteps, Math.floor((allowed - publishers) / stepSize));
  }
  const target = budget ? await remoteTarget(budget, media) : await startTarget(ctx, sfu, media);
  const sfuCpu = target.sfuCpu;
  // Subscriber n receives layers[n % layers.length] (video); publishers and audio ignore the layer.
  const spec: SpecFor = async (identity, publish, subscribe) => {
    const n = Number(/\d+$/.exec(identity)?.[0] ?? 0);
    return { ...(await target.spec(identity, publish, subscribe)), media, ...(media === 'video' && subscribe ? { layer: layers[n % layers.length] } : {}) };
  };
  const pool = await ClientPool.start(Number(o['client-procs']));
  let stopped = false;
  const stopPool = async () => {
    if (!stopped) await pool.stop();
    stopped = true;
  };
  ctx.defer(stopPool);
  const steps: Step[] = [];
  let stoppedBy = `max-steps (${maxSteps}) reached`;
  try {
    ctx.log(`${sfu}: ${publishers} publisher(s) joining`);
    for (let i = 0; i < publishers; i++) await pool.join(await spec(`pub-${i}`, true, false));
    let subscribers = 0;
    for (let step = 1; step <= maxSteps; step++) {
      if (budget?.expired(`${sfu} ramp`)) {
        stoppedBy = `--max-seconds (${budget.target.limits.maxSeconds}) reached`;
        break;
      }
      ctx.progress(step - 1, maxSteps, `${sfu}: step ${step}, ${subscribers + stepSize} subscribers`);
      try {
        await joinBatch(pool, spec, subscribers, stepSize);
      } catch (err) {
        stoppedBy = `a join failed at ${subscribers + stepSize} subscribers: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
      subscribers += stepSize;
      const within = (r: WindowResult) => r.lossPct < Number(o['loss-pct']) && !(r.jitterP95Ms > Number(o['jitter-ms']));
      let w = await measureWindow(pool, sfuCpu, Number(o['warmup-ms']), Number(o['window-ms']), ctx.signal);
      let retried: WindowResult | undefined;
      // A neighbour's burst can fail a window: measure the same load again (up to --retries times) before calling it the knee.
      for (let retry = 0; retry < Number(o.retries) && !within(w); retry++) {
        retried = w;
        w = await measureWindow(pool, sfuCpu, Number(o['warmup-ms']), Number(o['window-ms']), ctx.signal);
      }
      const pass = within(w);
      steps.push({ ...w, sfu, step, subscribers, pass, firstWindow: retried });
      ctx.log(`${sfu} step ${step}: ${w.consumers} consumers, loss ${w.lossPct.toFixed(2)} %, jitter p95 ${w.jitterP95Ms.toFixed(1)} ms, SFU CPU ${Number.isFinite(w.sfuCpuPct) ? `${w.sfuCpuPct.toFixed(0)} %` : 'not measured'}, clients CPU ${w.clientCpuPct.toFixed(0)} %`);
      if (!pass) {
        stoppedBy = `loss ${w.lossPct.toFixed(2)} % / jitter p95 ${w.jitterP95Ms.toFixed(1)} ms over the bound at ${w.consumers} consumers`;
        break;
      }
    }
  } finally {
    await stopPool();
  }
  const passing = steps.filter((s) => s.pass);
  const knee = passing.length > 0 ? passing[passing.length - 1]! : null;
  return { sfu, steps, knee, stoppedBy: `${stoppedBy}; limited by ${limiter(steps[steps.length - 1], Number(o['client-procs']))}`, ...(target.cpuFrom ? { sfuCpuFrom: target.cpuFrom() } : {}) };
}

/** Subscribers join a few at a time (a burst of DTLS handshakes is not what is measured). */
async function joinBatch(pool: ClientPool, spec: SpecFor, from: number, count: number): Promise<void> {
  const parallel = 5;
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, async (_, k) => pool.join(await spec(`sub-${from + i + k}`, false, true)));
    await Promise.all(batch);
  }
}

async function startTarget(ctx: RunContext, sfu: Sfu, media: Media): Promise<RampTarget> {
  if (sfu === 'parley') {
    // One room on one router of one worker, with room for every load client: the defaults cap a room at 16 peers
    // and one IP at 64 connections, and every load client comes from 127.0.0.1.
    const parley = await startParley(ctx, 1, { PARLEY_ROOMS_MAX_PEERS: '100000', PARLEY_MEDIA_MAX_PEERS_PER_ROUTER: '0', PARLEY_HTTP_MAX_CONNECTIONS_PER_IP: '100000' });
    const baseUrl = parley.urls[0]!;
    return { spec: async (identity, publish, subscribe) => ({ sfu, baseUrl, roomId: 'capacity', identity, publish, subscribe }), sfuCpu: parley.workerPids };
  }
  const janus = await startJanusTarget(ctx, { rtpPorts: 4000 });
  const room = 1000 + Math.floor(Math.random() * 1e6);
  // Video publishers are not capped (Janus's REMB cap would apply to a browser; the synthetic senders ignore it anyway).
  await createJanusRoom(janus.wsUrl, room, 1000, media === 'video' ? 0 : 64000);
  return { spec: async (identity, publish, subscribe) => ({ sfu, wsUrl: janus.wsUrl, host: janus.host, room, identity, publish, subscribe }), sfuCpu: [janus.pid] };
}

/**
 * The deployment's first URL, a room of this run, a token minted per client (in this process: the load
 * clients get it with their join), and the mediasoup workers' CPU from that gateway's /metrics.
 */
async function remoteTarget(budget: TargetBudget, media: Media): Promise<RampTarget> {
  const target = budget.target;
  const baseUrl = target.urls[0]!;
  const host = await localAddressFor(baseUrl);
  const roomId = `bench-capacity-${media}-${Date.now().toString(36)}`;
  const meter = new MetricsCpuMeter(target, [baseUrl]);
  return {
    spec: async (identity, publish, subscribe) => ({ sfu: 'parley', baseUrl, roomId, identity, publish, subscribe, host, token: await mintToken(target, { room: roomId, identity }) }),
    sfuCpu: meter,
    cpuFrom: () => (meter.reason ? `not measured (${meter.reason})` : `${baseUrl}/metrics: parley_worker_cpu_seconds of its mediasoup workers, every room they carry`),
  };
}

/** The notes and environment of a run against a deployment: what was measured where, and what was not. */
function remoteReport(result: ScenarioResult, budget: TargetBudget, ramps: Ramp[]): ScenarioResult {
  const url = budget.target.urls[0]!;
  return {
    ...result,
    notes: [
      ...budget.notes,
      `Measured against ${url}: one room of this run on that gateway, every load client on this machine (tokens ${tokenSource(budget.target)}); loss and jitter include the network between here and the deployment. The deployment's own limits (rooms.maxPeers, http.maxConnectionsPerIp, media.maxPeersPerRouter) apply: a refused join ends the ramp.`,
      ...ramps.map((r) => `${r.sfu}: SFU CPU from ${r.sfuCpuFrom ?? 'nowhere'}.`),
      'Noisy neighbour: the load clients (pure-JS SRTP in werift) share this machine\'s cores with its other work; the deployment\'s other traffic shares its SFU.',
      ...result.notes.filter((n) => !n.startsWith('Noisy neighbour')),
    ],
    environment: { cores: cpus().length, media: result.environment?.media, target: url, sfuCpu: ramps.map((r) => r.sfuCpuFrom), clients: result.environment?.clients },
  };
}

/** What most likely ended the ramp, from the last step's CPU figures, pacer and load average. */
function limiter(last: Step | undefined, clientProcs: number): string {
  if (!last) return 'nothing measured';
  const cores = cpus().length;
  const late = last.lateTicks > 0.02 * (last.windowMs / 20) * clientProcs;
  const clientsBusy = last.clientCpuPct >= 80 * Math.min(cores, clientProcs);
  if (late && clientsBusy) return `the load clients, CPU-bound (${last.clientCpuPct.toFixed(0)} % CPU over ${clientProcs} process(es), ${last.lateTicks} pacer ticks late)`;
  if (late && last.loadAverage > cores) {
    return `the machine: the client processes were starved (${last.lateTicks} pacer ticks late with only ${last.clientCpuPct.toFixed(0)} % CPU, load average ${last.loadAverage} on ${cores} cores, CPU pressure ${last.cpuPressurePct} %: other work competed)`;
  }
  if (late) return `the load clients (${last.lateTicks} pacer ticks late: they could not keep 50 packets/s)`;
  if (last.sfuCpuPct >= 90) return `the SFU (${last.sfuCpuPct.toFixed(0)} % of a core)`;
  const total = last.sfuCpuPct + last.clientCpuPct;
  if (total >= 0.85 * 100 * cores) return `the machine (SFU + clients ${total.toFixed(0)} % of ${cores * 100} %)`;
  return `neither side saturated (SFU ${Number.isFinite(last.sfuCpuPct) ? `${last.sfuCpuPct.toFixed(0)} %` : 'not measured'}, clients ${last.clientCpuPct.toFixed(0)} %, load average ${last.loadAverage})`;
}

/** Slope of SFU CPU % vs consumers (least squares); 0 with fewer than two distinct points. */
function cpuPerConsumer(steps: Step[]): number {
  const pts = steps.filter((s) => Number.isFinite(s.sfuCpuPct));
  if (new Set(pts.map((s) => s.consumers)).size < 2) return 0;
  const mx = pts.reduce((n, s) => n + s.consumers, 0) / pts.length;
  const my = pts.reduce((n, s) => n + s.sfuCpuPct, 0) / pts.length;
  const sxy = pts.reduce((n, s) => n + (s.consumers - mx) * (s.sfuCpuPct - my), 0);
  const sxx = pts.reduce((n, s) => n + (s.consumers - mx) ** 2, 0);
  return sxx > 0 ? sxy / sxx : 0;
}

function round1(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 10) / 10 : v;
}

function report(ramps: Ramp[], o: OptionValues): ScenarioResult {
  const summary: SummaryRow[] = ramps.flatMap((r) =>
    r.steps.map((s) => ({
      sfu: s.sfu,
      subscribers: s.subscribers,
      consumers: s.consumers,
      'loss %': round1(s.lossPct),
      'jitter p95 ms': round1(s.jitterP95Ms),
      'SFU CPU %': Number.isFinite(s.sfuCpuPct) ? Math.round(s.sfuCpuPct) : 'not measured',
      'clients CPU %': Math.round(s.clientCpuPct),
      load: s.loadAverage,
      'CPU pressure %': s.cpuPressurePct,
      ok: s.pass ? (s.firstWindow ? 'yes (re-measured)' : 'yes') : 'no',
    })),
  );
  const video = o.media === 'video';
  const noun = video ? 'Video consumers (simulcast)' : 'Audio consumers';
  /** Figure names: `parley_knee_consumers` for audio, `parley_video_knee_consumers` for video. */
  const tag = (sfu: Sfu) => (video ? `${sfu}_video` : sfu);
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  for (const r of ramps) {
    const k = r.knee;
    figures[`${tag(r.sfu)}_knee_consumers`] = k?.consumers ?? 0;
    if (k && k.sfuCpuPct > 0) figures[`${tag(r.sfu)}_consumers_per_core_extrapolated`] = Math.round((k.consumers * 100) / k.sfuCpuPct);
    if (k && Number.isFinite(k.sfuCpuPct)) figures[`${tag(r.sfu)}_knee_sfu_cpu_pct`] = Math.round(k.sfuCpuPct);
    const cpu = k && Number.isFinite(k.sfuCpuPct) ? `SFU ${k.sfuCpuPct.toFixed(0)} % of a core, ` : k ? 'SFU CPU not measured, ' : '';
    notes.push(`${r.sfu}: knee ${k ? `${k.consumers} consumers (${cpu}loss ${k.lossPct.toFixed(2)} %)` : 'not reached (first step already failed)'}; ramp stopped: ${r.stoppedBy}.`);
  }
  for (const r of ramps) {
    const slope = cpuPerConsumer(r.steps.filter((s) => s.pass));
    if (slope > 0) {
      figures[`${tag(r.sfu)}_cpu_pct_per_100_consumers`] = Math.round(slope * 100 * 10) / 10;
      figures[`${tag(r.sfu)}_consumers_per_core_fit`] = Math.round(100 / slope);
    }
  }
  for (const [figure, ratio] of [['consumers_per_core_fit', 'per_core_fit_ratio'], ['knee_consumers', 'knee_ratio'], ['consumers_per_core_extrapolated', 'per_core_ratio']]) {
    const pv = figures[`${tag('parley')}_${figure}`];
    const jv = figures[`${tag('janus')}_${figure}`];
    if (pv && jv) figures[`parley_vs_janus${video ? '_video' : ''}_${ratio}`] = Math.round((pv / jv) * 100) / 100;
  }
  if (video) {
    const layers = (o.layers as string[]).join(', ');
    notes.push(`Video: each publisher sends three layers (~2.15 Mbit/s, ~285 packets/s); subscribers receive layers ${layers} in turn (~30, ~64, ~190 packets/s). The payloads are synthetic VP8 (real descriptors and key-frame headers, filler picture data): the SFUs forward them as a camera's, the clients neither encode nor decode.`);
  }
  notes.push(
    `Published figures (not measured here, audio): mediasoup ~${MEDIASOUP_PUBLISHED} consumers per worker (one core); LiveKit 3,000 audio subscribers on 16 cores (~${Math.round(LIVEKIT_PER_CORE)} per core).`,
    'Consumers per core "extrapolated" = knee consumers x 100 / SFU CPU % at the knee; "fit" = 100 / slope of a least-squares line of SFU CPU % vs consumers over the passing steps. Both are linear extrapolations (upper estimates) from CPU time the SFU process itself used, which other work on the machine does not inflate the way it inflates loss; they say nothing about what happens past the measured range.',
    `Bounds: loss < ${o['loss-pct']} %, p95 of per-stream RFC 3550 jitter < ${o['jitter-ms']} ms; warm-up ${o['warmup-ms']} ms excluded before each ${o['window-ms']} ms window; a window over the bounds is measured again at the same load, up to ${o.retries} time(s), and the step keeps the last (${ramps.reduce((n, r) => n + r.steps.filter((s) => s.firstWindow).length, 0)} step(s) re-measured in this run).`,
    'Noisy neighbour: the SFU, the load clients (pure-JS SRTP in werift) and any other work share this machine\'s cores; the ramps run one after the other, not at once.',
  );
  const series = (pick: (s: Step) => number) => ramps.map((r) => ({ name: r.sfu, points: r.steps.filter((s) => Number.isFinite(pick(s))).map((s) => [s.consumers, round1(pick(s))] as [number, number]) }));
  return {
    summary,
    figures,
    samples: ramps,
    notes,
    ...(video ? { variant: 'video' } : {}),
    environment: { cores: cpus().length, media: String(o.media), janus: '1.1.2 (Debian), VideoRoom, ICE-lite', mediasoup: '3.12.16, one worker', clients: `werift in ${o['client-procs']} process(es)` },
    plots: [
      { id: 'loss', title: `Loss vs ${noun.toLowerCase()}`, kind: 'line', xLabel: 'consumers', yLabel: 'loss %', series: series((s) => s.lossPct), marks: [{ label: `bound ${o['loss-pct']} %`, y: Number(o['loss-pct']) }] },
      { id: 'cpu', title: `SFU CPU vs ${noun.toLowerCase()} (100 % = one core)`, kind: 'line', xLabel: 'consumers', yLabel: 'SFU CPU %', series: series((s) => s.sfuCpuPct) },
      {
        id: 'per-core',
        title: video ? `${noun} per core (fit)` : 'Audio consumers per core (knee, extrapolated) vs published figures',
        kind: 'bar',
        xLabel: 'SFU (ramp)',
        yLabel: 'consumers per core',
        categories: ramps.map((r) => r.sfu),
        series: ramps.map((r, i) => ({ name: `${r.sfu} (fit)`, points: [[i, figures[`${tag(r.sfu)}_consumers_per_core_fit`] ?? figures[`${tag(r.sfu)}_consumers_per_core_extrapolated`] ?? 0]] as Array<[number, number]> })),
        marks: video
          ? []
          : [
              { label: 'mediasoup published ~500 / worker', y: MEDIASOUP_PUBLISHED },
              { label: 'LiveKit 3000 / 16 cores', y: LIVEKIT_PER_CORE },
            ],
      },
    ],
  };
}
