/**
 * pipeline: real speech through a running gateway, translated by the AI worker's engines,
 * timed per stage from the end of speech to the first translated packet at the listener,
 * with concurrent speakers swept. See bench/README.md ("pipeline").
 */
import type { Page } from 'playwright-core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueNames } from '../../src/state/keys.js';
import { joinCall, type ParleyBrowser } from '../../tests/helpers/browser.js';
import { speechInputs, type SpeechClip } from '../lib/inputs.js';
import { logLines, utteranceLines } from '../lib/logs.js';
import { pipelineFigures, pipelinePlots, pipelineSummary, type LevelResult, type PipelineTargets } from '../lib/pipelineReport.js';
import { installPeerConnectionTap, readArrivals, readMicProbe, startArrivalProbe, startMicProbe } from '../lib/probes.js';
import { loadSlo } from '../lib/slo.js';
import { checkAborted, sleep, startAiWorker, startBrowser, startRedis, startReplica, until } from '../lib/stack.js';
import { measureStt, type SttClipResult } from '../lib/sttQuality.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult } from '../lib/types.js';
import { buildSample, type UtteranceSample } from '../lib/utterances.js';

const MIN_SILENCE_MS = 500; // ai.minSilenceMs (default): the VAD's hangover before it declares the end of speech
const MAX_AGE_MS = 15_000; // ai.maxAgeMs (default): an utterance older than this is dropped

type Room = { index: number; roomId: string; clip: SpeechClip; speaker: Page; listener: Page; speakerId: string };
type Caption = { utteranceId: string; speakerPeerId: string; original: boolean; language: string; text: string };

async function openRoom(ctx: RunContext, url: string, level: number, index: number, clip: SpeechClip, speakers: ParleyBrowser, listeners: ParleyBrowser): Promise<Room> {
  checkAborted(ctx);
  const roomId = `bench-pipeline-${level}-${index}-${Date.now().toString(36)}`;
  const speaker = await speakers.newPage();
  await installPeerConnectionTap(speaker);
  const listener = await listeners.newPage();
  await joinCall(speaker, url, { roomId, displayName: `Speaker ${index}`, spokenLanguage: 'en', listeningLanguage: 'en' });
  await joinCall(listener, url, { roomId, displayName: `Listener ${index}`, spokenLanguage: 'es', listeningLanguage: 'es', role: 'listener' });
  const speakerId = await speaker.evaluate(() => window.parley!.peerId!);
  await startMicProbe(speaker);
  await startArrivalProbe(listener, 'translation', speakerId, 'translation:es');
  return { index, roomId, clip, speaker, listener, speakerId };
}

