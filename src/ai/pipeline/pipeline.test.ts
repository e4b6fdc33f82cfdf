import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import { AiWorker, type AiWorkerOptions } from './AiWorker.js';
import type { TtsEngine } from '../types.js';
import { Redis } from 'ioredis';
import { appendChunk, appendEnd } from './audioStream.js';
import { decodePcm, type AudioResult, type ResultJob, type SttJob } from './jobs.js';
import { JobIds, Keys } from './names.js';
import { PipelineQueues } from './PipelineQueues.js';
import { ResultsConsumer } from './ResultsConsumer.js';
import { createStandIns, type StandIns } from './testing/standIns.js';

const log = pino({ level: 'silent' });
const REPLICA = 'gw-test';
let redis: EmbeddedRedis;
let run = 0;
/** Everything a test opened, closed after it (children first). */
let opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
});
afterEach(async () => {
  for (const o of opened.reverse()) await o.close();
  opened = [];
});
afterAll(async () => {
  await redis?.stop();
});

type Harness = { prefix: string; client: Redis; engines: StandIns; queues: PipelineQueues; results: ResultJob[]; receivedAt: Map<ResultJob, number>; worker: AiWorker };

/** A fresh prefix, an AiWorker on stand-in engines, the gateway's queues and results consumer. */
async function harness(options: Partial<AiWorkerOptions> & { maxQueueDepth?: number; noWorker?: boolean } = {}): Promise<Harness> {
  const prefix = `test${process.pid}-${++run}`;
  const engines = createStandIns();
  const results: ResultJob[] = [];
  const receivedAt = new Map<ResultJob, number>();
  const queues = await PipelineQueues.create({ connection: redis.url, prefix, maxQueueDepth: options.maxQueueDepth ?? 50, maxAgeMs: options.maxAgeMs ?? 10_000 });
  opened.push(queues);
  const consumer = await ResultsConsumer.create({ connection: redis.url, prefix, replicaId: REPLICA, log, handler: async (r) => {
      receivedAt.set(r, Date.now());
      results.push(r);
    } });
  opened.push(consumer);
  const worker = options.noWorker ? (null as unknown as AiWorker) : await AiWorker.create({ redisUrl: redis.url, prefix, engines, log, ...options });
  if (worker) opened.push(worker);
  const client = new Redis(redis.url);
  opened.push({ close: async () => void client.disconnect() });
  return { prefix, client, engines, queues, results, receivedAt, worker };
}

let utterance = 0;
const LIMITS = { maxLen: 100, ttlMs: 60_000 };
/** A recognition session as the gateway opens it (SpeechStreams), its stream under the harness's prefix. */
function utteranceJob(h: Harness, overrides: { language?: string; targets?: string[]; deadline?: number; translation?: SttJob['translation'] } = {}): SttJob {
  const utteranceId = `u${++utterance}`;
  return {
    utteranceId,
    roomId: 'room1',
    speakerPeerId: 'alice',
    replicaId: REPLICA,
    language: overrides.language ?? 'en',
    targets: overrides.targets ?? ['es', 'fr', 'en'],
    stream: Keys.audioStream(h.prefix, utteranceId),
    sampleRate: 16_000,
    startedAt: Date.now(),
    deadline: overrides.deadline ?? Date.now() + 20_000,
    ...(overrides.translation ? { translation: overrides.translation } : {}),
  };
}

/** What the gateway does for one utterance: open its session, stream `chunks` of 160 ms, then (unless `end: false`) the end entry. */
async function speak(h: Harness, job: SttJob, o: { chunks?: number; end?: boolean; gapMs?: number } = {}) {
  const outcome = await h.queues.openSession(job);
  for (let i = 0; i < (o.chunks ?? 7); i++) {
    await appendChunk(h.client, job.stream, new Int16Array(2560), Date.now(), LIMITS);
    if (o.gapMs) await sleep(o.gapMs);
  }
  await sleep(20); // the worker has taken the session by now: its start precedes the endpoint, as live
  if (o.end !== false) await appendEnd(h.client, job.stream, { endedBy: 'silence', marks: { speechEnd: Date.now(), lastVoiced: Date.now() - 250 } }, LIMITS);
  return outcome;
}

