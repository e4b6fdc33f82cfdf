/**
 * Which AI workers are alive and which engines they serve, kept in one Redis
 * hash (Keys.aiWorkers): each worker writes its own field every heartbeatMs and
 * deletes it on close; readers treat an entry older than staleMs as gone (a
 * worker that crashed cannot delete its field). Live workers also delete
 * entries older than reapMs, so crashed workers do not pile up in the hash.
 *
 * Liveness compares the writer's clock (heartbeatAt) with the reader's, so
 * hosts need clocks within a second or two of each other (NTP).
 */
import { hostname } from 'node:os';
import type { RedisClient } from '../../state/redisConnection.js';
import type { Logger } from '../../logger.js';
import { Keys } from '../../state/keys.js';
import { RedisStore } from '../../state/RedisStore.js';
import type { EngineSet } from '../types.js';

/** One row of EngineSet.describe(): translate rows use 'from-to' as language. */
export type EngineRow = ReturnType<EngineSet['describe']>[number];

/** What a worker writes in its field. */
export type AiWorkerAnnouncement = {
  workerId: string;
  engines: EngineRow[];
  /** ms since epoch, by the worker's clock. */
  heartbeatAt: number;
  host: string;
  pid: number;
};

export type EngineDirectoryOptions = {
  /** A client this object uses but does not close. */
  redis: RedisClient;
  /** Unique among live workers; the hash field. */
  workerId: string;
  engines: Pick<EngineSet, 'describe'>;
  /** Heartbeat period, ms (default 2 000). */
  heartbeatMs?: number;
  /** Entries of other workers older than this are deleted, ms (default 60 000). */
  reapMs?: number;
  log?: Logger;
};

/** The directory as a gateway sees it. */
export type EngineDirectorySnapshot = {
  /** Workers with a fresh heartbeat, by id. */
  workers: AiWorkerAnnouncement[];
  /** Every (stage, language, engine) a live worker serves, with how many serve it; sorted. */
  engines: Array<EngineRow & { workers: number }>;
};

export const ENGINE_DIRECTORY_DEFAULTS = { heartbeatMs: 2_000, staleMs: 6_000, reapMs: 60_000 } as const;

/** Longest a delete on close may wait for Redis, ms: shutdown must not hang on a dead Redis. */
const CLOSE_TIMEOUT_MS = 1_000;

/** A worker's presence in the directory: announced on create, refreshed until close. */
export class EngineDirectory {
  readonly workerId: string;
  readonly #redis: RedisClient;
  readonly #engines: Pick<EngineSet, 'describe'>;
  readonly #heartbeatMs: number;
  readonly #reapMs: number;
  readonly #log: Logger | undefined;
  #timer: NodeJS.Timeout | null = null;
  #beating: Promise<void> = Promise.resolve();
  #lastReap = 0;
  #closing: Promise<void> | null = null;

  private constructor(options: EngineDirectoryOptions) {
    if (!options.workerId) throw new TypeError('workerId must be non-empty');
    this.workerId = options.workerId;
    this.#redis = options.redis;
    this.#engines = options.engines;
    this.#heartbeatMs = options.heartbeatMs ?? ENGINE_DIRECTORY_DEFAULTS.heartbeatMs;
    this.#reapMs = options.reapMs ?? ENGINE_DIRECTORY_DEFAULTS.reapMs;
    this.#log = options.log?.child({ module: 'engine-directory', workerId: options.workerId });
  }

  /** Announces the worker (rejects if Redis refuses the first write), then heartbeats every heartbeatMs. */
  static async create(options: EngineDirectoryOptions): Promise<EngineDirectory> {
    const directory = new EngineDirectory(options);
    await directory.#announce();
    directory.#schedule();
    return directory;
  }

  /** Stops the heartbeat and removes this worker's entry. Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      await this.#beating;
      const removed = this.#redis.hdel(Keys.aiWorkers(), this.workerId);
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CLOSE_TIMEOUT_MS} ms`)), CLOSE_TIMEOUT_MS).unref());
      await Promise.race([removed, timeout]).catch((err: Error) => {
        this.#log?.warn({ err: err.message }, 'could not remove the directory entry; readers will drop it once stale');
      });
    })();
    return this.#closing;
  }

  #schedule(): void {
    if (this.#closing) return;
    this.#timer = setTimeout(() => {
      this.#beating = this.#announce().catch((err: Error) => this.#log?.warn({ err: err.message }, 'heartbeat failed'));
      void this.#beating.then(() => this.#schedule());
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  async #announce(): Promise<void> {
    const now = Date.now();
    const entry: AiWorkerAnnouncement = { workerId: this.workerId, engines: this.#engines.describe(), heartbeatAt: now, host: hostname(), pid: process.pid };
    await this.#redis.hset(Keys.aiWorkers(), this.workerId, JSON.stringify(entry));
    if (now - this.#lastReap < this.#reapMs / 2) return;
    this.#lastReap = now;
    const gone = (await readEntries(this.#redis)).filter((e) => now - e.heartbeatAt > this.#reapMs).map((e) => e.workerId);
    if (gone.length > 0) await this.#redis.hdel(Keys.aiWorkers(), ...gone);
  }
}

/** Live AI workers and the engines they serve, read from the gateway's store or any ioredis client. */
export async function readEngineDirectory(source: RedisClient | RedisStore, options: { staleMs?: number; now?: number } = {}): Promise<EngineDirectorySnapshot> {
  const redis = source instanceof RedisStore ? source.client : source;
  const now = options.now ?? Date.now();
  const staleMs = options.staleMs ?? ENGINE_DIRECTORY_DEFAULTS.staleMs;
  const workers = (await readEntries(redis)).filter((e) => now - e.heartbeatAt <= staleMs).sort((a, b) => a.workerId.localeCompare(b.workerId));
  const counts = new Map<string, EngineRow & { workers: number }>();
  for (const worker of workers) {
    for (const row of worker.engines) {
      const key = `${row.stage}\u0000${row.language}\u0000${row.engine}`;
      const seen = counts.get(key);
      if (seen) seen.workers++;
      else counts.set(key, { stage: row.stage, language: row.language, engine: row.engine, workers: 1 });
    }
  }
  const order = { stt: 0, translate: 1, tts: 2 } as const;
  const engines = [...counts.values()].sort((a, b) => order[a.stage] - order[b.stage] || a.language.localeCompare(b.language) || a.engine.localeCompare(b.engine));
  return { workers, engines };
}

/** Every well-formed entry of the hash, fresh or not; malformed ones are skipped. */
async function readEntries(redis: RedisClient): Promise<AiWorkerAnnouncement[]> {
  const raw = await redis.hgetall(Keys.aiWorkers());
  const entries: AiWorkerAnnouncement[] = [];
  for (const [field, value] of Object.entries(raw)) {
    const entry = parseEntry(value);
    if (entry && entry.workerId === field) entries.push(entry);
  }
  return entries;
}

function parseEntry(value: string): AiWorkerAnnouncement | null {
  try {
    const e = JSON.parse(value) as Partial<AiWorkerAnnouncement>;
    if (typeof e.workerId !== 'string' || typeof e.heartbeatAt !== 'number' || !Array.isArray(e.engines)) return null;
    const engines = e.engines.filter(
      (r): r is EngineRow => (r?.stage === 'stt' || r?.stage === 'translate' || r?.stage === 'tts') && typeof r.language === 'string' && typeof r.engine === 'string',
    );
    return { workerId: e.workerId, engines, heartbeatAt: e.heartbeatAt, host: String(e.host ?? ''), pid: Number(e.pid ?? 0) };
  } catch {
    return null;
  }
}
