/**
 * pipeline against a deployment (--target): the same rooms as on a gateway the bench starts (a speaker
 * saying the clips in turns, a Spanish listener page, tokens minted for both), the same sweep of
 * concurrent speakers, timed from outside: per speaker turn, from the end of the voice at the
 * microphone to the listener's final caption and to its first and last translated audio
 * (_pipelineTurns.ts). Engine-internal spans come only from the gateways' /metrics histograms.
 */
import type { ParleyBrowser } from '../../src/devkit/browser.js';
import { aiDropped, aiSpans, aiSpansDelta, AI_SPANS, scrapeAll, type AiSpans } from '../clients/remoteMetrics.js';
import { histogramQuantile } from '../clients/prometheus.js';
import { speakerTurns, speechInputs, type SpeechClip } from '../lib/inputs.js';
import { readArrivals } from '../lib/probes.js';
import { localAddressFor, mintToken, targetOf, TargetBudget, tokenSource } from '../lib/remote.js';
import { sleep, startBrowser } from '../lib/stack.js';
import { figuresOf, round, summarize, summaryRow, type Summary } from '../lib/stats.js';
import type { OptionValues, PlotSpec, RunContext, ScenarioResult, SummaryRow } from '../lib/types.js';
import { closeRoom, collectCaptions, openRoom, type Room, type RoomAccess } from './_pipelineRooms.js';
import { turnSamples, voiceRuns, type TurnSample } from './_pipelineTurns.js';

/** A pause of the voice this long or longer ends a turn (the clips' own pauses are shorter). */
const TURN_GAP_MS = 1500;

export const REMOTE_PIPELINE_UNAVAILABLE = [
  "the gateway's per-utterance marks (its log): e2e_from_mic and its stages per utterance (uplink, endpoint, stt, translate, tts, hops, playout, network), segment_lag and backlog per segment; turns are timed from the pages instead",
  "engine-internal stage times (stt, translate, tts, playout) when the deployment's /metrics is not readable (no --metrics-token); when readable they are the deployment's histograms over every utterance it handled meanwhile, not only the bench's",
  '--modes side by side: the deployment runs its own configuration (one run = its mode); --ai-workers, --cache, --settle-load and --keep-logs do not apply',
  "the recognizer-alone WER pass and the translation-quality pass (--wer, --quality): they run this machine's engines, not the deployment's",
];

type MetricsLevel = { spans: AiSpans; dropped: number } | { reason: string };

type RemoteLevel = { speakers: number; turns: TurnSample[]; metrics: MetricsLevel; durationS: number };

type Deps = { ctx: RunContext; budget: TargetBudget; url: string; clips: SpeechClip[]; listeners: ParleyBrowser; speakerBrowser: ((clip: SpeechClip) => Promise<ParleyBrowser>) | null; access: RoomAccess };

/** The AI histograms of every target URL, or why they are not readable. */
async function readAi(budget: TargetBudget): Promise<{ spans: AiSpans; dropped: number } | { reason: string }> {
  const s = await scrapeAll(budget.target, budget.target.urls);
  return 'reason' in s ? s : { spans: aiSpans(s.samples), dropped: aiDropped(s.samples) };
}

/** Measured turns (warm-up excluded) of every room so far. */
async function measure(rooms: readonly Room[], o: OptionValues): Promise<TurnSample[]> {
  await collectCaptions(rooms);
  const out: TurnSample[] = [];
  for (const r of rooms) {
    const runs = voiceRuns(await r.speaker.mic(), Number(o['mic-threshold']), TURN_GAP_MS);
    out.push(...turnSamples(r.index, runs, [...r.captions.values()], await readArrivals(r.listener, 'translation'), Number(o.warmup)));
  }
  return out;
}

async function runLevel(d: Deps, speakers: number, o: OptionValues, label: string): Promise<RemoteLevel> {
  const { ctx, budget } = d;
  const rooms: Room[] = [];
  const closed = new Set<Room>();
  const close = async (r: Room) => {
    if (closed.has(r)) return;
    closed.add(r);
    await closeRoom(r);
  };
  const before = await readAi(budget);
  for (let i = 0; i < speakers; i++) {
    const clip = speakerTurns(d.clips, i);
    const room = await openRoom(ctx, d.url, `remote-${speakers}`, i, clip, d.speakerBrowser ? await d.speakerBrowser(clip) : null, d.listeners, d.access);
    rooms.push(room);
    ctx.defer(() => close(room));
    ctx.progress(i + 1, speakers, `${label}, joining`);
  }
  const started = Date.now();
  const durationMs = Number(o.duration) * 1000;
  const minTurns = Number(o['min-utterances']);
  const turnMs = (Math.max(...d.clips.map((c) => c.seconds)) + Number(o.pause)) * 1000; // a clip, then its pause
  const capMs = Math.max(3 * durationMs, (Number(o.warmup) + minTurns + 2) * turnMs * 1.5);
  for (;;) {
    await sleep(ctx, 1000);
    const elapsed = Date.now() - started;
    const n = (await measure(rooms, o)).filter((t) => !t.warmup).length;
    ctx.progress(Math.min(n, minTurns), minTurns, `${label}, ${n} turn(s)`);
    if ((elapsed >= durationMs && n >= minTurns) || elapsed > capMs || budget.expired('pipeline')) break;
  }
  await sleep(ctx, 1500); // the last arrivals reach the listener's probe
  const turns = await measure(rooms, o);
  const after = await readAi(budget);
  for (const r of rooms) await close(r);
  const metrics: MetricsLevel = 'reason' in before ? before : 'reason' in after ? after : { spans: aiSpansDelta(before.spans, after.spans), dropped: after.dropped - before.dropped };
  return { speakers, turns, metrics, durationS: Math.round((Date.now() - started) / 100) / 10 };
}

