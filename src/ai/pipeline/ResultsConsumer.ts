/**
 * The gateway side of the AI pipeline: takes this replica's results (captions,
 * synthesized audio, drops) off `parley-results-<replicaId>` and hands each to
 * a handler that forwards it into the room.
 */
import { Worker, type Job } from 'bullmq';
import type { RedisClient } from '../../state/redisConnection.js';
import type { Store } from '../../state/Store.js';
import type { Logger } from '../../logger.js';
import type { ResultJob } from './jobs.js';
import { bullName, PIPELINE_PREFIX, QueueNames } from './names.js';
import { createBullConnection } from './PipelineQueues.js';

export type ResultsConsumerOptions = {
  /** redis:// URL (a connection is opened and closed with the consumer) or a shared client (left open). */
  connection: string | RedisClient;
  /** This gateway replica's id. */
  replicaId: string;
  /** Called once per result; a throw is logged, not retried. */
  handler: (result: ResultJob) => Promise<void>;
  /** BullMQ prefix (default 'parley'). */
  prefix?: string;
  /** Results handled at once (default 8). Order between results is not guaranteed; each names its utterance and kind. */
  concurrency?: number;
  /**
   * Captions and audio whose marks.speechEnd is older than this are skipped (ms; default 30 000; 0 = never):
   * results that waited for a replica restart are no longer worth playing.
   */
  maxAgeMs?: number;
  log: Logger;
};

export class ResultsConsumer {
  /** Counters read by the metrics module. */
  readonly stats: { handled: number; skippedStale: number; failed: number };
  readonly #worker: Worker<ResultJob>;
  readonly #connection: RedisClient;
  readonly #ownsConnection: boolean;
  #closing: Promise<void> | null = null;

  private constructor(worker: Worker<ResultJob>, connection: RedisClient, ownsConnection: boolean, stats: ResultsConsumer['stats']) {
    this.stats = stats;
    this.#worker = worker;
    this.#connection = connection;
    this.#ownsConnection = ownsConnection;
  }

  static async create(options: ResultsConsumerOptions): Promise<ResultsConsumer> {
    const owns = typeof options.connection === 'string';
    const connection = typeof options.connection === 'string' ? createBullConnection(options.connection, 'parley-results') : options.connection;
    const log = options.log.child({ module: 'ai-results', replicaId: options.replicaId });
    const maxAgeMs = options.maxAgeMs ?? 30_000;
    const stats = { handled: 0, skippedStale: 0, failed: 0 };
    const processor = async (job: Job<ResultJob>): Promise<void> => {
      const result = job.data;
      if (maxAgeMs > 0 && result.kind !== 'dropped' && Date.now() - result.marks.speechEnd > maxAgeMs) {
        stats.skippedStale++;
        log.debug({ utteranceId: result.utteranceId, kind: result.kind }, 'stale result skipped');
        return;
      }
      await options.handler(result);
      stats.handled++;
    };
    // A result is small and handled in milliseconds, so BullMQ's default lock and stall settings do.
    const worker = new Worker<ResultJob>(bullName(QueueNames.results(options.replicaId)), processor, {
      connection,
      prefix: options.prefix ?? PIPELINE_PREFIX,
      concurrency: options.concurrency ?? 8,
      name: `gateway-${options.replicaId}`,
    });
    worker.on('error', (err) => log.warn({ err }, 'results worker error'));
    worker.on('failed', (job, err) => {
      stats.failed++;
      log.warn({ err: err.message, utteranceId: job?.data.utteranceId, kind: job?.data.kind }, 'result handler failed');
    });
    await worker.waitUntilReady();
    return new ResultsConsumer(worker, connection, owns, stats);
  }

  /** Stops taking results, lets running handlers finish, then closes its connection if it opened it. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#worker.close();
      if (this.#ownsConnection) await this.#connection.quit().catch(() => this.#connection.disconnect());
    })();
    return this.#closing;
  }
}

/**
 * A gateway replica is gone for good (reaped): its results queue holds captions and audio nobody will play.
 * Deletes the queue's keys; returns how many there were.
 */
export async function dropResultsQueue(store: Pick<Store, 'keys' | 'del'>, replicaId: string, prefix = PIPELINE_PREFIX): Promise<number> {
  const keys = await store.keys(`${prefix}:${bullName(QueueNames.results(replicaId))}:*`);
  if (keys.length > 0) await store.del(...keys);
  return keys.length;
}