async function waitFor<T>(what: string, get: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const ofUtterance = (results: ResultJob[], id: string) => results.filter((r) => r.utteranceId === id);

/** The stand-in tts engine, taking `delayMs` per sentence and reporting when each is synthesized. */
function slowTts(engines: StandIns, delayMs: number, onSynthesized: (text: string) => void): StandIns['tts'] {
  const lookup = engines.tts.bind(engines);
  return (language) => {
    const base = lookup(language);
    const engine: TtsEngine = {
      ...base,
      synthesize: async (text, lang) => {
        await sleep(delayMs);
        const audio = await base.synthesize(text, lang);
        onSynthesized(text);
        return audio;
      },
    };
    return engine;
  };
}

describe('AI pipeline', () => {
  it('carries an utterance through stt -> translate (2 targets) -> tts back to the gateway, with ordered marks', async () => {
    const h = await harness();
    const job = utteranceJob(h);
    expect((await speak(h, job)).accepted).toBe(true);
    const finals = (r: ResultJob[]) => r.filter((x) => x.kind !== 'caption' || x.final);
    const mine = await waitFor('5 final results', () => {
      const r = finals(ofUtterance(h.results, job.utteranceId));
      return r.length >= 5 && r;
    });
    await sleep(100); // nothing more should arrive
    expect(finals(ofUtterance(h.results, job.utteranceId))).toHaveLength(5);
    const captions = mine.filter((r) => r.kind === 'caption');
    expect(captions.map((c) => [c.language, c.original, c.text]).sort()).toEqual([
      ['en', true, 'hello world'],
      ['es', false, '[es] hello world'],
      ['fr', false, '[fr] hello world'],
    ]);
    const audio = mine.filter((r) => r.kind === 'audio');
    expect(audio.map((a) => a.language).sort()).toEqual(['es', 'fr']);
    for (const a of audio) {
      expect(a).toMatchObject({ part: 0, parts: 1 });
      expect(a.sampleRate).toBe(16_000);
      expect(decodePcm(a.audio).length).toBe(a.text.length * 160);
      const m = a.marks;
      // Streaming: the session starts (sttStart) before the speech ends; the final comes after the endpoint.
      expect(m.lastVoiced).toBeLessThan(m.speechEnd);
      const order = [m.sttStart, m.speechEnd, m.sttDone, m.translateStart, m.translateDone, m.ttsStart, m.ttsFirstAudio];
      expect(order.every((t) => typeof t === 'number')).toBe(true);
      expect([...(order as number[])].sort((x, y) => x - y)).toEqual(order);
    }
    const m = audio[0]!.marks as Required<typeof audio[0]['marks']>;
    console.log(
      `per-hop latency (ms): endpoint->final ${m.sttDone - m.speechEnd}, stt->translate ${m.translateStart - m.sttDone}, ` +
        `translate->tts ${m.ttsStart - m.translateDone}, tts->gateway ${h.receivedAt.get(audio[0]!)! - m.ttsFirstAudio}; ` +
        `speech end -> audio at the gateway ${h.receivedAt.get(audio[0]!)! - m.speechEnd} ms (stand-in engines take ~2 ms each)`,
    );
    expect(h.engines.calls.tts).toBe(2); // translate also ran for the partials' captions
    expect(h.engines.calls.stt).toBe(8); // 7 chunks and the final
    expect(await h.client.exists(job.stream)).toBe(0);
  });

  it('serves the second identical phrase from the cache (each engine called once per language)', async () => {
    const h = await harness();
    const first = utteranceJob(h, { targets: ['es'] });
    await speak(h, first, { chunks: 1 });
    await waitFor('first audio', () => ofUtterance(h.results, first.utteranceId).some((r) => r.kind === 'audio'));
    h.engines.transcript = '  Hello   WORLD '; // normalizes to the same phrase
    const second = utteranceJob(h, { targets: ['es'] });
    await speak(h, second, { chunks: 1 });
    const audio = await waitFor('second audio', () => ofUtterance(h.results, second.utteranceId).find((r) => r.kind === 'audio'));
    expect(h.engines.calls).toEqual({ stt: 4, translate: 1, tts: 1 });
    expect(audio.kind === 'audio' && decodePcm(audio.audio).length).toBe('[es] hello world'.length * 160);
    expect(h.worker.cacheStats).toMatchObject({ translationHits: 1, translationMisses: 1, audioHits: 1, audioMisses: 1 });
  });

  it('drops a session past its deadline with ERR_UTTERANCE_DROPPED before calling an engine', async () => {
    const h = await harness({ maxAgeMs: 2_000 });
    const job = utteranceJob(h, { deadline: Date.now() - 1 });
    await speak(h, job);
    const dropped = await waitFor('dropped', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'dropped'));
    expect(dropped).toMatchObject({ kind: 'dropped', stage: 'stt', code: 'ERR_UTTERANCE_DROPPED', language: 'en' });
    expect(h.engines.calls.stt).toBe(0);
  });

  it('drops an unsupported language with ERR_UNSUPPORTED_LANGUAGE without retrying', async () => {
    const h = await harness();
    const job = utteranceJob(h, { language: 'xx' });
    await speak(h, job);
    const dropped = await waitFor('dropped', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'dropped'));
    expect(dropped).toMatchObject({ stage: 'stt', code: 'ERR_UNSUPPORTED_LANGUAGE' });
    const stored = await h.queues.stt.getJob(JobIds.stt(job.utteranceId));
    expect(await stored!.getState()).toBe('failed');
    expect(stored!.attemptsMade).toBe(1);
    expect(h.engines.lookups.stt).toBe(1);
  });

  it('drops only the target language no engine serves; the others go on', async () => {
    const h = await harness();
    const job = utteranceJob(h, { targets: ['es', 'xx'] });
    await speak(h, job);
    await waitFor('audio es and dropped xx', () => {
      const r = ofUtterance(h.results, job.utteranceId);
      return r.some((x) => x.kind === 'audio' && x.language === 'es') && r.some((x) => x.kind === 'dropped');
    });
    const dropped = ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'dropped');
    expect(dropped).toMatchObject({ stage: 'translate', language: 'xx', code: 'ERR_UNSUPPORTED_LANGUAGE' });
  });

  it('drops the sentence of a hanging tts engine with ERR_ENGINE_FAILED after its timeout', async () => {
    const h = await harness({ engineTimeoutMs: 300 });
    h.engines.behavior.tts = 'hang';
    const job = utteranceJob(h, { targets: ['es'] });
    const started = Date.now();
    await speak(h, job, { chunks: 1 });
    const dropped = await waitFor('dropped', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'dropped'));
    console.log(`hanging tts engine dropped after ${Date.now() - started} ms (timeout 300 ms)`);
    expect(dropped).toMatchObject({ stage: 'tts', code: 'ERR_ENGINE_FAILED', language: 'es', part: 0, parts: 1 });
    expect(h.engines.calls.tts).toBe(1); // a sentence is not retried: the next one is worth more
    expect(ofUtterance(h.results, job.utteranceId).filter((r) => r.kind === 'caption' && r.final)).toHaveLength(2);
  });

  it('publishes each sentence as soon as it is synthesized: part 0 reaches the gateway while part 1 is synthesized', async () => {
    const h = await harness();
    const synthesized = new Map<string, number>();
    h.engines.tts = slowTts(h.engines, 300, (text) => synthesized.set(text, Date.now()));
    h.engines.transcript = 'Good morning to everyone here. The meeting starts in five minutes.';
    const job = utteranceJob(h, { targets: ['es'] });
    await speak(h, job, { chunks: 1 });
    const audio = await waitFor('two audio parts', () => {
      const a = ofUtterance(h.results, job.utteranceId).filter((r): r is AudioResult => r.kind === 'audio');
      return a.length >= 2 && a;
    });
    expect(audio.map((a) => [a.part, a.parts, a.text])).toEqual([
      [0, 2, '[es] Good morning to everyone here.'],
      [1, 2, 'The meeting starts in five minutes.'],
    ]);
    const [first, second] = audio as [AudioResult, AudioResult];
    const secondSynthesized = synthesized.get(second.text)!;
    // Ordering, not timings: part 0 arrived before sentence 2 was synthesized, part 1 after.
    expect(h.receivedAt.get(first)!).toBeLessThan(secondSynthesized);
    expect(h.receivedAt.get(second)!).toBeGreaterThanOrEqual(secondSynthesized);
    expect(second.marks).toEqual(first.marks);
    expect(first.marks.ttsFirstAudio!).toBeLessThan(secondSynthesized);
    console.log(`part 0 at the gateway ${h.receivedAt.get(second)! - h.receivedAt.get(first)!} ms before part 1 (stand-in tts takes 300 ms per sentence)`);
  });

  it('drops a sentence the engine fails on and goes on with the next', async () => {
    const h = await harness();
    const base = h.engines.tts('es');
    h.engines.tts = () => ({ ...base, synthesize: (text, language) => (text.includes('broken') ? Promise.reject(new Error('bad input')) : base.synthesize(text, language)) });
    h.engines.transcript = 'This sentence is broken for the engine. This one is spoken as usual.';
    const job = utteranceJob(h, { targets: ['es'] });
    await speak(h, job, { chunks: 1 });
    const audio = await waitFor('audio part 1', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'audio'));
    const partOf = (r: ResultJob) => (r.kind === 'caption' ? -1 : (r.part ?? -1));
    const mine = ofUtterance(h.results, job.utteranceId).filter((r) => r.kind !== 'caption').sort((a, b) => partOf(a) - partOf(b));
    expect(mine.map((r) => r.kind)).toEqual(['dropped', 'audio']);
    expect(mine[0]).toMatchObject({ kind: 'dropped', stage: 'tts', code: 'ERR_ENGINE_FAILED', language: 'es', part: 0, parts: 2 });
    expect(audio).toMatchObject({ part: 1, parts: 2, text: 'This one is spoken as usual.' });
    expect(audio.kind === 'audio' && audio.marks.ttsFirstAudio).toBeTypeOf('number');
  });

  it('sends each new hypothesis as a partial caption (original and translated) while the audio streams, never speaks it', async () => {
    const h = await harness();
    h.engines.transcript = 'one two three four five six';
    const job = utteranceJob(h, { targets: ['es'] });
    await speak(h, job, { chunks: 12, end: false, gapMs: 20 });
    const partials = await waitFor('partial captions', () => {
      const p = ofUtterance(h.results, job.utteranceId).filter((r) => r.kind === 'caption' && !r.final && r.original);
      return p.length >= 3 && p;
    });
    // Before the end entry exists: these are the speech so far, each a prefix of the next.
    expect(ofUtterance(h.results, job.utteranceId).some((r) => r.kind === 'caption' && r.final)).toBe(false);
    const texts = [...partials].sort((a, b) => (a.kind === 'caption' ? (a.seq ?? 0) : 0) - (b.kind === 'caption' ? (b.seq ?? 0) : 0)).map((r) => (r.kind === 'caption' ? r.text : ''));
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
    await waitFor('a translated partial', () => ofUtterance(h.results, job.utteranceId).some((r) => r.kind === 'caption' && !r.final && !r.original && r.text.startsWith('[es] one')));
    await appendEnd(h.client, job.stream, { endedBy: 'silence', marks: { speechEnd: Date.now() } }, LIMITS);
    const final = await waitFor('final caption', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'caption' && r.final && r.original));
    expect(final).toMatchObject({ text: 'one two three four five six' });
    await waitFor('audio', () => ofUtterance(h.results, job.utteranceId).some((r) => r.kind === 'audio'));
    expect(h.engines.calls.tts).toBe(1); // the final only
  });

  it('ends a stream that stops sending with what it heard (ERR_STREAM_STALLED logged) and deletes it', async () => {
    const h = await harness({ streamStallMs: 600 });
    h.engines.transcript = 'one two three';
    const job = utteranceJob(h, { targets: ['es'] });
    await speak(h, job, { chunks: 4, end: false });
    const final = await waitFor('final caption', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'caption' && r.final && r.original));
    expect(final).toMatchObject({ text: 'one two three' });
    expect(await h.client.exists(job.stream)).toBe(0);
  });

  it('publishes nothing for a gateway replica that is gone (its results queue would never be consumed)', async () => {
    const asked: string[] = [];
    const h = await harness({ replicaAlive: async (id) => (asked.push(id), false) });
    const job = utteranceJob(h);
    await speak(h, job);
    await waitFor('every stage to have run', () => h.engines.calls.tts >= 2);
    await sleep(300);
    expect(new Set(asked)).toEqual(new Set([REPLICA]));
    expect(h.results).toEqual([]);
    expect(await h.queues.results(REPLICA).count()).toBe(0);
  });

  it('refuses a session with ERR_AI_SATURATED when sessions wait at the bound, and withdraws one no worker took', async () => {
    const h = await harness({ noWorker: true, maxQueueDepth: 3 });
    const jobs = [0, 1, 2].map(() => utteranceJob(h));
    for (const job of jobs) expect((await h.queues.openSession(job)).accepted).toBe(true);
    const refused = await h.queues.openSession(utteranceJob(h));
    expect(refused.accepted).toBe(false);
    expect(!refused.accepted && refused.dropped).toMatchObject({ kind: 'dropped', stage: 'queue', code: 'ERR_AI_SATURATED' });
    expect(await h.queues.stt.getWaitingCount()).toBe(3);
    expect(await h.queues.withdrawIfWaiting(jobs[0]!, 'test')).toMatchObject({ code: 'ERR_AI_SATURATED', utteranceId: jobs[0]!.utteranceId });
    expect(await h.queues.stt.getWaitingCount()).toBe(2);
    expect(await h.queues.withdrawIfWaiting(jobs[0]!, 'test')).toBeNull(); // gone already
  });

  it('simultaneous: commits segments while the speaker talks, speaks each in order, and ends with their concatenation', async () => {
    const h = await harness();
    h.engines.transcript = 'he said it was late and we left early today';
    const job = utteranceJob(h, { targets: ['es'], translation: 'simultaneous' });
    await speak(h, job, { chunks: 22, gapMs: 15 });
    const endWrittenAt = Date.now();
    const final = await waitFor('the final translation', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'caption' && r.final && !r.original));
    if (final.kind !== 'caption') throw new Error('not a caption');
    const audio = await waitFor('every segment', () => {
      const a = ofUtterance(h.results, job.utteranceId).filter((r): r is AudioResult => r.kind === 'audio');
      return a.length === final.segments && a;
    });
    const sorted = [...audio].sort((a, b) => a.segment!.index - b.segment!.index);
    expect(sorted.map((a) => a.segment!.index)).toEqual(sorted.map((_, i) => i));
    expect(sorted.length).toBeGreaterThanOrEqual(2);
    expect(sorted.slice(0, -1).every((a) => !a.segment!.last)).toBe(true);
    // The first segment was ready to play before the speaker's utterance ended.
    expect(h.receivedAt.get(sorted[0]!)!).toBeLessThan(endWrittenAt);
    expect(sorted[0]!.text).toBe('[es] he said it was late');
    expect(final.text).toBe(sorted.map((a) => a.text).join(' '));
    // Committed parts only grow, and every caption's text starts with its committed part.
    const translated = ofUtterance(h.results, job.utteranceId)
      .flatMap((r) => (r.kind === 'caption' && !r.original && !r.final ? [r] : []))
      .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    let committed = '';
    for (const c of translated) {
      expect(c.committed?.startsWith(committed)).toBe(true);
      expect(c.text.startsWith(c.committed ?? '')).toBe(true);
      committed = c.committed ?? '';
    }
    expect(translated.some((c) => c.text !== c.committed)).toBe(true); // a tentative tail was shown
    expect(await h.client.exists(job.stream)).toBe(0);
  });
});