const CLIENT_SPANS = [
  ['finish_from_mic', 'end of voice -> last translated audio at the listener', (t: TurnSample) => t.finishFromMicMs],
  ['first_audio_from_mic', 'end of voice -> first translated audio at the listener', (t: TurnSample) => t.firstAudioFromMicMs],
  ['final_caption_from_mic', 'end of voice -> last final caption (original language) at the listener', (t: TurnSample) => t.finalCaptionFromMicMs],
] as const;

const values = (xs: Array<number | null>) => xs.filter((x): x is number => x !== null);

/** A histogram's count and bucket-interpolated quantiles, in the shape of a Summary (ms). */
function histogramSummary(h: NonNullable<AiSpans[string]>): Summary {
  const q = (p: number) => histogramQuantile(h, p) * 1000;
  return { n: h.count, min: NaN, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: NaN, mean: h.count ? (h.sum / h.count) * 1000 : NaN };
}

function report(levels: RemoteLevel[], budget: TargetBudget, o: OptionValues, engines: unknown): ScenarioResult {
  const summary: SummaryRow[] = [];
  const figures: Record<string, number> = {};
  const readable = levels.find((l) => !('reason' in l.metrics));
  for (const [i, l] of levels.entries()) {
    const suffix = i === 0 ? '' : `_${l.speakers}spk`;
    const measured = l.turns.filter((t) => !t.warmup);
    for (const [name, what, pick] of CLIENT_SPANS) {
      const s = summarize(values(measured.map(pick)));
      summary.push(summaryRow({ speakers: l.speakers, span: name, from: 'pages', what }, s));
      Object.assign(figures, figuresOf(`${name}${suffix}`, s));
    }
    const partials = summarize(measured.flatMap((t) => t.partialIntervalsMs));
    summary.push(summaryRow({ speakers: l.speakers, span: 'partial_interval', from: 'pages', what: 'between successive original-language partial captions' }, partials));
    Object.assign(figures, figuresOf(`partial_interval${suffix}`, partials));
    figures[`turns_not_delivered${suffix}`] = measured.filter((t) => t.finishFromMicMs === null).length;
    if ('reason' in l.metrics) continue;
    figures[`metrics_dropped${suffix}`] = l.metrics.dropped;
    for (const span of AI_SPANS) {
      const h = l.metrics.spans[span.figure];
      if (!h || h.count === 0) continue;
      const s = histogramSummary(h);
      summary.push(summaryRow({ speakers: l.speakers, span: span.figure, from: '/metrics', what: span.what }, s));
      figures[`metrics_${span.figure}${suffix}_n`] = s.n;
      for (const k of ['p50', 'p95'] as const) if (Number.isFinite(s[k])) figures[`metrics_${span.figure}${suffix}_${k}_ms`] = round(s[k]);
    }
  }
  const plots: PlotSpec[] = [
    {
      id: 'turns',
      title: 'Per speaker turn, from the end of the voice at the microphone (measured from outside)',
      kind: 'scatter',
      xLabel: 'turn (all rooms of a level, in order)',
      yLabel: 'ms',
      series: levels.flatMap((l) =>
        CLIENT_SPANS.slice(0, 2).map(([name, , pick]) => ({ name: `${name}, ${l.speakers} speaker(s)`, points: l.turns.filter((t) => !t.warmup && pick(t) !== null).map((t, k) => [k, Math.round(pick(t)!)] as [number, number]) })),
      ),
    },
  ];
  const spans = AI_SPANS.filter((s) => levels.some((l) => !('reason' in l.metrics) && (l.metrics.spans[s.figure]?.count ?? 0) > 0));
  if (spans.length) {
    plots.push({
      id: 'stages',
      title: "The deployment's own span times, p50 from its /metrics histograms (bucket-interpolated)",
      kind: 'bar',
      xLabel: 'span',
      yLabel: 'ms',
      categories: spans.map((s) => s.figure),
      series: levels
        .filter((l) => !('reason' in l.metrics))
        .map((l) => ({ name: `${l.speakers} speaker(s)`, points: spans.flatMap((s, i) => {
          const h = (l.metrics as { spans: AiSpans }).spans[s.figure];
          const p50 = h && h.count ? histogramQuantile(h, 0.5) * 1000 : NaN;
          return Number.isFinite(p50) ? [[i, Math.round(p50)] as [number, number]] : [];
        }) })),
    });
  }
  const target = budget.target;
  const firstReason = levels.map((l) => l.metrics).find((m): m is { reason: string } => 'reason' in m);
  return {
    summary,
    figures,
    samples: { levels },
    plots,
    notes: [
      ...budget.notes,
      `Measured from outside ${target.urls[0]}: per level, one room per speaker (a ${o['speaker-client']} speaker saying the clips in turns, each followed by ${o.pause} s of silence; a Chromium listener page in Spanish), tokens ${tokenSource(target)}. A turn is the speaker's voice at its own microphone probe (mean power above ${o['mic-threshold']}, split at pauses of ${TURN_GAP_MS / 1000} s or more); its window runs to the next turn's voice, and only turns followed by another are measured (the first ${o.warmup} per room are warm-up).`,
      "finish_from_mic: end of the turn's voice -> the last translated audio the listener received in the window (the whole turn heard translated); first_audio_from_mic: -> the first (negative: translation started while the speaker talked); final_caption_from_mic: -> the last original-language final caption. They include this machine's network path to the deployment both ways. These are per turn, not per utterance: a turn the deployment cuts into several utterances counts once (the utterances column of the samples says how many).",
      readable
        ? "Engine-internal spans (endpoint, stt, translate, tts, playout, e2e_sent, processing_sent, segment_lag): the deployment's own histograms, read from every target URL's /metrics before and after each level; percentiles interpolated inside the buckets (coarse: bounds 50, 100, 200, 300, 400, 510, 750 ms, 1, 1.5, 2, 3 s ...), and they count every utterance the deployment handled meanwhile, not only the bench's."
        : `Engine-internal spans: not available (${firstReason?.reason ?? 'not read'}).`,
      'Noisy neighbour: only the clients (the speakers and the Chromium listener pages) run on this machine; the deployment\'s other traffic shares its AI workers.',
    ],
    environment: { target: target.urls, levels: levels.map((l) => l.speakers), speakerClient: String(o['speaker-client']), inputs: String(o.inputs), engines, metrics: readable ? 'read' : (firstReason?.reason ?? 'not read') },
  };
}

