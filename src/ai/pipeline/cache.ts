/**
 * Redis cache of translations and synthesized audio, so a phrase said again
 * ("yes", "can you hear me?") skips the engine. Keyed by engine id, languages
 * and sha256 of the normalized text (lowercased, trimmed, spaces collapsed).
 *
 * Bounds: every entry expires after ttlMs; audio bigger than maxAudioBytes is
 * not cached; and the number of entries of each kind is capped through a
 * sorted set (entry key -> time written) trimmed oldest-first on each write.
 * TTL alone would not bound memory under a burst of distinct phrases, and
 * leaving it to Redis `maxmemory-policy volatile-lru` would also evict the
 * room and worker snapshots, which carry TTLs too. The cap costs one more
 * pipelined round trip per write, none per read; it is approximate (writes
 * race) and oldest-written goes first (a hit does not refresh its entry).
 * A cache failure never fails a job: errors count as misses.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../../state/redisConnection.js';
import type { PcmAudio } from '../types.js';
import { CacheKeys } from './names.js';

export type AiCacheOptions = {
  /** Key prefix (the pipeline's BullMQ prefix). */
  prefix: string;
  /** Lifetime of an entry, ms (default 1 h). */
  ttlMs?: number;
  /** Largest synthesized audio cached, in PCM bytes (default 256 KiB, about 8 s at 16 kHz). */
  maxAudioBytes?: number;
  /** Entries kept per kind (defaults: 20 000 translations, 500 audio clips). */
  maxTranslations?: number;
  maxAudioClips?: number;
};

/** Counters read by the metrics module. */
export type AiCacheStats = {
  translationHits: number;
  translationMisses: number;
  audioHits: number;
  audioMisses: number;
  /** Audio not cached because it exceeded maxAudioBytes. */
  audioTooLarge: number;
  /** Entries removed by the count cap. */
  evicted: number;
  /** Redis errors (each counted as a miss or a skipped write). */
  errors: number;
};

export const AI_CACHE_DEFAULTS = { ttlMs: 3_600_000, maxAudioBytes: 256 * 1024, maxTranslations: 20_000, maxAudioClips: 500 } as const;

/** Lowercase, trimmed, runs of whitespace collapsed to one space. */
export function normalizeText(text: string): string {
  return text.toLowerCase().trim().replace(/\s+/g, ' ');
}

export function textHash(text: string): string {
  return createHash('sha256').update(normalizeText(text)).digest('hex');
}

export class AiCache {
  readonly stats: AiCacheStats = { translationHits: 0, translationMisses: 0, audioHits: 0, audioMisses: 0, audioTooLarge: 0, evicted: 0, errors: 0 };
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #maxAudioBytes: number;
  readonly #maxTranslations: number;
  readonly #maxAudioClips: number;

  constructor(redis: RedisClient, options: AiCacheOptions) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#ttlMs = options.ttlMs ?? AI_CACHE_DEFAULTS.ttlMs;
    this.#maxAudioBytes = options.maxAudioBytes ?? AI_CACHE_DEFAULTS.maxAudioBytes;
    this.#maxTranslations = options.maxTranslations ?? AI_CACHE_DEFAULTS.maxTranslations;
    this.#maxAudioClips = options.maxAudioClips ?? AI_CACHE_DEFAULTS.maxAudioClips;
  }

  async getTranslation(engineId: string, from: string, to: string, text: string): Promise<string | null> {
    const key = CacheKeys.translation(this.#prefix, engineId, from, to, textHash(text));
    const value = await this.#redis.get(key).catch(() => this.#error());
    if (value === null || value === undefined) this.stats.translationMisses++;
    else this.stats.translationHits++;
    return value ?? null;
  }

  async putTranslation(engineId: string, from: string, to: string, text: string, translated: string): Promise<void> {
    const key = CacheKeys.translation(this.#prefix, engineId, from, to, textHash(text));
    await this.#put(CacheKeys.translationIndex(this.#prefix), key, translated, this.#maxTranslations);
  }

  async getAudio(engineId: string, language: string, text: string): Promise<PcmAudio | null> {
    const key = CacheKeys.audio(this.#prefix, engineId, language, textHash(text));
    const value = await this.#redis.getBuffer(key).catch(() => this.#error());
    if (!value || value.byteLength < 4 || value.byteLength % 2 !== 0) {
      this.stats.audioMisses++;
      return null;
    }
    this.stats.audioHits++;
    const samples = new Int16Array((value.byteLength - 4) / 2);
    new Uint8Array(samples.buffer).set(value.subarray(4));
    return { sampleRate: value.readUInt32LE(0), samples };
  }

  /** Caches audio unless it is bigger than maxAudioBytes. */
  async putAudio(engineId: string, language: string, text: string, audio: PcmAudio): Promise<void> {
    if (audio.samples.byteLength > this.#maxAudioBytes) {
      this.stats.audioTooLarge++;
      return;
    }
    const value = Buffer.allocUnsafe(4 + audio.samples.byteLength);
    value.writeUInt32LE(audio.sampleRate, 0);
    Buffer.from(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength).copy(value, 4);
    const key = CacheKeys.audio(this.#prefix, engineId, language, textHash(text));
    await this.#put(CacheKeys.audioIndex(this.#prefix), key, value, this.#maxAudioClips);
  }

  /** SET with TTL, record it in the index, forget index entries whose keys expired, trim past the cap. */
  async #put(indexKey: string, key: string, value: string | Buffer, maxEntries: number): Promise<void> {
    try {
      const now = Date.now();
      // The entry and its index are in different Cluster slots: the entry first, then the index in one pipeline.
      await this.#redis.set(key, value, 'PX', this.#ttlMs);
      const replies = await this.#redis
        .pipeline()
        .zadd(indexKey, now, key)
        .zremrangebyscore(indexKey, '-inf', now - this.#ttlMs)
        .pexpire(indexKey, this.#ttlMs)
        .zcard(indexKey)
        .exec();
      const count = Number(replies?.[3]?.[1] ?? 0);
      if (count <= maxEntries) return;
      const popped = await this.#redis.zpopmin(indexKey, count - maxEntries);
      const keys = popped.filter((_, i) => i % 2 === 0);
      // One UNLINK per key: entry keys may sit in different Cluster slots.
      await Promise.all(keys.map((k) => this.#redis.unlink(k)));
      this.stats.evicted += keys.length;
    } catch {
      this.stats.errors++;
    }
  }

  #error(): null {
    this.stats.errors++;
    return null;
  }
}
