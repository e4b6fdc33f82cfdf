import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import { AiWorker, type AiWorkerOptions } from './AiWorker.js';
import type { TtsEngine } from '../types.js';
import { decodePcm, encodePcm, type AudioResult, type ResultJob } from './jobs.js';
import { JobIds } from './names.js';
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

type Harness = { engines: StandIns; queues: PipelineQueues; results: ResultJob[]; receivedAt: Map<ResultJob, number>; worker: AiWorker };

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
  return { engines, queues, results, receivedAt, worker };
}

let utterance = 0;
function utteranceJob(overrides: { language?: string; targets?: string[]; speechEnd?: number } = {}) {
  return {
    utteranceId: `u${++utterance}`,
    roomId: 'room1',
    speakerPeerId: 'alice',
    replicaId: REPLICA,
    language: overrides.language ?? 'en',
    targets: overrides.targets ?? ['es', 'fr', 'en'],
    audio: encodePcm(new Int16Array(16_000)),
    sampleRate: 16_000,
    marks: { speechEnd: overrides.speechEnd ?? Date.now() },
  };
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
    const job = utteranceJob();
    expect((await h.queues.enqueueUtterance(job)).accepted).toBe(true);
    const mine = await waitFor('5 results', () => {
      const r = ofUtterance(h.results, job.utteranceId);
      return r.length >= 5 && r;
    });
    await sleep(100); // nothing more should arrive
    expect(ofUtterance(h.results, job.utteranceId)).toHaveLength(5);
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
      const order = [m.speechEnd, m.sttStart, m.sttDone, m.translateStart, m.translateDone, m.ttsStart, m.ttsFirstAudio];
      expect(order.every((t) => typeof t === 'number')).toBe(true);
      expect([...(order as number[])].sort((x, y) => x - y)).toEqual(order);
    }
    const m = audio[0]!.marks as Required<typeof audio[0]['marks']>;
    console.log(
      `per-hop queue latency (ms): enqueue->stt ${m.sttStart - m.speechEnd}, stt->translate ${m.translateStart - m.sttDone}, ` +
        `translate->tts ${m.ttsStart - m.translateDone}, tts->gateway ${h.receivedAt.get(audio[0]!)! - m.ttsFirstAudio}; ` +
        `speech end -> audio at the gateway ${h.receivedAt.get(audio[0]!)! - m.speechEnd} ms (stand-in engines take ~2 ms each)`,
    );
    expect(h.engines.calls).toEqual({ stt: 1, translate: 2, tts: 2 });
  });

  it('serves the second identical phrase from the cache (each engine called once per language)', async () => {
    const h = await harness();
    const first = utteranceJob({ targets: ['es'] });
    await h.queues.enqueueUtterance(first);
    await waitFor('first audio', () => ofUtterance(h.results, first.utteranceId).some((r) => r.kind === 'audio'));
    h.engines.transcript = '  Hello   WORLD '; // normalizes to the same phrase
    const second = utteranceJob({ targets: ['es'] });
    await h.queues.enqueueUtterance(second);
    const audio = await waitFor('second audio', () => ofUtterance(h.results, second.utteranceId).find((r) => r.kind === 'audio'));
    expect(h.engines.calls).toEqual({ stt: 2, translate: 1, tts: 1 });
    expect(audio.kind === 'audio' && decodePcm(audio.audio).length).toBe('[es] hello world'.length * 160);
    expect(h.worker.cacheStats).toMatchObject({ translationHits: 1, translationMisses: 1, audioHits: 1, audioMisses: 1 });
  });

  it('drops an utterance older than maxAgeMs with ERR_UTTERANCE_DROPPED before calling an engine', async () => {
    const h = await harness({ maxAgeMs: 2_000 });
    const job = utteranceJob({ speechEnd: Date.now() - 5_000 });
    await h.queues.enqueueUtterance(job);
    const dropped = await waitFor('dropped', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'dropped'));
    expect(dropped).toMatchObject({ kind: 'dropped', stage: 'stt', code: 'ERR_UTTERANCE_DROPPED', language: 'en' });
    expect(h.engines.calls.stt).toBe(0);
  });

  it('drops an unsupported language with ERR_UNSUPPORTED_LANGUAGE without retrying', async () => {
    const h = await harness();
    const job = utteranceJob({ language: 'xx' });
    await h.queues.enqueueUtterance(job);
    const dropped = await waitFor('dropped', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'dropped'));
    expect(dropped).toMatchObject({ stage: 'stt', code: 'ERR_UNSUPPORTED_LANGUAGE' });
    const stored = await h.queues.stt.getJob(JobIds.stt(job.utteranceId));
    expect(await stored!.getState()).toBe('failed');
    expect(stored!.attemptsMade).toBe(1);
    expect(h.engines.lookups.stt).toBe(1);
  });

  it('drops only the target language no engine serves; the others go on', async () => {
    const h = await harness();
    const job = utteranceJob({ targets: ['es', 'xx'] });
    await h.queues.enqueueUtterance(job);
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
    const job = utteranceJob({ targets: ['es'] });
    const started = Date.now();
    await h.queues.enqueueUtterance(job);
    const dropped = await waitFor('dropped', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'dropped'));
    console.log(`hanging tts engine dropped after ${Date.now() - started} ms (timeout 300 ms)`);
    expect(dropped).toMatchObject({ stage: 'tts', code: 'ERR_ENGINE_FAILED', language: 'es', part: 0, parts: 1 });
    expect(h.engines.calls.tts).toBe(1); // a sentence is not retried: the next one is worth more
    expect(ofUtterance(h.results, job.utteranceId).filter((r) => r.kind === 'caption')).toHaveLength(2);
  });

  it('publishes each sentence as soon as it is synthesized: part 0 reaches the gateway while part 1 is synthesized', async () => {
    const h = await harness();
    const synthesized = new Map<string, number>();
    h.engines.tts = slowTts(h.engines, 300, (text) => synthesized.set(text, Date.now()));
    h.engines.transcript = 'Good morning to everyone here. The meeting starts in five minutes.';
    const job = utteranceJob({ targets: ['es'] });
    await h.queues.enqueueUtterance(job);
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
    const job = utteranceJob({ targets: ['es'] });
    await h.queues.enqueueUtterance(job);
    const audio = await waitFor('audio part 1', () => ofUtterance(h.results, job.utteranceId).find((r) => r.kind === 'audio'));
    const partOf = (r: ResultJob) => (r.kind === 'caption' ? -1 : (r.part ?? -1));
    const mine = ofUtterance(h.results, job.utteranceId).filter((r) => r.kind !== 'caption').sort((a, b) => partOf(a) - partOf(b));
    expect(mine.map((r) => r.kind)).toEqual(['dropped', 'audio']);
    expect(mine[0]).toMatchObject({ kind: 'dropped', stage: 'tts', code: 'ERR_ENGINE_FAILED', language: 'es', part: 0, parts: 2 });
    expect(audio).toMatchObject({ part: 1, parts: 2, text: 'This one is spoken as usual.' });
    expect(audio.kind === 'audio' && audio.marks.ttsFirstAudio).toBeTypeOf('number');
  });

  it('turns a partial into captions marked final: false (original even when empty), never into speech', async () => {
    const h = await harness();
    const base = utteranceJob();
    const partial = (seq: number) => ({ ...base, seq, deadline: Date.now() + 3000 });
    expect(await h.queues.enqueuePartial(partial(1))).toBe(true);
    const first = await waitFor('3 partial captions', () => {
      const r = ofUtterance(h.results, base.utteranceId);
      return r.length >= 3 && r;
    });
    expect(first.map((r) => r.kind === 'caption' && [r.language, r.original, r.text, r.final, r.seq]).sort()).toEqual([
      ['en', true, 'hello world', false, 1],
      ['es', false, '[es] hello world', false, 1],
      ['fr', false, '[fr] hello world', false, 1],
    ]);
    h.engines.transcript = '';
    expect(await h.queues.enqueuePartial(partial(2))).toBe(true);
    const second = await waitFor('the empty partial', () => h.results.find((r) => r.kind === 'caption' && r.seq === 2));
    expect(second).toMatchObject({ original: true, text: '', final: false });
    await sleep(100);
    expect(ofUtterance(h.results, base.utteranceId)).toHaveLength(4);
    expect(h.engines.calls.tts).toBe(0);
  });

  it('sheds partials while finals wait for speech recognition, and drops a stale one unanswered', async () => {
    const idle = await harness({ noWorker: true });
    await idle.queues.enqueueUtterance(utteranceJob());
    expect(await idle.queues.enqueuePartial({ ...utteranceJob(), seq: 1, deadline: Date.now() + 3000 })).toBe(false);
    const h = await harness();
    const stale = utteranceJob();
    expect(await h.queues.enqueuePartial({ ...stale, seq: 1, deadline: Date.now() - 1 })).toBe(true);
    await sleep(300);
    expect(ofUtterance(h.results, stale.utteranceId)).toEqual([]);
    expect(h.engines.calls.stt).toBe(0);
  });

  it('publishes nothing for a gateway replica that is gone (its results queue would never be consumed)', async () => {
    const asked: string[] = [];
    const h = await harness({ replicaAlive: async (id) => (asked.push(id), false) });
    const job = utteranceJob();
    await h.queues.enqueueUtterance(job);
    await waitFor('every stage to have run', () => h.engines.calls.tts >= 2);
    await sleep(300);
    expect(new Set(asked)).toEqual(new Set([REPLICA]));
    expect(h.results).toEqual([]);
    expect(await h.queues.results(REPLICA).count()).toBe(0);
  });

  it('refuses an utterance with ERR_UTTERANCE_DROPPED when the stt queue is at its bound', async () => {
    const h = await harness({ noWorker: true, maxQueueDepth: 3 });
    for (let i = 0; i < 3; i++) expect((await h.queues.enqueueUtterance(utteranceJob())).accepted).toBe(true);
    const refused = await h.queues.enqueueUtterance(utteranceJob());
    expect(refused.accepted).toBe(false);
    expect(!refused.accepted && refused.dropped).toMatchObject({ kind: 'dropped', stage: 'queue', code: 'ERR_UTTERANCE_DROPPED' });
    expect(await h.queues.stt.getWaitingCount()).toBe(3);
  });
});
