/**
 * The producer side of the AI pipeline: the stt, translate and tts queues and
 * one results queue per gateway replica, with the job options every add uses.
 * The gateway calls `openSession` (and `withdrawIfWaiting`); AI workers use the other adds.
 */
import { Queue, type JobsOptions } from 'bullmq';
import { createRedis, type RedisClient } from '../../state/redisConnection.js';
import { Errors, InvalidStateError } from '../../errors.js';
import type { DroppedResult, ResultJob, SttJob, TranslateJob, TtsJob } from './jobs.js';
import { bullName, JobIds, PIPELINE_PREFIX, QueueNames } from './names.js';

export type PipelineQueuesOptions = {
  /** redis:// URL (a connection is opened and closed with the queues) or a shared ioredis client (left open). */
  connection: string | RedisClient;
  /** BullMQ key prefix (default 'parley'; tests use their own). */
  prefix?: string;
  /** Waiting recognition sessions above which openSession refuses at once (default 50). */
  maxQueueDepth?: number;
  /** Age after marks.speechEnd at which any stage drops the utterance, ms (default 10 000). */
  maxAgeMs?: number;
};

export type EnqueueOutcome = { accepted: true; jobId: string } | { accepted: false; dropped: DroppedResult };

export const PIPELINE_DEFAULTS = { maxQueueDepth: 50, maxAgeMs: 10_000 } as const;

/**
 * Stage jobs: one retry (an engine hiccup or a crashed worker gets a second chance) after a short pause,
 * since the utterance goes stale within seconds. History is bounded by count and age (stt jobs carry
 * their audio) so Redis does not grow, yet `waitUntilFinished` still finds recent jobs
 * (`removeOnComplete: true` breaks it) and failures stay around an hour for a look.
 */
export const STAGE_JOB_OPTIONS = {
  attempts: 2,
  backoff: { type: 'fixed', delay: 50 },
  removeOnComplete: { count: 100, age: 300 },
  removeOnFail: { count: 200, age: 3600 },
} as const satisfies JobsOptions;

/** Results: delivered once; a failing handler is logged by the consumer, not retried. */
export const RESULT_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 100, age: 300 },
  removeOnFail: { count: 200, age: 3600 },
} as const satisfies JobsOptions;

/** A Redis client BullMQ can use for queues and workers (it requires maxRetriesPerRequest: null). */
export function createBullConnection(url: string, name: string): RedisClient {
  const redis = createRedis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
  redis.on('error', () => undefined); // ioredis reconnects by itself; BullMQ reports errors on its own objects
  return redis;
}

/**
 * A queue whose connection errors are left to the connection's owner: a BullMQ queue re-emits its
 * client's errors, and with no listener prints each one (every reconnect attempt while Redis is down or
 * failing over). Adding a job still fails with the error, which is where callers handle it.
 */
export function quiet<Q extends Queue>(queue: Q): Q {
  queue.on('error', () => undefined);
  return queue;
}

export class PipelineQueues {
  readonly stt: Queue<SttJob>;
  readonly translate: Queue<TranslateJob>;
  readonly tts: Queue<TtsJob>;
  readonly prefix: string;
  readonly maxQueueDepth: number;
  readonly maxAgeMs: number;
  readonly #connection: RedisClient;
  readonly #ownsConnection: boolean;
  readonly #results = new Map<string, Queue<ResultJob>>();
  #closed = false;

  private constructor(connection: RedisClient, ownsConnection: boolean, options: PipelineQueuesOptions) {
    this.#connection = connection;
    this.#ownsConnection = ownsConnection;
    this.prefix = options.prefix ?? PIPELINE_PREFIX;
    this.maxQueueDepth = options.maxQueueDepth ?? PIPELINE_DEFAULTS.maxQueueDepth;
    this.maxAgeMs = options.maxAgeMs ?? PIPELINE_DEFAULTS.maxAgeMs;
    const common = { connection, prefix: this.prefix, defaultJobOptions: STAGE_JOB_OPTIONS };
    this.stt = quiet(new Queue<SttJob>(bullName(QueueNames.stt), common));
    this.translate = quiet(new Queue<TranslateJob>(bullName(QueueNames.translate), common));
    this.tts = quiet(new Queue<TtsJob>(bullName(QueueNames.tts), common));
  }

