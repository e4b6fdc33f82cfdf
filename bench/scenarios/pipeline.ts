/**
 * pipeline: real speech through a running gateway, translated by the AI worker's engines, timed per
 * stage from the end of speech at the speaker's microphone to the first translated audio at the
 * listener, with concurrent speakers swept, for each mode (batch, consecutive, simultaneous) side by side.
 * See bench/README.md ("pipeline").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullName, QueueNames } from '../../src/state/keys.js';
import type { ParleyBrowser } from '../../src/devkit/browser.js';
import { speakerTurns, speechInputs, type SpeechClip } from '../lib/inputs.js';
import { aiWorkerReady, dropLines, dropsByCode, playedEnds, segmentLines, utteranceLines } from '../lib/logs.js';
import {
  modeSuffix,
  pipelineFigures,
  pipelinePlots,
  pipelineSummary,
  qualityFigures,
  qualityNotes,
  qualityPlot,
  sweepNotes,
  type LevelResult,
  type PipelineSlo,
} from '../lib/pipelineReport.js';
import { readArrivals } from '../lib/probes.js';
import { loadSlo } from '../lib/slo.js';
import { percentile } from '../lib/stats.js';
import { sleep, startAiWorker, startBrowser, startRedis, startReplica, until } from '../lib/stack.js';
import { measureStt, type SttClipResult } from '../lib/sttQuality.js';
import { measureTranslationQuality, type QualityRun } from '../lib/translationQuality.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult } from '../lib/types.js';
import { buildSample, type UtteranceSample } from '../lib/utterances.js';
import { closeRoom, collectCaptions, openRoom, type Room } from './_pipelineRooms.js';
import { REMOTE_PIPELINE_UNAVAILABLE, runRemotePipeline } from './_remotePipeline.js';

const MAX_AGE_MS = 15_000; // ai.maxAgeMs (default): an utterance older than this is dropped
const CHUNK_MS = 160; // ai.chunkMs (default): the gateway streams an utterance in chunks of this much audio
/** How far before the VAD's endpoint, beyond its silence wait, the microphone's end of speech is looked for. */
const MIC_LOOKBACK_MS = 1500;

/** A mode: how its gateway and AI workers are configured (environment variables of config keys). */
type ModeSpec = { minSilenceMs: number; recognition: string; gatewayEnv: Record<string, string>; workerEnv: Record<string, string>; what: string };

const CONSECUTIVE = { PARLEY_AI_TRANSLATION: 'consecutive' };

const MODES: Record<string, ModeSpec> = {
  batch: {
    minSilenceMs: 500,
    recognition: 'batch',
    gatewayEnv: { PARLEY_AI_MIN_SILENCE_MS: '500', ...CONSECUTIVE },
    workerEnv: { PARLEY_AI_RECOGNITION: 'batch', ...CONSECUTIVE },
    what: 'the behaviour before streaming: the VAD waits ai.minSilenceMs 500 ms of silence, then the AI worker decodes the whole utterance (pocketsphinx with its fwdflat and bestpath passes), no partial captions; consecutive translation',
  },
  consecutive: {
    minSilenceMs: 250,
    recognition: 'streaming',
    gatewayEnv: CONSECUTIVE,
    workerEnv: CONSECUTIVE,
    what: `streaming recognition with consecutive translation (the behaviour before simultaneous translation): the VAD waits ai.minSilenceMs 250 ms, the utterance streams to the AI worker in ${CHUNK_MS} ms chunks while it is spoken, partial captions; the final transcript is translated and spoken whole, translations play one after another in full`,
  },
  simultaneous: {
    minSilenceMs: 250,
    recognition: 'streaming',
    gatewayEnv: {},
    workerEnv: {},
    what: 'the defaults: streaming recognition and simultaneous translation (stable words committed while the speaker talks, each segment translated and spoken at once, the voice paced by its backlog)',
  },
};

/** Which room each utterance id belongs to (its listener got a caption of it). */
function utterancesByRoom(rooms: readonly Room[]): Map<string, Room> {
  const out = new Map<string, Room>();
  for (const room of rooms) for (const c of room.captions.values()) out.set(c.utteranceId, room);
  return out;
}

