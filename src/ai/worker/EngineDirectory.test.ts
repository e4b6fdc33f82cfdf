import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import { Keys } from '../../state/keys.js';
import { RedisStore } from '../../state/RedisStore.js';
import type { EngineSet } from '../types.js';
import { EngineDirectory, readEngineDirectory, type AiWorkerAnnouncement, type EngineRow } from './EngineDirectory.js';

/** Only describe() matters to the directory. */
function engines(rows: EngineRow[]): Pick<EngineSet, 'describe'> {
  return { describe: () => rows.map((r) => ({ ...r })) };
}

const OFFLINE: EngineRow[] = [
  { stage: 'stt', language: 'en', engine: 'pocketsphinx:en-us' },
  { stage: 'translate', language: 'en-es', engine: 'apertium' },
  { stage: 'tts', language: 'es', engine: 'espeak-ng' },
];

describe('EngineDirectory', () => {
  let server: EmbeddedRedis;
  let redis: Redis;
  const open: EngineDirectory[] = [];

  const announce = async (workerId: string, rows = OFFLINE, heartbeatMs = 50): Promise<EngineDirectory> => {
    const directory = await EngineDirectory.create({ redis, workerId, engines: engines(rows), heartbeatMs });
    open.push(directory);
    return directory;
  };

  beforeAll(async () => {
    server = await EmbeddedRedis.start();
    redis = new Redis(server.url);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
    await redis.del(Keys.aiWorkers());
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  it('lists a worker while it heartbeats, with its engines', async () => {
    await announce('w1');
    const first = await readEngineDirectory(redis);
    expect(first.workers.map((w) => w.workerId)).toEqual(['w1']);
    expect(first.workers[0]).toMatchObject({ pid: process.pid, engines: OFFLINE });
    expect(first.engines).toEqual(OFFLINE.map((r) => ({ ...r, workers: 1 })));

    const before = first.workers[0]!.heartbeatAt;
    await sleep(200);
    const later = await readEngineDirectory(redis);
    expect(later.workers[0]!.heartbeatAt).toBeGreaterThan(before);
    // Still live long after a single heartbeat would have gone stale.
    expect((await readEngineDirectory(redis, { staleMs: 150 })).workers).toHaveLength(1);
  });

  it('merges the engines of several workers with counts', async () => {
    await announce('w1');
    await announce('w2', [...OFFLINE, { stage: 'stt', language: 'es', engine: 'sherpa-onnx:whisper-base' }]);
    const { workers, engines: merged } = await readEngineDirectory(redis);
    expect(workers.map((w) => w.workerId)).toEqual(['w1', 'w2']);
    expect(merged).toEqual([
      { stage: 'stt', language: 'en', engine: 'pocketsphinx:en-us', workers: 2 },
      { stage: 'stt', language: 'es', engine: 'sherpa-onnx:whisper-base', workers: 1 },
      { stage: 'translate', language: 'en-es', engine: 'apertium', workers: 2 },
      { stage: 'tts', language: 'es', engine: 'espeak-ng', workers: 2 },
    ]);
  });

  it('drops a worker once it closes, and close is idempotent', async () => {
    const directory = await announce('w1');
    await announce('w2');
    await Promise.all([directory.close(), directory.close()]);
    expect((await readEngineDirectory(redis)).workers.map((w) => w.workerId)).toEqual(['w2']);
    expect(await redis.hexists(Keys.aiWorkers(), 'w1')).toBe(0);
    await sleep(150); // a heartbeat in flight at close must not bring it back
    expect(await redis.hexists(Keys.aiWorkers(), 'w1')).toBe(0);
  });

  it('ignores a worker whose heartbeat is stale (it crashed), and ignores malformed entries', async () => {
    await announce('w1');
    const crashed: AiWorkerAnnouncement = { workerId: 'dead', engines: OFFLINE, heartbeatAt: Date.now() - 7_000, host: 'h', pid: 1 };
    await redis.hset(Keys.aiWorkers(), 'dead', JSON.stringify(crashed), 'junk', '{not json', 'other', JSON.stringify({ ...crashed, workerId: 'mismatch' }));
    const snapshot = await readEngineDirectory(redis);
    expect(snapshot.workers.map((w) => w.workerId)).toEqual(['w1']);
    expect(snapshot.engines.every((e) => e.workers === 1)).toBe(true);
    // The same live worker, seen from a reader 7 s later: gone.
    expect((await readEngineDirectory(redis, { now: Date.now() + 7_000 })).workers).toEqual([]);
  });

  it('reaps entries of long-dead workers when a worker announces itself', async () => {
    const ancient: AiWorkerAnnouncement = { workerId: 'ancient', engines: OFFLINE, heartbeatAt: Date.now() - 120_000, host: 'h', pid: 1 };
    const recent: AiWorkerAnnouncement = { ...ancient, workerId: 'recent', heartbeatAt: Date.now() - 10_000 };
    await redis.hset(Keys.aiWorkers(), 'ancient', JSON.stringify(ancient), 'recent', JSON.stringify(recent));
    await announce('w1');
    expect((await redis.hkeys(Keys.aiWorkers())).sort()).toEqual(['recent', 'w1']);
  });

  it('reads through the gateway\'s RedisStore as well as a raw client', async () => {
    await announce('w1');
    const store = await RedisStore.create({ url: server.url });
    try {
      expect(await readEngineDirectory(store)).toEqual(await readEngineDirectory(redis));
    } finally {
      await store.close();
    }
  });
});
