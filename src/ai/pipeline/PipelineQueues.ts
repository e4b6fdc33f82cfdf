/**
 * The producer side of the AI pipeline: the stt, translate and tts queues and
 * one results queue per gateway replica, with the job options every add uses.
 * The gateway calls `enqueueUtterance`; AI workers use the other adds.
 */
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { Errors, InvalidStateError } from '../../errors.js';
import type { DroppedResult, PartialJob, ResultJob, SttJob, TranslateJob, TtsJob } from './jobs.js';
import { JobIds, PIPELINE_PREFIX, QueueNames } from './names.js';

export type PipelineQueuesOptions = {
  /** redis:// URL (a connection is opened and closed with the queues) or a shared ioredis client (left open). */
  connection: string | Redis;
  /** BullMQ key prefix (default 'parley'; tests use their own). */
  prefix?: string;
  /** Waiting stt jobs above which enqueueUtterance refuses the utterance (default 50). */
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

/** Partials: one attempt, forgotten once done; the next partial (or the final) supersedes a lost one. */
export const PARTIAL_JOB_OPTIONS = { attempts: 1, removeOnComplete: true, removeOnFail: true } as const satisfies JobsOptions;

/** Results: delivered once; a failing handler is logged by the consumer, not retried. */
export const RESULT_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 100, age: 300 },
  removeOnFail: { count: 200, age: 3600 },
} as const satisfies JobsOptions;

/** A Redis client BullMQ can use for queues and workers (it requires maxRetriesPerRequest: null). */
export function createBullConnection(url: string, name: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
  redis.on('error', () => undefined); // ioredis reconnects by itself; BullMQ reports errors on its own objects
  return redis;
}

export class PipelineQueues {
  readonly stt: Queue<SttJob>;
  readonly translate: Queue<TranslateJob>;
  readonly tts: Queue<TtsJob>;
  readonly partial: Queue<PartialJob>;
  readonly prefix: string;
  readonly maxQueueDepth: number;
  readonly maxAgeMs: number;
  readonly #connection: Redis;
  readonly #ownsConnection: boolean;
  readonly #results = new Map<string, Queue<ResultJob>>();
  #closed = false;

  private constructor(connection: Redis, ownsConnection: boolean, options: PipelineQueuesOptions) {
    this.#connection = connection;
    this.#ownsConnection = ownsConnection;
    this.prefix = options.prefix ?? PIPELINE_PREFIX;
    this.maxQueueDepth = options.maxQueueDepth ?? PIPELINE_DEFAULTS.maxQueueDepth;
    this.maxAgeMs = options.maxAgeMs ?? PIPELINE_DEFAULTS.maxAgeMs;
    const common = { connection, prefix: this.prefix, defaultJobOptions: STAGE_JOB_OPTIONS };
    this.stt = new Queue<SttJob>(QueueNames.stt, common);
    this.translate = new Queue<TranslateJob>(QueueNames.translate, common);
    this.tts = new Queue<TtsJob>(QueueNames.tts, common);
    this.partial = new Queue<PartialJob>(QueueNames.partial, { ...common, defaultJobOptions: PARTIAL_JOB_OPTIONS });
  }

  static async create(options: PipelineQueuesOptions): Promise<PipelineQueues> {
    const owns = typeof options.connection === 'string';
    const connection = typeof options.connection === 'string' ? createBullConnection(options.connection, 'parley-pipeline') : options.connection;
    const queues = new PipelineQueues(connection, owns, options);
    await Promise.all([queues.stt, queues.translate, queues.tts, queues.partial].map((q) => q.waitUntilReady()));
    return queues;
  }

  /**
   * Adds the stt job of an utterance, unless more than maxQueueDepth stt jobs already wait: then the
   * utterance is refused with ERR_UTTERANCE_DROPPED (speech that would be translated late is worth less
   * than speech translated now). The depth check and the add are two commands, so concurrent callers can
   * overshoot the bound by their number; that is fine for a load-shedding bound.
   */
  async enqueueUtterance(job: Omit<SttJob, 'deadline'> & { deadline?: number }): Promise<EnqueueOutcome> {
    this.#assertOpen();
    if (!job.utteranceId || job.utteranceId.includes(':')) throw new TypeError('utteranceId must be non-empty without ":"');
    const waiting = await this.stt.getWaitingCount();
    if (waiting >= this.maxQueueDepth) {
      const { utteranceId, roomId, speakerPeerId, language } = job;
      const reason = `stt queue full (${waiting} waiting, bound ${this.maxQueueDepth})`;
      return { accepted: false, dropped: { kind: 'dropped', utteranceId, roomId, speakerPeerId, language, stage: 'queue', code: Errors.UTTERANCE_DROPPED.code, reason } };
    }
    const payload: SttJob = { ...job, deadline: job.deadline ?? job.marks.speechEnd + this.maxAgeMs };
    const added = await this.stt.add('stt', payload, { jobId: JobIds.stt(job.utteranceId) });
    return { accepted: true, jobId: added.id! };
  }

  /**
   * Adds a partial job unless final utterances are waiting for speech recognition: finals come first, and
   * partials are the first thing shed under load. Resolves false when it was not added.
   */
  async enqueuePartial(job: PartialJob): Promise<boolean> {
    this.#assertOpen();
    if ((await this.stt.getWaitingCount()) > 0) return false;
    await this.partial.add('partial', job, { jobId: JobIds.partial(job.utteranceId, job.seq) });
    return true;
  }

  /** Adds one translate job per target (same options as stt jobs; ids make a re-add after a retry a no-op). */
  async addTranslations(jobs: TranslateJob[]): Promise<void> {
    this.#assertOpen();
    if (jobs.length === 0) return;
    await this.translate.addBulk(jobs.map((data) => ({ name: 'translate', data, opts: { ...STAGE_JOB_OPTIONS, jobId: JobIds.translate(data.utteranceId, data.to) } })));
  }

  async addTts(job: TtsJob): Promise<void> {
    this.#assertOpen();
    await this.tts.add('tts', job, { jobId: JobIds.tts(job.utteranceId, job.language) });
  }

  /** Delivers a result to the results queue of a gateway replica. */
  async publishResult(replicaId: string, result: ResultJob): Promise<void> {
    this.#assertOpen();
    const kind = result.kind === 'dropped' ? `dropped-${result.stage}` : result.kind === 'caption' && !result.final ? `partial${result.seq ?? 0}` : result.kind;
    await this.results(replicaId).add(result.kind, result, { ...RESULT_JOB_OPTIONS, jobId: JobIds.result(result.utteranceId, kind, result.language) });
  }

  /** The results queue of a replica (created once, closed with this object). */
  results(replicaId: string): Queue<ResultJob> {
    this.#assertOpen();
    let queue = this.#results.get(replicaId);
    if (!queue) {
      queue = new Queue<ResultJob>(QueueNames.results(replicaId), { connection: this.#connection, prefix: this.prefix, defaultJobOptions: RESULT_JOB_OPTIONS });
      this.#results.set(replicaId, queue);
    }
    return queue;
  }

  /** Closes every queue, then the connection if this object opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.stt, this.translate, this.tts, this.partial, ...this.#results.values()].map((q) => q.close()));
    this.#results.clear();
    if (this.#ownsConnection) await this.#connection.quit().catch(() => this.#connection.disconnect());
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('PipelineQueues is closed');
  }
}
