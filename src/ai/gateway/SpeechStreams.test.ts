import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import { AiWorker } from '../pipeline/AiWorker.js';
import type { DroppedResult, ResultJob } from '../pipeline/jobs.js';
import { PipelineQueues } from '../pipeline/PipelineQueues.js';
import { ResultsConsumer } from '../pipeline/ResultsConsumer.js';
import { createStandIns } from '../pipeline/testing/standIns.js';
import { SpeechStreams } from './SpeechStreams.js';

const log = pino({ level: 'silent' });
let redis: EmbeddedRedis;
let run = 0;
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

async function setup(maxSessions: number) {
  const prefix = `streams${process.pid}-${++run}`;
  const results: ResultJob[] = [];
  const refused: DroppedResult[] = [];
  const queues = await PipelineQueues.create({ connection: redis.url, prefix });
  opened.push(queues);
  opened.push(await ResultsConsumer.create({ connection: redis.url, prefix, replicaId: 'gw', log, handler: async (r) => void results.push(r) }));
  const engines = createStandIns();
  opened.push(await AiWorker.create({ redisUrl: redis.url, prefix, engines, maxSessions, log }));
  const client = new Redis(redis.url);
  opened.push({ close: async () => void client.disconnect() });
  const streams = new SpeechStreams({ queues, redis: client, replicaId: 'gw', prefix, maxUtteranceMs: 6000, chunkMs: 160, maxAgeMs: 10_000, admitMs: 400, log });
  opened.push({ close: async () => streams.close() });
  streams.on('refused', (d) => refused.push(d));
  return { prefix, results, refused, streams, client, engines };
}

async function until<T>(what: string, get: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const speaker = (speakerPeerId: string) => ({ roomId: 'room1', speakerPeerId, language: 'en', targets: ['es'] });
const chunk = () => new Int16Array(2560);

describe('SpeechStreams', () => {
  it('streams an utterance to a worker while it is spoken; the final follows the end, and no key is left', async () => {
    const s = await setup(3);
    s.engines.transcript = 'hello there world';
    const stream = s.streams.open(speaker('alice'), Date.now());
    for (let i = 0; i < 8; i++) {
      s.streams.push(stream, chunk(), Date.now());
      await sleep(20);
    }
    await until('a partial caption', () => s.results.some((r) => r.utteranceId === stream.utteranceId && r.kind === 'caption' && !r.final));
    s.streams.end(stream, { endedBy: 'silence', marks: { speechEnd: Date.now(), lastVoiced: Date.now() - 250 } });
    const final = await until('the final', () => s.results.find((r) => r.utteranceId === stream.utteranceId && r.kind === 'caption' && r.final && r.original));
    expect(final).toMatchObject({ text: 'hello there world' });
    await until('the translated audio', () => s.results.some((r) => r.utteranceId === stream.utteranceId && r.kind === 'audio'));
    expect(await s.client.keys(`${s.prefix}:ai:audio:*`)).toEqual([]);
    expect(s.refused).toEqual([]);
  });

  it('refuses a speaker with ERR_AI_SATURATED when every worker runs its maxSessions, and serves the next one once a session ends', async () => {
    const s = await setup(1);
    const first = s.streams.open(speaker('alice'), Date.now());
    s.streams.push(first, chunk(), Date.now());
    await until('the first session taken', () => s.engines.sessions.open === 1);
    const second = s.streams.open(speaker('bob'), Date.now());
    for (let i = 0; i < 3; i++) s.streams.push(second, chunk(), Date.now());
    const refusal = await until('the refusal', () => s.refused[0]);
    expect(refusal).toMatchObject({ utteranceId: second.utteranceId, speakerPeerId: 'bob', stage: 'queue', code: 'ERR_AI_SATURATED' });
    expect(await s.client.exists(second.job.stream)).toBe(0);
    s.streams.push(second, chunk(), Date.now()); // late chunks of a refused session are not written
    s.streams.end(second, { endedBy: 'silence', marks: { speechEnd: Date.now() } });
    await sleep(50);
    expect(await s.client.exists(second.job.stream)).toBe(0);
    // Alice goes on meanwhile, and once she stops the worker takes the next speaker.
    s.streams.end(first, { endedBy: 'silence', marks: { speechEnd: Date.now() } });
    await until('alice final', () => s.results.some((r) => r.utteranceId === first.utteranceId && r.kind === 'caption' && r.final));
    const third = s.streams.open(speaker('bob'), Date.now());
    s.streams.push(third, chunk(), Date.now());
    s.streams.end(third, { endedBy: 'silence', marks: { speechEnd: Date.now() } });
    await until('bob final', () => s.results.some((r) => r.utteranceId === third.utteranceId && r.kind === 'caption' && r.final));
    await sleep(500); // past the admission time: the taken session is not refused
    expect(s.refused).toHaveLength(1);
    expect(await s.client.keys(`${s.prefix}:ai:audio:*`)).toEqual([]);
  });
});