/** The utterance ids each room's listener got captions for, by room index. */
async function utterancesByRoom(rooms: readonly Room[]): Promise<Map<string, Room>> {
  const out = new Map<string, Room>();
  for (const room of rooms) {
    const captions = (await room.listener.evaluate(() => window.parley!.captions()).catch(() => [])) as Caption[];
    for (const c of captions) if (c.speakerPeerId === room.speakerId) out.set(c.utteranceId, room);
  }
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
  const queues = [QueueNames.stt, QueueNames.translate, QueueNames.tts].map((name) => new Queue(name, { connection: { url: redisUrl }, prefix: 'parley' }));
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

type Deps = { ctx: RunContext; url: string; logs: () => string; workerLogs: () => string; clips: SpeechClip[]; listeners: ParleyBrowser; speakerBrowser: (clip: SpeechClip) => Promise<ParleyBrowser> };

async function runLevel(d: Deps, speakers: number, o: OptionValues, levelIndex: number, levelCount: number): Promise<Omit<LevelResult, 'variant' | 'suffix'>> {
  const { ctx } = d;
  const offset = d.logs().length;
  const workerOffset = d.workerLogs().length;
  const rooms: Room[] = [];
  for (let i = 0; i < speakers; i++) {
    const clip = d.clips[i % d.clips.length]!;
    rooms.push(await openRoom(ctx, d.url, speakers, i, clip, await d.speakerBrowser(clip), d.listeners));
    ctx.progress(i + 1, speakers, `level ${levelIndex + 1}/${levelCount}: ${speakers} speaker(s), joining`);
  }
  const started = Date.now();
  const warmup = Number(o.warmup);
  const durationMs = Number(o.duration) * 1000;
  const minUtterances = Number(o['min-utterances']);
  const capMs = Math.max(3 * durationMs, 120_000);

  /** Delivered utterances of this level's rooms, warm-up excluded, in speech order per room. */
  const measured = async () => {
    const owner = await utterancesByRoom(rooms);
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

  let stopAt = 0;
  const droppedNow = () => logLines(d.logs().slice(offset), 'utterance dropped').length + logLines(d.workerLogs().slice(workerOffset), 'utterance dropped').length;
  for (;;) {
    await sleep(ctx, 1000);
    const elapsed = Date.now() - started;
    const n = (await measured()).length;
    // Past the duration, a level that drops utterances is saturated: waiting longer only grows its backlog.
    if (elapsed >= durationMs && droppedNow() > 0) break;
    const label = `level ${levelIndex + 1}/${levelCount}: ${speakers} speaker(s), ${n} utterance(s)`;
    if (durationMs > 0) ctx.progress(Math.min(Math.round(elapsed / 1000), durationMs / 1000), durationMs / 1000, `${label} (seconds)`);
    else ctx.progress(Math.min(n, minUtterances), minUtterances, label);
    if (elapsed >= durationMs && n >= minUtterances) break;
    if (elapsed > capMs) break;
  }
  stopAt = Date.now();
  // Utterances that ended before stopAt may still be in flight: wait until each room delivered one that ended later
  // (a speaker's translations play in order), or until the pipeline's own age limit has dropped them.
  if (!ctx.smoke) {
    await until(ctx, async () => {
      const kept = await measured();
      return rooms.every((r) => kept.some((k) => k.room === r && k.line.time - (k.line.ms.endToEnd ?? 0) > stopAt)) ? true : null;
    }, MAX_AGE_MS + 2000, 'in-flight utterances', 500).catch(() => ctx.log(`level ${speakers}: stopped waiting for in-flight utterances after ${MAX_AGE_MS / 1000 + 2} s`));
  }
  await sleep(ctx, 1500); // the last arrivals reach the listener's probe
  const kept = (await measured()).filter((k) => k.line.time - (k.line.ms.endToEnd ?? 0) <= stopAt);
  const mics = new Map<Room, Array<[number, number]>>();
  const arrivals = new Map<Room, Awaited<ReturnType<typeof readArrivals>>>();
  for (const r of rooms) {
    mics.set(r, await readMicProbe(r.speaker));
    arrivals.set(r, await readArrivals(r.listener, 'translation'));
  }
  const samples: Array<UtteranceSample & { room: number; clip: string }> = kept.map((k) => ({
    room: k.room.index,
    clip: k.room.clip.id,
    ...buildSample(k.line, mics.get(k.room) ?? null, arrivals.get(k.room) ?? [], MIN_SILENCE_MS + 1500),
  }));
  const dropped = droppedNow();
  for (const r of rooms) {
    await r.speaker.close().catch(() => undefined);
    await r.listener.close().catch(() => undefined);
  }
  await sleep(ctx, 1000);
  return { speakers, samples, dropped, durationS: Math.round((stopAt - started) / 100) / 10 };
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

type Browsers = { listeners: ParleyBrowser; speakerBrowser: (clip: SpeechClip) => Promise<ParleyBrowser> };

/** One configuration: a fresh Redis, gateway and AI worker(s), the levels swept, everything stopped again. */
async function runVariant(ctx: RunContext, o: OptionValues, partialMs: number, vi: number, clips: SpeechClip[], browsers: Browsers, notes: string[]): Promise<{ levels: LevelResult[]; engines: Engines; cacheKeysDeleted: number | null }> {
  const variant = partialMs > 0 ? `partials every ${partialMs} ms` : 'partials off';
  const suffix = vi === 0 ? '' : partialMs > 0 ? `_partials_${partialMs}ms` : '_partials_off';
  const levels = (o.speakers as number[]).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  ctx.log(`${variant}: starting redis, a gateway and the AI worker(s)`);
  const redis = await startRedis(ctx);
  const gateway = await startReplica(ctx, redis.url, `bench-pipeline-${vi}`, { PARLEY_AI_PARTIAL_INTERVAL_MS: String(partialMs) });
  const workers: Array<Awaited<ReturnType<typeof startAiWorker>>> = [];
  for (let i = 0; i < Number(o['ai-workers']); i++) workers.push(await startAiWorker(ctx, redis.url));
  const engines = await enginesOf(ctx, gateway.url);
  const cache = o.cache ? null : flushCacheLoop(redis.url);
  const results: LevelResult[] = [];
  let deleted: number | null = null;
  try {
    for (const [i, speakers] of levels.entries()) {
      ctx.log(`${variant}, level ${i + 1}/${levels.length}: ${speakers} concurrent speaker(s)`);
      const left = await queuesIdle(ctx, redis.url, 30_000);
      if (left > 0) notes.push(`${variant}, level ${speakers}: ${left} job(s) of the previous level were still queued when it started.`);
      const deps = { ctx, url: gateway.url, logs: gateway.logs, workerLogs: () => workers.map((w) => w.logs()).join('\n'), clips, ...browsers };
      const level: LevelResult = { variant, suffix, ...(await runLevel(deps, speakers, o, i, levels.length)) };
      results.push(level);
      if (level.samples.length === 0 && i < levels.length - 1) {
        notes.push(`${variant}, level ${speakers}: no utterance was delivered (${level.dropped} dropped: the pipeline is saturated), so this sweep stopped there; higher levels would only be worse.`);
        break;
      }
    }
  } finally {
    deleted = cache ? await cache.stop() : null;
    // The call is over: stop its parts now so what follows does not compete with a leftover backlog.
    for (const w of workers) await w.kill();
    await gateway.kill();
    await redis.stop();
  }
  return { levels: results, engines, cacheKeysDeleted: deleted };
}

async function run(ctx: RunContext, o: OptionValues): Promise<ScenarioResult> {
  const clips = speechInputs(String(o.inputs), Number(o.pause));
  if (clips.length === 0) throw new Error(`input set "${o.inputs}" has no clips`);
  if (!(o.speakers as number[]).some((n) => Number.isInteger(Number(n)) && Number(n) > 0)) throw new TypeError('--speakers needs at least one positive integer');
  const partials = (o['partial-ms'] as number[]).map(Number);
  if (partials.length === 0) throw new TypeError('--partial-ms needs at least one value');

  const listeners = await startBrowser(ctx);
  const speakerBrowsers = new Map<string, ParleyBrowser>();
  const speakerBrowser = async (clip: SpeechClip) => {
    let b = speakerBrowsers.get(clip.id);
    if (!b) speakerBrowsers.set(clip.id, (b = await startBrowser(ctx, { fakeAudioWav: clip.wav })));
    return b;
  };
  const notes: string[] = [];
  const results: LevelResult[] = [];
  let engines: Engines = { used: [], names: {} };
  const deleted: Array<number | null> = [];
  for (const [vi, partialMs] of partials.entries()) {
    const v = await runVariant(ctx, o, partialMs, vi, clips, { listeners, speakerBrowser }, notes);
    results.push(...v.levels);
    engines = v.engines;
    deleted.push(v.cacheKeysDeleted);
  }
  for (const b of [...speakerBrowsers.values(), listeners]) await b.close();

  let stt: SttClipResult[] = [];
  if (o.wer) {
    ctx.log('speech recognizer alone on the clips (WER and time), after the calls');
    const limit = Number(o['wer-clips']);
    stt = (await measureStt(limit > 0 ? clips.slice(0, limit) : clips, 'en', { modelsDir: 'models', pythonBin: '/usr/bin/python3' })).rows;
  }

  const slo = (await loadSlo(new URL('../slo.yaml', import.meta.url).pathname).catch(() => ({}))) as Record<string, Record<string, { max?: number }>>;
  const targets: PipelineTargets = { e2eP50: slo.pipeline?.e2e_p50_ms?.max, e2eP95: slo.pipeline?.e2e_p95_ms?.max };
  notes.unshift(
    `Engines: ${Object.entries(engines.names).map(([k, v]) => `${k} ${v}`).join(', ') || 'unknown'} (the offline set; production engines such as sherpa-onnx and OPUS-MT were not installed).`,
    `Variants, side by side in this run (each on a fresh Redis, gateway and AI worker): ${partials.map((p) => (p > 0 ? `partial captions every ${p} ms (ai.partialIntervalMs, the default 1000 recognizes the speech so far on a second pocketsphinx decoder while the speaker talks)` : 'partial captions off (ai.partialIntervalMs 0)')).join('; ')}.`,
    `Inputs: ${clips.map((c) => `${c.id} (${c.seconds} s)`).join(', ')}, each followed by ${o.pause} s of silence and looped by Chromium's fake microphone; speaker i speaks clip i mod ${clips.length}, one browser per clip.`,
    `Warm-up excluded: the first ${o.warmup} utterance(s) of every speaker at every level.`,
    `The clock starts at the gateway VAD's end of speech (it waits ai.minSilenceMs = ${MIN_SILENCE_MS} ms of silence first; "vad" and e2e_from_mic measure from the last voiced 20 ms at the speaker's microphone) and stops when the listener page's poll (every 20 ms) sees the first bytes of the translated producer after the gateway sent its first packet (resolution p50 ${resolution(results)} ms).`,
    `AI cache ${o.cache ? 'on (repeated phrases skip the engines)' : `off: its keys were deleted as they appeared (${deleted.join(' and ')} deleted), so every utterance ran every engine`}.`,
    `${o['ai-workers']} AI worker process(es) at their default concurrency; everything (Redis, gateway, mediasoup worker, AI worker, ${1 + speakerBrowsers.size} Chromium instances) shares this machine, and other workloads on it (noisy neighbours) show up in the figures: see the load averages.`,
  );
  return {
    summary: pipelineSummary(results, stt, engines.names),
    figures: pipelineFigures(results, stt, targets),
    samples: { levels: results, stt },
    plots: pipelinePlots(results, stt, targets),
    notes,
    environment: { engines: engines.used, aiWorkers: Number(o['ai-workers']), gatewayReplicas: 1, cache: Boolean(o.cache), partialIntervalsMs: partials, inputs: clips.map((c) => c.id) },
  };
}

function resolution(levels: readonly LevelResult[]): number | string {
  const r = levels.flatMap((l) => l.samples.map((s) => s.receivedResolutionMs)).filter((x): x is number => x !== null).sort((a, b) => a - b);
  return r.length ? r[Math.floor(r.length / 2)]! : '-';
}

export const scenario: Scenario = {
  name: 'pipeline',
  title: 'Speech translation: real speech in a call, latency per stage and end to end, concurrent speakers swept',
  description: `Real speech (LibriVox clips, espeak-ng phrases or your WAVs) is the fake microphone of a Chromium
speaker page in a room of a running gateway (a \`parley up\` child); a Spanish listener page in the
same room receives the translated voice produced by \`parley ai-worker\` (the configured engines).
Per utterance: end of speech at the microphone -> VAD end of speech (clock start) -> STT final ->
translation -> first synthesized audio -> first translated RTP packet sent -> first translated
bytes received by the listener (clock stop); "processing" = STT final -> received; "overhead" =
end to end minus the three engines. Levels of concurrent speakers (one room each) show where the
SLO breaks; each variant (partial captions on / off) runs the same sweep on a fresh stack in the same
run. After the sweep the STT engine alone transcribes each clip: WER beside its time.`,
  options: [
    { name: 'speakers', type: 'list', default: [1, 2, 4], smoke: [1], help: 'concurrent speakers per level, one room (speaker + Spanish listener) each' },
    { name: 'duration', type: 'number', default: 60, smoke: 0, help: 'seconds measured per level (after the pages joined)' },
    { name: 'min-utterances', type: 'number', default: 10, smoke: 1, help: 'measure a level until it has at least this many utterances (warm-up excluded)' },
    { name: 'warmup', type: 'number', default: 1, help: 'first utterances of every speaker left out' },
    { name: 'inputs', type: 'string', default: 'librivox', smoke: 'librivox:0880', help: 'librivox | librivox:<id part>,... | espeak | comma-separated WAV paths' },
    { name: 'pause', type: 'number', default: 1.5, help: 'seconds of silence after each clip (the speaker\'s pause; less pause = more load per speaker)' },
    { name: 'ai-workers', type: 'number', default: 1, help: 'parley ai-worker processes' },
    { name: 'partial-ms', type: 'list', default: [1000, 0], smoke: [1000], help: 'variants run side by side: ai.partialIntervalMs of the gateway (0 = no partial captions)' },
    { name: 'cache', type: 'boolean', default: false, help: 'keep the AI cache (repeated phrases then skip translation and synthesis)' },
    { name: 'wer', type: 'boolean', default: true, help: 'also run the STT engine alone on the clips: WER and time' },
    { name: 'wer-clips', type: 'number', default: 0, smoke: 1, help: 'clips for the WER pass (0 = all)' },
  ],
  run,
};