/** Deletes the AI cache's keys as they appear, so every utterance runs every engine. Returns a stop function. */
function flushCacheLoop(redisUrl: string): { stop(): Promise<number> } {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  let deleted = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const keys = await client.keys('parley:ai-cache:*').catch(() => [] as string[]);
      if (keys.length) deleted += await client.del(...keys).catch(() => 0);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      client.disconnect();
      return deleted;
    },
  };
}

/** Waits (at most `capMs`) until the pipeline's queues hold no waiting or running job; returns what is left. */
async function queuesIdle(ctx: RunContext, redisUrl: string, capMs: number): Promise<number> {
  const queues = [QueueNames.stt, QueueNames.translate, QueueNames.tts].map((name) => new Queue(bullName(name), { connection: { url: redisUrl }, prefix: 'parley' }));
  const pending = async () => {
    let n = 0;
    for (const q of queues) {
      const c = await q.getJobCounts('wait', 'active', 'prioritized', 'delayed');
      n += Object.values(c).reduce((a, b) => a + b, 0);
    }
    return n;
  };
  try {
    return await until(ctx, async () => ((await pending()) === 0 ? 0 : null), capMs, 'the AI queues to empty', 500).catch(() => pending());
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

type Deps = {
  ctx: RunContext;
  mode: string;
  spec: ModeSpec;
  url: string;
  logs: () => string;
  workerLogs: () => string;
  clips: SpeechClip[];
  listeners: ParleyBrowser;
  /** Null: werift speakers (--speaker-client werift). */
  speakerBrowser: ((clip: SpeechClip) => Promise<ParleyBrowser>) | null;
};

async function runLevel(d: Deps, speakers: number, o: OptionValues, levelIndex: number, levelCount: number): Promise<LevelResult> {
  const { ctx, mode } = d;
  const offset = d.logs().length;
  const workerOffset = d.workerLogs().length;
  const rooms: Room[] = [];
  const label = `${mode}, level ${levelIndex + 1}/${levelCount}: ${speakers} speaker(s)`;
  for (let i = 0; i < speakers; i++) {
    const clip = speakerTurns(d.clips, i);
    rooms.push(await openRoom(ctx, d.url, `${mode}-${speakers}`, i, clip, d.speakerBrowser ? await d.speakerBrowser(clip) : null, d.listeners));
    ctx.progress(i + 1, speakers, `${label}, joining`);
  }
  const started = Date.now();
  const warmup = Number(o.warmup);
  const durationMs = Number(o.duration) * 1000;
  const minUtterances = Number(o['min-utterances']);
  const capMs = Math.max(3 * durationMs, 120_000);

  /** Delivered utterances of this level's rooms, warm-up excluded, in speech order per room. */
  const measured = async () => {
    await collectCaptions(rooms);
    const owner = utterancesByRoom(rooms);
    const lines = utteranceLines(d.logs().slice(offset)).filter((l) => owner.has(l.utteranceId));
    const perRoom = new Map<Room, typeof lines>();
    for (const l of lines) perRoom.set(owner.get(l.utteranceId)!, [...(perRoom.get(owner.get(l.utteranceId)!) ?? []), l]);
    const kept: Array<{ room: Room; line: (typeof lines)[number] }> = [];
    for (const [room, ls] of perRoom) {
      ls.sort((a, b) => a.time - (a.ms.endToEnd ?? 0) - (b.time - (b.ms.endToEnd ?? 0)));
      for (const line of ls.slice(warmup)) kept.push({ room, line });
    }
    return kept;
  };
  // The gateway logs every drop (refusals at admission, and drops the AI workers report back); a worker's
  // own line covers a drop whose result never reached the gateway. Each utterance counts once per code.
  const droppedNow = () => dropsByCode([...dropLines(d.logs().slice(offset)), ...dropLines(d.workerLogs().slice(workerOffset))]);
  const droppedTotal = () => Object.values(droppedNow()).reduce((a, b) => a + b, 0);

  for (;;) {
    await sleep(ctx, 1000);
    const elapsed = Date.now() - started;
    const n = (await measured()).length;
    // Past the duration, a level that drops utterances is saturated: waiting longer only grows its backlog.
    if (elapsed >= durationMs && droppedTotal() > 0) break;
    const text = `${label}, ${n} utterance(s)`;
    if (durationMs > 0) ctx.progress(Math.min(Math.round(elapsed / 1000), durationMs / 1000), durationMs / 1000, `${text} (seconds)`);
    else ctx.progress(Math.min(n, minUtterances), minUtterances, text);
    if (elapsed >= durationMs && n >= minUtterances) break;
    if (elapsed > capMs) break;
  }
  const stopAt = Date.now();
  // Utterances that ended before stopAt may still be in flight: wait until each room delivered one that ended later
  // (a speaker's translations play in order), or until the pipeline's own age limit has dropped them.
  if (!ctx.smoke) {
    await until(ctx, async () => {
      const kept = await measured();
      return rooms.every((r) => kept.some((k) => k.room === r && k.line.time - (k.line.ms.endToEnd ?? 0) > stopAt)) ? true : null;
    }, MAX_AGE_MS + 2000, 'in-flight utterances', 500).catch(() => ctx.log(`${label}: stopped waiting for in-flight utterances after ${MAX_AGE_MS / 1000 + 2} s`));
  }
  await sleep(ctx, 1500); // the last arrivals reach the listener's probe
  const kept = (await measured()).filter((k) => k.line.time - (k.line.ms.endToEnd ?? 0) <= stopAt);
  const keptIds = new Set(kept.map((k) => k.line.utteranceId));
  const segments = segmentLines(d.logs().slice(offset))
    .filter((l) => keptIds.has(l.utteranceId))
    .map((l) => ({ utteranceId: l.utteranceId, index: l.segment, last: l.last, lagMs: l.lagMs, backlogMs: l.backlogMs, rate: l.rate }));
  const mics = new Map<Room, Array<[number, number]>>();
  const arrivals = new Map<Room, Awaited<ReturnType<typeof readArrivals>>>();
  for (const r of rooms) {
    mics.set(r, await r.speaker.mic());
    arrivals.set(r, await readArrivals(r.listener, 'translation'));
  }
  const ends = playedEnds(d.logs().slice(offset));
  const samples: Array<UtteranceSample & { room: number; clip: string }> = kept.map((k) => ({
    room: k.room.index,
    clip: k.room.clip.id,
    ...buildSample(k.line, mics.get(k.room) ?? null, arrivals.get(k.room) ?? [], d.spec.minSilenceMs + MIC_LOOKBACK_MS, [...k.room.captions.values()], Number(o['mic-threshold']), ends.get(k.line.utteranceId) ?? null),
  }));
  const dropped = droppedNow();
  if (kept.length === 0) keepLogs(d, offset, workerOffset, `${mode}-${speakers}spk`);
  for (const r of rooms) await closeRoom(r);
  await sleep(ctx, 1000);
  return { mode, suffix: modeSuffix(mode), speakers, samples, segments, dropped, durationS: Math.round((stopAt - started) / 100) / 10 };
}

/** A level that measured nothing: its gateway and worker logs go beside the report, for whoever finds out why. */
function keepLogs(d: Deps, offset: number, workerOffset: number, tag: string): void {
  const base = join(d.ctx.resultsDir, `pipeline-nothing-measured-${tag}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(d.ctx.resultsDir, { recursive: true });
  writeFileSync(`${base}-gateway.log`, d.logs().slice(offset));
  writeFileSync(`${base}-workers.log`, d.workerLogs().slice(workerOffset));
  d.ctx.log(`${tag}: nothing measured; the gateway's and AI workers' logs of this level are in ${base}-*.log`);
}

type Engines = { used: Array<{ stage: string; language: string; engine: string }>; names: Record<string, string> };

/** Reads which engines serve this path (English recognition, English -> Spanish, Spanish synthesis) from the gateway. */
async function enginesOf(ctx: RunContext, url: string): Promise<Engines> {
  const info = (await until(ctx, async () => {
    const res = await fetch(`${url}/ai/engines`);
    const body = (await res.json()) as { engines?: Array<{ stage: string; language: string; engine: string }> };
    return res.ok && (body.engines ?? []).some((e) => e.stage === 'stt') ? body : null;
  }, 30_000, 'the AI worker to announce its engines', 500))!;
  const wanted = (e: { stage: string; language: string }) => (e.stage === 'stt' && e.language === 'en') || (e.stage === 'translate' && e.language === 'en-es') || (e.stage === 'tts' && e.language === 'es');
  const used = (info.engines ?? []).filter(wanted).map(({ stage, language, engine }) => ({ stage, language, engine }));
  return { used, names: Object.fromEntries(used.map((e) => [e.stage, e.engine])) };
}

type Browsers = { listeners: ParleyBrowser; speakerBrowser: ((clip: SpeechClip) => Promise<ParleyBrowser>) | null };
type ModeRun = {
  levels: LevelResult[];
  engines: Engines;
  cacheKeysDeleted: number | null;
  /** What the AI workers said they run (their ready line). */
  workers: Array<{ recognition: string; maxSessions: number } | null>;
  /** 1-minute load average when the mode's stack started and when it stopped. */
  load: [number, number];
};

/**
 * Waits (at most 3 minutes) for the 1-minute load average to drop below `limit` (0 = do not wait), so a
 * mode does not start inside the load the previous mode's highest level left behind.
 */
async function settle(ctx: RunContext, limit: number, mode: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (limit > 0 && loadavg()[0]! >= limit && Date.now() < deadline) {
    ctx.progress(0, 1, `${mode}: waiting for the load average (${loadavg()[0]!.toFixed(1)}) to drop below ${limit}`);
    await sleep(ctx, 5000);
  }
  if (limit > 0 && loadavg()[0]! >= limit) ctx.log(`${mode}: load average still ${loadavg()[0]!.toFixed(1)} after 3 minutes: running anyway`);
}

/** One recognition mode: a fresh Redis, gateway and AI worker(s), the levels swept, everything stopped again. */
async function runMode(ctx: RunContext, o: OptionValues, mode: string, clips: SpeechClip[], browsers: Browsers, notes: string[]): Promise<ModeRun> {
  const spec = MODES[mode]!;
  const levels = (o.speakers as number[]).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  await settle(ctx, Number(o['settle-load']), mode);
  const loadStart = loadavg()[0]!;
  ctx.log(`${mode}: starting redis, a gateway and the AI worker(s)`);
  const redis = await startRedis(ctx);
  const gateway = await startReplica(ctx, redis.url, `bench-pipeline-${mode}`, spec.gatewayEnv);
  const workers: Array<Awaited<ReturnType<typeof startAiWorker>>> = [];
  // Kept logs are the AI workers' debug logs: they carry each recognition session's decoder lag and final time.
  const workerEnv = o['keep-logs'] ? { PARLEY_LOG_LEVEL: 'debug', ...spec.workerEnv } : spec.workerEnv;
  for (let i = 0; i < Number(o['ai-workers']); i++) workers.push(await startAiWorker(ctx, redis.url, workerEnv));
  const reported = workers.map((w) => aiWorkerReady(w.logs()));
  const wrong = reported.find((r) => r !== null && r.recognition !== spec.recognition);
  if (wrong) throw new Error(`${mode} mode: an AI worker says it runs ai.recognition "${wrong.recognition}" (check PARLEY_AI_* variables in this environment)`);
  const engines = await enginesOf(ctx, gateway.url);
  const cache = o.cache ? null : flushCacheLoop(redis.url);
  const results: LevelResult[] = [];
  let deleted: number | null = null;
  try {
    for (const [i, speakers] of levels.entries()) {
      ctx.log(`${mode}, level ${i + 1}/${levels.length}: ${speakers} concurrent speaker(s)`);
      const left = await queuesIdle(ctx, redis.url, 30_000);
      if (left > 0) notes.push(`${mode}, level ${speakers}: ${left} job(s) of the previous level were still queued when it started.`);
      const deps: Deps = { ctx, mode, spec, url: gateway.url, logs: gateway.logs, workerLogs: () => workers.map((w) => w.logs()).join('\n'), clips, ...browsers };
      const level = await runLevel(deps, speakers, o, i, levels.length);
      results.push(level);
      if (level.samples.length === 0 && i < levels.length - 1) {
        const drops = Object.values(level.dropped).reduce((a, b) => a + b, 0);
        notes.push(`${mode}, level ${speakers}: no utterance was delivered (${drops} dropped: the pipeline is saturated), so this sweep stopped there; higher levels would only be worse.`);
        break;
      }
    }
  } finally {
    deleted = cache ? await cache.stop() : null;
    if (o['keep-logs']) {
      const dir = join(tmpdir(), 'parley-bench-pipeline-logs', `${mode}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'gateway.log'), gateway.logs());
      workers.forEach((w, i) => writeFileSync(join(dir, `ai-worker-${i}.log`), w.logs()));
      notes.push(`${mode}: the gateway's and AI workers' logs are in ${dir}.`);
    }
    // The call is over: stop its parts now so what follows does not compete with a leftover backlog.
    for (const w of workers) await w.kill();
    await gateway.kill();
    await redis.stop();
  }
  return { levels: results, engines, cacheKeysDeleted: deleted, workers: reported, load: [loadStart, loadavg()[0]!] };
}

