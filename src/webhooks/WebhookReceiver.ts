/**
 * One receiver URL: its BullMQ queue of room transitions and this replica's worker on it. Every replica
 * runs a worker; the queue's global concurrency of 1 lets one job be delivered at a time, cluster-wide.
 * A job holds one transition's events and is delivered only after the room's previous transition
 * (ordering.ts), each event retried until 2xx or its retry window ends (deliver.ts). The worker's lock is
 * renewed while a delivery waits between attempts; a dead replica's job stalls, and another replica's
 * worker takes it over from the event it had reached.
 */
import { createHash } from 'node:crypto';
import { DelayedError, Queue, WaitingError, Worker, type Job, type JobsOptions } from 'bullmq';
import { quiet } from '../ai/pipeline/PipelineQueues.js';
import { bullName, PIPELINE_PREFIX, QueueNames } from '../ai/pipeline/names.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../state/redisConnection.js';
import { deliverWithRetry, type DeliveryTarget } from './deliver.js';
import { transitionJobId, type TransitionJob } from './events.js';
import { orderDecision } from './ordering.js';
import type { WebhookMetrics } from './WebhookMetrics.js';

export type WebhookReceiverOptions = {
  target: DeliveryTarget;
  /** BullMQ connection (shared, left open). */
  connection: RedisClient;
  metrics: WebhookMetrics;
  log: Logger;
  /** Names this replica's worker. */
  replicaId: string;
  /** BullMQ key prefix (default the pipeline's). */
  prefix?: string;
  /** Worker lock, ms: a dead replica's delivery is taken over within about 1.5x this (default 30 000). */
  lockMs?: number;
  /** Queued transitions above which a warning is logged; nothing is dropped (default 100 000). */
  maxQueued?: number;
};

/** What a job carries: the transition and when it was enqueued (the enqueuing replica's clock). */
type QueuedTransition = TransitionJob & { enqueuedAt: number };

/**
 * The delivery loop's own retries cover the receiver; these cover the worker itself failing (Redis hiccup
 * mid-job). A job that fails for good lets the room's next transitions through.
 */
const JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 20_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const satisfies JobsOptions;

const SAMPLE_MS = 5000;
const WARN_EVERY_MS = 60_000;
const CLOSE_ADDS_MS = 5000;

/** Short and stable: names the receiver's queue and labels its metrics (URLs may carry credentials). */
export function receiverId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 12);
}

export class WebhookReceiver {
  readonly id: string;
  readonly #o: WebhookReceiverOptions;
  readonly #queue: Queue<QueuedTransition>;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #adds = new Set<Promise<unknown>>();
  #worker: Worker<QueuedTransition> | null = null;
  #sampler: NodeJS.Timeout | null = null;
  #lastWarn = 0;
  #closing: Promise<void> | null = null;

  private constructor(o: WebhookReceiverOptions) {
    this.#o = o;
    this.id = receiverId(o.target.url);
    this.#log = o.log.child({ module: 'webhooks', receiver: this.id });
    this.#queue = quiet(new Queue<QueuedTransition>(bullName(QueueNames.webhooks(this.id)), { connection: o.connection, prefix: o.prefix ?? PIPELINE_PREFIX }));
  }