  static async create(options: PipelineQueuesOptions): Promise<PipelineQueues> {
    const owns = typeof options.connection === 'string';
    const connection = typeof options.connection === 'string' ? createBullConnection(options.connection, 'parley-pipeline') : options.connection;
    const queues = new PipelineQueues(connection, owns, options);
    await Promise.all([queues.stt, queues.translate, queues.tts].map((q) => q.waitUntilReady()));
    return queues;
  }

  /**
   * Adds the recognition session of an utterance whose speech just started, unless more than maxQueueDepth
   * sessions already wait for a worker: then it is refused at once with ERR_AI_SATURATED (every worker
   * runs as many sessions as it keeps in real time; audio queued for later would only be dropped for age).
   * The depth check and the add are two commands, so concurrent callers can overshoot the bound by their
   * number; that is fine for a load-shedding bound.
   */
  async openSession(job: SttJob): Promise<EnqueueOutcome> {
    this.#assertOpen();
    if (!job.utteranceId || job.utteranceId.includes(':')) throw new TypeError('utteranceId must be non-empty without ":"');
    const waiting = await this.stt.getWaitingCount();
    if (waiting >= this.maxQueueDepth) {
      const reason = `${waiting} recognition sessions already wait for an AI worker (bound ${this.maxQueueDepth})`;
      return { accepted: false, dropped: this.#refusal(job, reason) };
    }
    const added = await this.stt.add('stt', job, { jobId: JobIds.stt(job.utteranceId) });
    return { accepted: true, jobId: added.id! };
  }

  /**
   * Admission: removes a session no AI worker has taken yet (still waiting) and returns its refusal, or
   * null when a worker holds it (or it is already done). A job a worker locks meanwhile is not removed.
   */
  async withdrawIfWaiting(job: SttJob, reason: string): Promise<DroppedResult | null> {
    this.#assertOpen();
    const found = await this.stt.getJob(JobIds.stt(job.utteranceId));
    if (!found || (await found.getState()) !== 'waiting') return null;
    try {
      await found.remove();
    } catch {
      return null; // a worker took it between the two calls
    }
    return this.#refusal(job, reason);
  }

  #refusal(job: SttJob, reason: string): DroppedResult {
    const { utteranceId, roomId, speakerPeerId, language } = job;
    return { kind: 'dropped', utteranceId, roomId, speakerPeerId, language, stage: 'queue', code: Errors.AI_SATURATED.code, reason };
  }

  /** Adds one translate job per target (same options as stt jobs; ids make a re-add after a retry a no-op). */
  async addTranslations(jobs: TranslateJob[]): Promise<void> {
    this.#assertOpen();
    if (jobs.length === 0) return;
    await this.translate.addBulk(jobs.map((data) => ({ name: 'translate', data, opts: { ...STAGE_JOB_OPTIONS, jobId: JobIds.translate(data.utteranceId, data.to) } })));
  }

  async addTts(job: TtsJob): Promise<void> {
    this.#assertOpen();
    await this.tts.add('tts', job, { jobId: JobIds.tts(job.utteranceId, job.language, job.segment?.index) });
  }

  /** Delivers a result to the results queue of a gateway replica. */
  async publishResult(replicaId: string, result: ResultJob): Promise<void> {
    this.#assertOpen();
    const kind =
      result.kind === 'dropped'
        ? `dropped-${result.stage}${result.segment ? `-s${result.segment.index}` : ''}`
        : result.kind === 'caption' && !result.final
          ? `partial${result.seq ?? 0}`
          : result.kind;
    await this.results(replicaId).add(result.kind, result, { ...RESULT_JOB_OPTIONS, jobId: JobIds.result(result.utteranceId, kind, result.language) });
  }

  /** The results queue of a replica (created once, closed with this object). */
  results(replicaId: string): Queue<ResultJob> {
    this.#assertOpen();
    let queue = this.#results.get(replicaId);
    if (!queue) {
      queue = quiet(new Queue<ResultJob>(bullName(QueueNames.results(replicaId)), { connection: this.#connection, prefix: this.prefix, defaultJobOptions: RESULT_JOB_OPTIONS }));
      this.#results.set(replicaId, queue);
    }
    return queue;
  }

  /** Closes every queue, then the connection if this object opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.stt, this.translate, this.tts, ...this.#results.values()].map((q) => q.close()));
    this.#results.clear();
    if (this.#ownsConnection) await this.#connection.quit().catch(() => this.#connection.disconnect());
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('PipelineQueues is closed');
  }
}