const r2 = (x: number) => Math.round(x * 100) / 100;

async function run(ctx: RunContext, o: OptionValues): Promise<ScenarioResult> {
  if (ctx.target) return runRemotePipeline(ctx, o);
  const clips = speechInputs(String(o.inputs), Number(o.pause));
  if (clips.length === 0) throw new Error(`input set "${o.inputs}" has no clips`);
  if (!(o.speakers as number[]).some((n) => Number.isInteger(Number(n)) && Number(n) > 0)) throw new TypeError('--speakers needs at least one positive integer');
  if (o['speaker-client'] !== 'werift' && o['speaker-client'] !== 'chromium') throw new TypeError(`--speaker-client: werift or chromium, not "${o['speaker-client']}"`);
  const modes = [...new Set((o.modes as string[]).map(String))];
  if (modes.length === 0) throw new TypeError(`--modes needs at least one of ${Object.keys(MODES).join(', ')}`);
  for (const m of modes) if (!MODES[m]) throw new TypeError(`--modes: unknown mode "${m}" (${Object.keys(MODES).join(', ')})`);
  const inherited = Object.keys(process.env).filter((k) => k.startsWith('PARLEY_AI_'));

  const listeners = await startBrowser(ctx);
  const speakerBrowsers = new Map<string, ParleyBrowser>();
  const speakerBrowser = async (clip: SpeechClip) => {
    let b = speakerBrowsers.get(clip.id);
    if (!b) speakerBrowsers.set(clip.id, (b = await startBrowser(ctx, { fakeAudioWav: clip.wav })));
    return b;
  };
  const notes: string[] = [];
  const results: LevelResult[] = [];
  const runs = new Map<string, ModeRun>();
  for (const mode of modes) {
    const r = await runMode(ctx, o, mode, clips, { listeners, speakerBrowser: o['speaker-client'] === 'chromium' ? speakerBrowser : null }, notes);
    results.push(...r.levels);
    runs.set(mode, r);
  }
  for (const b of [...speakerBrowsers.values(), listeners]) await b.close();

  let stt: SttClipResult[] = [];
  if (o.wer) {
    ctx.log('speech recognizer alone on the clips, batch then streaming (WER and time), after the calls');
    const limit = Number(o['wer-clips']);
    stt = await measureStt(limit > 0 ? clips.slice(0, limit) : clips, { pythonBin: '/usr/bin/python3', modes: ['batch', 'streaming'], chunkMs: CHUNK_MS });
  }
  let quality: QualityRun | null = null;
  if (o.quality) {
    ctx.log('translation quality, simultaneous vs consecutive on the same recognized text (commit policies compared), after the calls');
    quality = await measureTranslationQuality(speechInputs('librivox', 0), { chunkMs: CHUNK_MS, endpointWaitMs: 250, pythonBin: '/usr/bin/python3' });
  }
  const loadEnd = loadavg()[0]!;

  const slo: PipelineSlo = (await loadSlo(new URL('../slo.yaml', import.meta.url).pathname).catch(() => ({})) as Record<string, PipelineSlo>).pipeline ?? {};
  const engines = [...runs.values()].at(-1)?.engines ?? { used: [], names: {} };
  const first = results.find((l) => l.samples.length > 0);
  notes.unshift(
    `The headline clock is e2e_from_mic: from the end of the speaker's voice at the microphone probe (${o['speaker-client'] === 'chromium' ? "the speaker page's WebRTC media-source stats, sampled every 20 ms" : "the werift speaker's own record of each 20 ms Opus frame it sent, with the frame's mean power"}; the last sample above mean power ${o['mic-threshold']} before the gateway's endpoint) to the first translated bytes at the listener page (polled every 20 ms, resolution p50 ${resolution(results)} ms). It includes the silence the VAD waits for, which the modes set differently, so it is the clock that compares them; e2e starts at the gateway's endpoint and leaves that wait out. SLOs apply to the simultaneous mode's figures (the defaults, unsuffixed); the other modes' end in _<mode> and are there for comparison. In simultaneous mode an utterance's clock stops at the first translated audio of its last words (its last segment), which may start before the speaker's voice ends (a negative figure); in the other modes at the first translated audio of the utterance, whose last words come a whole translation later. finish_from_mic compares the modes on the same footing: end of the speaker's voice -> end of the utterance's translated voice (its last frame sent by the gateway, plus the utterance's network time), when the listener has heard all of it. segment_lag: per segment of simultaneous translation, from the end of its source words (for the last segment the last voiced audio; before, the arrival at the gateway of the chunk in which the recognizer first heard the segment's last word as it stayed) to its first translated packet out; backlog: translated speech still to play ahead of a segment when it reached its voice at the gateway (ms at normal speed): how far behind the voice was.`,
    `uplink (the microphone's end of voice -> the VAD's last voiced audio) p50: ${modes.map((m) => `${m} ${median(results.filter((l) => l.mode === m).flatMap((l) => l.samples.map((x) => x.stages.uplink)))} ms`).join(', ')}. It comes out negative when the VAD (Silero, speech probability 0.5) ends the voice before the probe's energy threshold does, on the decaying tail of the last word; e2e_from_mic then starts that much later than the VAD's own end of voice. --mic-threshold moves it (the LibriVox clips' noise floor is near 1e-5..1e-4).`,
    `Modes, side by side in this run, each on a fresh Redis, gateway and ${o['ai-workers']} AI worker(s), in this order: ${modes.map((m) => `${m} = ${MODES[m]!.what} (gateway ${envText(MODES[m]!.gatewayEnv)}, AI worker ${envText(MODES[m]!.workerEnv)}; the workers reported ${runs.get(m)!.workers.map((w) => (w ? `recognition ${w.recognition}, ${w.maxSessions} sessions` : 'nothing')).join(' / ')})`).join('; ')}.`,
    `Machine load: ${availableParallelism()} cores; 1-minute load average ${modes.map((m) => `${r2(runs.get(m)!.load[0])} -> ${r2(runs.get(m)!.load[1])} over the ${m} calls`).join(', ')}, ${r2(loadEnd)} after the recognizer-alone pass. Everything (Redis, gateway, mediasoup worker, AI worker(s), ${1 + speakerBrowsers.size} Chromium instance(s)${o['speaker-client'] === 'chromium' ? '' : ', the werift speakers in the bench process'}) shares this machine, and other workloads on it (noisy neighbours) show up in the figures; a load above the core count measures them as much as Parley.`,
    `Engines: ${Object.entries(engines.names).map(([k, v]) => `${k} ${v}`).join(', ') || 'unknown'} (the offline set; production engines such as sherpa-onnx and OPUS-MT were not installed).`,
    `Inputs: ${clips.map((c) => `${c.id} (${c.seconds} s)`).join(', ')}, each followed by ${o.pause} s of silence and looped ${o['speaker-client'] === 'chromium' ? "by Chromium's fake microphone, one browser per clip" : 'by a werift speaker per room (Opus, 32 kb/s, 20 ms frames)'}; speaker i says the clips in turn from clip i mod ${clips.length}; one Chromium page per room listens in Spanish.`,
    `Warm-up excluded: the first ${o.warmup} utterance(s) of every speaker at every level.`,
    `partial_interval: the intervals between successive original-language (English) partial captions (final: false) of one utterance as the listener page received them (receivedAt of window.parley.captions()), up to its final; the Spanish partials are left out (at most one translation is in flight, so their cadence is the translator's, not the recognizer's). Batch mode has no partial captions. A decoder that falls behind stalls and then sends its hypotheses in a burst, which lowers the p50: read the p95 beside it.`,
    ...sweepNotes(results, slo),
    ...qualityNotes(quality),
    `AI cache ${o.cache ? 'on (repeated phrases skip the engines)' : `off: its keys were deleted as they appeared (${modes.map((m) => `${runs.get(m)!.cacheKeysDeleted ?? 0} in ${m}`).join(', ')}), so every utterance ran every engine`}.`,
    ...(stt.length
      ? [`Recognizer alone, after the calls (${stt[0]!.engine}, one decoder, nothing else running in the bench): batch decodes each clip whole; streaming feeds it in ${CHUNK_MS} ms chunks through a session and finishes; "final" is the whole decode (batch) or last chunk -> final (streaming). wer_delta = stt_wer - stt_wer_batch (streaming minus batch), corpus WER over ${new Set(stt.map((r) => r.clip)).size} clip(s).`]
      : []),
    ...(inherited.length ? [`Inherited from this environment by every gateway and AI worker (the modes set only their own variables over them): ${inherited.join(', ')}.`] : []),
    ...(first ? [] : ['No utterance was delivered in any mode: every latency figure is "no data".']),
  );
  return {
    summary: pipelineSummary(results, stt),
    figures: { ...pipelineFigures(results, stt, slo), ...qualityFigures(quality) },
    samples: { levels: results, stt, quality },
    plots: [...pipelinePlots(results, stt, slo), ...qualityPlot(quality)],
    notes,
    environment: {
      engines: engines.used,
      aiWorkers: Number(o['ai-workers']),
      gatewayReplicas: 1,
      cache: Boolean(o.cache),
      chunkMs: CHUNK_MS,
      modes: modes.map((m) => ({ mode: m, minSilenceMs: MODES[m]!.minSilenceMs, gatewayEnv: MODES[m]!.gatewayEnv, workerEnv: MODES[m]!.workerEnv, workersReported: runs.get(m)!.workers })),
      inputs: clips.map((c) => c.id),
    },
  };
}