  static async create(o: WebhookReceiverOptions): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(o);
    await r.#start();
    return r;
  }

  async #start(): Promise<void> {
    await this.#queue.setGlobalConcurrency(1);
    const lockDuration = this.#o.lockMs ?? 30_000;
    this.#worker = new Worker<QueuedTransition>(this.#queue.name, (job, token) => this.#process(job, token!), {
      connection: this.#o.connection,
      prefix: this.#queue.opts.prefix,
      concurrency: 1,
      lockDuration,
      stalledInterval: Math.max(1000, lockDuration / 2),
      // A job stalls each time a replica dies holding it; that must not fail its delivery.
      maxStalledCount: 1000,
      name: `webhooks-${this.#o.replicaId}`,
    });
    this.#worker.on('error', (err) => this.#log.warn({ err }, 'webhook worker error'));
    this.#worker.on('failed', (job, err) => this.#log.warn({ err: err.message, jobId: job?.id, attempts: job?.attemptsMade }, 'webhook job failed'));
    await this.#worker.waitUntilReady();
    this.#sampler = setInterval(() => void this.#sample(), SAMPLE_MS).unref();
    this.#log.info({ origin: new URL(this.#o.target.url).origin }, 'webhook receiver ready');
  }

  /** Fire-and-forget: never waits on the receiver; a failure to enqueue is logged and counted. */
  enqueue(transition: TransitionJob): void {
    if (this.#closing) {
      this.#o.metrics.enqueueError(this.id);
      this.#log.warn({ roomId: transition.roomId, seq: transition.seq }, 'webhooks closed: room transition not enqueued');
      return;
    }
    const jobId = transitionJobId(transition.roomId, transition.seq);
    const add = this.#queue.add('transition', { ...transition, enqueuedAt: Date.now() }, { ...JOB_OPTIONS, jobId }).catch((err: unknown) => {
      this.#o.metrics.enqueueError(this.id);
      this.#log.error({ err, roomId: transition.roomId, seq: transition.seq }, 'could not enqueue a room transition: its webhook events are lost');
    });
    this.#adds.add(add);
    void add.finally(() => this.#adds.delete(add));
  }

  async #process(job: Job<QueuedTransition>, token: string): Promise<void> {
    const t = job.data;
    const pred = t.created ? null : await this.#queue.getJobState(transitionJobId(t.roomId, t.seq - 1));
    const decision = orderDecision(pred, t.enqueuedAt, Date.now());
    if (decision.kind === 'defer') {
      await job.moveToDelayed(Date.now() + decision.delayMs, token);
      throw new DelayedError();
    }
    if (decision.kind === 'deliver-after-gap') {
      this.#o.metrics.gap(this.id);
      this.#log.warn({ roomId: t.roomId, seq: t.seq }, 'the room transition before this one never reached the queue; delivering without it');
    }
    const from = typeof job.progress === 'number' ? job.progress : 0;
    for (let i = from; i < t.events.length; i++) {
      const event = t.events[i]!;
      const outcome = await deliverWithRetry(this.#o.target, event, {
        signal: this.#stop.signal,
        sleep: (ms) => this.#sleep(ms),
        failed: (result, attempt, nextInMs) => {
          this.#o.metrics.delivery(this.id, nextInMs === null ? 'given_up' : 'failed');
          const fields = { eventId: event.id, event: event.event, roomId: t.roomId, attempt, error: result.error, nextInMs };
          if (nextInMs === null) this.#log.warn(fields, 'webhook delivery given up (retry window over)');
          else this.#log.debug(fields, 'webhook delivery attempt failed');
        },
      });
      if (outcome === 'stopped') {
        // Shutting down: hand the job back; another replica (or this one, restarted) resumes at event i.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (outcome === 'ok') this.#o.metrics.delivery(this.id, 'ok', event.createdAt);
      if (i + 1 < t.events.length) await job.updateProgress(i + 1);
    }
  }

  /** Resolves true after `ms`, or false as soon as the receiver is closing. */
  #sleep(ms: number): Promise<boolean> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      signal.addEventListener('abort', onAbort);
    });
  }

  async #sample(): Promise<void> {
    try {
      const c = await this.#queue.getJobCounts('wait', 'delayed', 'active', 'prioritized');
      const n = Object.values(c).reduce((a, b) => a + b, 0);
      this.#o.metrics.depth(this.id, n);
      const max = this.#o.maxQueued ?? 100_000;
      if (n > max && Date.now() - this.#lastWarn > WARN_EVERY_MS) {
        this.#lastWarn = Date.now();
        this.#log.warn({ queued: n, max }, 'webhook queue is large: is the receiver down? (nothing is dropped)');
      }
    } catch (err) {
      this.#log.debug({ err }, 'webhook queue depth not sampled');
    }
  }

  /** Waits for enqueues under way, stops this replica's worker (a delivery in progress goes back to the queue), closes the queue. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#sampler) clearInterval(this.#sampler);
      // Bounded: with Redis down an add would wait for it forever.
      await Promise.race([Promise.all([...this.#adds]), new Promise((r) => setTimeout(r, CLOSE_ADDS_MS).unref())]);
      this.#stop.abort();
      await this.#worker?.close();
      await this.#queue.close();
    })();
    return this.#closing;
  }
}
