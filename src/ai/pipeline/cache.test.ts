import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import { AiCache, normalizeText, textHash } from './cache.js';
import { decodePcm, encodePcm } from './jobs.js';
import { CacheKeys } from './names.js';

let server: EmbeddedRedis;
let redis: Redis;
let run = 0;

beforeAll(async () => {
  server = await EmbeddedRedis.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const pcm = (n: number) => ({ samples: Int16Array.from({ length: n }, (_, i) => i - n / 2), sampleRate: 22_050 });

describe('AiCache', () => {
  it('normalizes text before hashing', () => {
    expect(normalizeText('  Can you\tHEAR\n me? ')).toBe('can you hear me?');
    expect(textHash('Hello  world')).toBe(textHash(' hello world'));
  });

  it('stores translations and audio with a TTL and counts hits and misses', async () => {
    const prefix = `cache${++run}`;
    const cache = new AiCache(redis, { prefix, ttlMs: 60_000 });
    expect(await cache.getTranslation('mt', 'en', 'es', 'Hello')).toBeNull();
    await cache.putTranslation('mt', 'en', 'es', 'Hello', 'Hola');
    expect(await cache.getTranslation('mt', 'en', 'es', ' hello ')).toBe('Hola');
    expect(await cache.getTranslation('other-mt', 'en', 'es', 'hello')).toBeNull();
    const audio = pcm(1001);
    await cache.putAudio('tts', 'es', 'Hola', audio);
    const back = await cache.getAudio('tts', 'es', 'hola');
    expect(back?.sampleRate).toBe(22_050);
    expect(Array.from(back!.samples)).toEqual(Array.from(audio.samples));
    const ttl = await redis.pttl(CacheKeys.translation(prefix, 'mt', 'en', 'es', textHash('hello')));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(cache.stats).toMatchObject({ translationHits: 1, translationMisses: 2, audioHits: 1, audioMisses: 0 });
  });

  it('skips audio above maxAudioBytes and caps entries oldest-first', async () => {
    const prefix = `cache${++run}`;
    const cache = new AiCache(redis, { prefix, maxAudioBytes: 1000, maxTranslations: 3 });
    await cache.putAudio('tts', 'es', 'long', pcm(501));
    expect(cache.stats.audioTooLarge).toBe(1);
    expect(await cache.getAudio('tts', 'es', 'long')).toBeNull();
    for (const word of ['one', 'two', 'three', 'four', 'five']) {
      await cache.putTranslation('mt', 'en', 'es', word, word.toUpperCase());
      await sleep(2); // entries written in the same millisecond have no defined order
    }
    expect(cache.stats.evicted).toBe(2);
    expect(await redis.zcard(CacheKeys.translationIndex(prefix))).toBe(3);
    expect(await cache.getTranslation('mt', 'en', 'es', 'one')).toBeNull();
    expect(await cache.getTranslation('mt', 'en', 'es', 'five')).toBe('FIVE');
  });

  it('round-trips PCM through base64 whatever the buffer offset', () => {
    const backing = new Int16Array([9, -32768, 0, 32767, -1]);
    const view = backing.subarray(1, 4);
    expect(Array.from(decodePcm(encodePcm(view)))).toEqual([-32768, 0, 32767]);
  });
});