function envText(env: Record<string, string>): string {
  const e = Object.entries(env);
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(' ') : 'defaults';
}

function median(xs: Array<number | undefined>): number | string {
  const p = percentile(xs.filter((x): x is number => typeof x === 'number'), 50);
  return Number.isFinite(p) ? Math.round(p) : '-';
}

function resolution(levels: readonly LevelResult[]): number | string {
  const r = levels.flatMap((l) => l.samples.map((s) => s.receivedResolutionMs)).filter((x): x is number => x !== null).sort((a, b) => a - b);
  return r.length ? r[Math.floor(r.length / 2)]! : '-';
}

export const scenario: Scenario = {
  name: 'pipeline',
  title: 'Speech translation: real speech in a call, batch / consecutive / simultaneous side by side, latency per stage, concurrent speakers swept',
  description: `Real speech (LibriVox clips, espeak-ng phrases or your WAVs) is the fake microphone of a Chromium
speaker page in a room of a running gateway (a \`parley up\` child); a Spanish listener page in the
same room receives the translated voice produced by \`parley ai-worker\` (the configured engines).
Per utterance, the headline clock e2e_from_mic runs from the end of the speaker's voice at the
microphone probe to the first translated bytes at the listener; the gateway's marks split it into
uplink, endpoint (the VAD's silence wait), stt (the final after the endpoint), translate, tts, hops,
playout and network. Each mode (--modes: batch = the old whole-utterance decoding after 500 ms of
silence; consecutive = streaming recognition, each utterance translated and spoken whole after it
ends; simultaneous = the defaults, segments translated and spoken while the speaker talks, paced)
runs the same sweep of concurrent speakers (one room each) on a fresh stack in the same run, side by
side. After the calls the recognizer alone decodes each clip in both recognition modes (WER and
time), and the translation-quality pass compares simultaneous and consecutive output (chrF).`,
  options: [
    { name: 'modes', type: 'list', default: ['consecutive', 'simultaneous'], smoke: ['simultaneous'], help: 'modes run side by side, each on a fresh stack: batch (minSilence 500 ms, whole-utterance decoding, consecutive), consecutive (streaming recognition, consecutive translation), simultaneous (the defaults)' },
    { name: 'speakers', type: 'list', default: [1, 2, 3, 4, 6], smoke: [1], help: 'concurrent speakers per level, one room (speaker + Spanish listener) each' },
    { name: 'duration', type: 'number', default: 60, smoke: 0, help: 'seconds measured per level (after the pages joined)' },
    { name: 'min-utterances', type: 'number', default: 10, smoke: 1, help: 'measure a level until it has at least this many utterances (warm-up excluded)' },
    { name: 'warmup', type: 'number', default: 1, help: 'first utterances of every speaker left out' },
    { name: 'inputs', type: 'string', default: 'librivox', smoke: 'librivox:0880', help: 'librivox | librivox:<id part>,... | librivox-continuous (the five sentences back to back, 0.6 s apart) | espeak | comma-separated WAV paths' },
    { name: 'pause', type: 'number', default: 8, help: 'seconds of silence after each clip: the speaker\'s turn pause, long enough by default for the previous translation to finish playing (consecutive translation finishes 4-5 s after a turn, longer for the 7 s clip) (less pause = more load per speaker, and translations queue behind each other)' },
    { name: 'ai-workers', type: 'number', default: 1, help: 'parley ai-worker processes' },
    { name: 'speaker-client', type: 'string', default: 'werift', help: 'who speaks the clips: werift (a browserless WebRTC client per room: light, exact microphone timing) or chromium (a page per room with the clip as fake microphone: what a user runs, but one Chromium per clip loads a small machine)' },
    { name: 'cache', type: 'boolean', default: false, help: 'keep the AI cache (repeated phrases then skip translation and synthesis)' },
    { name: 'wer', type: 'boolean', default: true, help: 'also run the recognizer alone on the clips, batch and streaming: WER and time' },
    { name: 'settle-load', type: 'number', default: 2, smoke: 0, help: 'before each mode, wait (at most 3 min) for the 1-minute load average to drop below this (0 = do not wait)' },
    { name: 'mic-threshold', type: 'number', default: 1e-3, help: 'mean power (0..1) above which a 20 ms microphone sample counts as voice: where e2e_from_mic starts (1e-3 = -30 dBFS: the decaying tail of the last word does not count, so the clock starts early, never flattering)' },
    { name: 'keep-logs', type: 'boolean', default: false, help: 'write the gateway\'s and AI workers\' logs (debug level: recognition sessions\' lag and final time) of each mode to a temp folder named in the notes' },
    { name: 'wer-clips', type: 'number', default: 0, smoke: 1, help: 'clips for the WER pass (0 = all)' },
    { name: 'quality', type: 'boolean', default: true, smoke: false, help: 'also compare the translation of simultaneous and consecutive on the same recognized text (LibriVox clips, commit policies side by side): chrF and commit delay' },
  ],
  remote: { unavailable: REMOTE_PIPELINE_UNAVAILABLE },
  run,
};
