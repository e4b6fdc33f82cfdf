import { EventEmitter } from 'node:events';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from '../../errors.js';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import type { AiWorkerEvents } from '../pipeline/AiWorker.js';
import type { AiCacheStats } from '../pipeline/cache.js';
import { bullName, QueueNames } from '../pipeline/names.js';
import type { EngineSet } from '../types.js';
import { AiWorkerMetrics, serveAiWorkerMetrics, type MetricsServer } from './AiWorkerMetrics.js';

const PREFIX = 'test-ai-metrics';

/** The AiWorker as the metrics see it: an observer to emit on, and cache counters to bump. */
function workerStandIn() {
  const cacheStats: AiCacheStats = { translationHits: 0, translationMisses: 0, audioHits: 0, audioMisses: 0, audioTooLarge: 0, evicted: 0, errors: 0 };
  return { observer: new EventEmitter<AiWorkerEvents>(), cacheStats };
}

const ENGINES: Pick<EngineSet, 'describe'> = {
  describe: () => [
    { stage: 'stt', language: 'en', engine: 'pocketsphinx:en-us' },
    { stage: 'translate', language: 'en-es', engine: 'apertium' },
    { stage: 'tts', language: 'es', engine: 'espeak-ng' },
  ],
};

/** The value of one sample line, e.g. `parley_ai_jobs_total{stage="stt",result="ok",worker="w"}`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('AiWorkerMetrics', () => {
  let server: EmbeddedRedis;
  let redis: Redis;
  let stt: Queue;
  const worker = workerStandIn();
  let metrics: AiWorkerMetrics;
  let http: MetricsServer;
  let base: string;
  /** What the worker's engines report; a test swaps it to see the gauge follow. */
  let served = ENGINES.describe();

  beforeAll(async () => {
    server = await EmbeddedRedis.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    stt = new Queue(bullName(QueueNames.stt), { connection: redis, prefix: PREFIX });
    metrics = AiWorkerMetrics.create({ workerId: 'w-test', worker, redis, prefix: PREFIX, engines: { describe: () => served } });
    http = await serveAiWorkerMetrics({ metrics, engines: ENGINES, port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${http.port}`;
  });
  afterAll(async () => {
    await http?.close();
    await metrics?.close();
    await stt?.close();
    await redis?.quit();
    await server?.stop();
  });

  it('serves /metrics with every AI metric, labelled with the worker id', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of [
      'parley_ai_jobs_total',
      'parley_ai_job_seconds',
      'parley_ai_queue_wait_seconds',
      'parley_ai_cache_hits_total',
      'parley_ai_cache_misses_total',
      'parley_ai_queue_depth',
      'parley_ai_engine_info',
      'parley_ai_worker_process_cpu_seconds_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('worker="w-test"');
    expect(sample(text, 'parley_ai_jobs_total', { stage: 'tts', result: 'failed' })).toBe(0);
  });

  it('counts jobs and their timings from the observer', async () => {
    worker.observer.emit('processed', { stage: 'stt', waitMs: 30, durationMs: 400 });
    worker.observer.emit('processed', { stage: 'stt', waitMs: 10, durationMs: 200 });
    worker.observer.emit('dropped', { stage: 'translate', code: Errors.ENGINE_FAILED.code, reason: 'timeout' });
    worker.observer.emit('dropped', { stage: 'tts', code: Errors.UTTERANCE_DROPPED.code, reason: 'too old' });
    const text = await metrics.text();
    expect(sample(text, 'parley_ai_jobs_total', { stage: 'stt', result: 'ok' })).toBe(2);
    expect(sample(text, 'parley_ai_jobs_total', { stage: 'translate', result: 'failed' })).toBe(1);
    expect(sample(text, 'parley_ai_jobs_total', { stage: 'tts', result: 'dropped' })).toBe(1);
    expect(sample(text, 'parley_ai_job_seconds_sum', { stage: 'stt' })).toBeCloseTo(0.6);
    expect(sample(text, 'parley_ai_queue_wait_seconds_count', { stage: 'stt' })).toBe(2);
    expect(sample(text, 'parley_ai_queue_wait_seconds_sum', { stage: 'stt' })).toBeCloseTo(0.04);
  });

  it('reads cache counters and queue depth at scrape time', async () => {
    Object.assign(worker.cacheStats, { translationHits: 3, translationMisses: 5, audioHits: 1, audioMisses: 2 });
    await stt.add('stt', { n: 1 });
    await stt.add('stt', { n: 2 });
    let text = await metrics.text();
    expect(sample(text, 'parley_ai_cache_hits_total', { kind: 'translation' })).toBe(3);
    expect(sample(text, 'parley_ai_cache_misses_total', { kind: 'audio' })).toBe(2);
    expect(sample(text, 'parley_ai_queue_depth', { queue: QueueNames.stt })).toBe(2);
    expect(sample(text, 'parley_ai_queue_depth', { queue: QueueNames.tts })).toBe(0);

    worker.cacheStats.translationHits = 4; // counters grow by the difference, not the total
    text = await metrics.text();
    expect(sample(text, 'parley_ai_cache_hits_total', { kind: 'translation' })).toBe(4);
  });

  it('exports one parley_ai_engine_info series per engine and language, rebuilt at each scrape', async () => {
    const series = (text: string) => text.split('\n').filter((l) => l.startsWith('parley_ai_engine_info{'));
    let text = await metrics.text();
    expect(series(text)).toHaveLength(3);
    expect(sample(text, 'parley_ai_engine_info', { stage: 'stt', language: 'en', engine: 'pocketsphinx:en-us', worker: 'w-test' })).toBe(1);
    expect(sample(text, 'parley_ai_engine_info', { stage: 'translate', language: 'en-es', engine: 'apertium' })).toBe(1);
    expect(sample(text, 'parley_ai_engine_info', { stage: 'tts', language: 'es', engine: 'espeak-ng' })).toBe(1);
    served = [{ stage: 'stt', language: 'en', engine: 'sherpa-onnx:en' }];
    try {
      text = await metrics.text();
      expect(series(text)).toEqual([expect.stringContaining('engine="sherpa-onnx:en"')]);
    } finally {
      served = ENGINES.describe();
    }
  });

  it('serves /health with the worker id and its engines', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; workerId: string; engines: unknown; uptimeSeconds: number };
    expect(body).toMatchObject({ status: 'ok', workerId: 'w-test', engines: ENGINES.describe() });
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('stops counting once closed', async () => {
    const other = workerStandIn();
    const closed = AiWorkerMetrics.create({ workerId: 'w-closed', worker: other, redis, prefix: PREFIX, engines: ENGINES });
    await closed.close();
    await closed.close();
    expect(other.observer.listenerCount('processed')).toBe(0);
    expect(other.observer.listenerCount('dropped')).toBe(0);
  });
});