/** The deployment's engines as its /ai/engines lists them (null when it does not answer). */
async function enginesOf(url: string): Promise<unknown> {
  return fetch(new URL('/ai/engines', url), { signal: AbortSignal.timeout(5000) })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
}

export async function runRemotePipeline(outer: RunContext, o: OptionValues): Promise<ScenarioResult> {
  const budget = new TargetBudget(targetOf(outer));
  const ctx = budget.scope(outer);
  const target = budget.target;
  const url = target.urls[0]!;
  if (Number(o.pause) * 1000 < TURN_GAP_MS + 500) throw new TypeError(`--pause: against --target the pipeline is timed per turn, so turns need at least ${(TURN_GAP_MS + 500) / 1000} s of silence between them`);
  if (o['speaker-client'] !== 'werift' && o['speaker-client'] !== 'chromium') throw new TypeError(`--speaker-client: werift or chromium, not "${o['speaker-client']}"`);
  const clips = speechInputs(String(o.inputs), Number(o.pause));
  if (clips.length === 0) throw new Error(`input set "${o.inputs}" has no clips`);
  const asked = (o.speakers as number[]).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  if (asked.length === 0) throw new TypeError('--speakers needs at least one positive integer');
  // Two clients per room (speaker and listener); a level that does not fit under --max-clients is left out.
  const allowed = budget.clients(2 * Math.max(...asked), 'pipeline (a speaker and a listener page per room)', 2 * Math.min(...asked));
  const levels = asked.filter((n) => 2 * n <= allowed);
  const host = await localAddressFor(url);
  const access: RoomAccess = { host, token: (room, identity, name, role) => mintToken(target, { room, identity, name, role }) };
  const listeners = await startBrowser(ctx);
  const browsers = new Map<string, ParleyBrowser>();
  const speakerBrowser = async (clip: SpeechClip) => {
    let b = browsers.get(clip.id);
    if (!b) browsers.set(clip.id, (b = await startBrowser(ctx, { fakeAudioWav: clip.wav })));
    return b;
  };
  const deps: Deps = { ctx, budget, url, clips, listeners, speakerBrowser: o['speaker-client'] === 'chromium' ? speakerBrowser : null, access };
  const results: RemoteLevel[] = [];
  for (const [i, speakers] of levels.entries()) {
    if (budget.expired('pipeline')) break;
    ctx.log(`level ${i + 1}/${levels.length}: ${speakers} concurrent speaker(s) on ${url}`);
    results.push(await runLevel(deps, speakers, o, `level ${i + 1}/${levels.length}: ${speakers} speaker(s)`));
  }
  for (const b of [...browsers.values(), listeners]) await b.close();
  return report(results, budget, o, await enginesOf(url));
}
