/**
 * Prometheus metrics of one AI worker process, fed only by the AiWorker's
 * observer and read-outs at scrape time (never by pipeline code), and the small
 * HTTP server that exposes them with a /health summary. Metric names are the
 * contract with dashboards and alerts, like the gateway's in
 * src/observability/metrics.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { RedisClient } from '../../state/redisConnection.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Errors } from '../../errors.js';
import type { AiWorker } from '../pipeline/AiWorker.js';
import { bullName, PIPELINE_PREFIX, stageQueue, type PipelineStage } from '../pipeline/names.js';
import { quiet } from '../pipeline/PipelineQueues.js';
import type { EngineSet } from '../types.js';

export type AiWorkerMetricsOptions = {
  /** Set as the default label `worker` of every metric. */
  workerId: string;
  /** Where job events and cache counters come from. */
  worker: Pick<AiWorker, 'observer' | 'cacheStats'>;
  /** Client for the queue-depth read-outs; used, not closed. */
  redis: RedisClient;
  /** The engines this worker serves, exported as parley_ai_engine_info. */
  engines: Pick<EngineSet, 'describe'>;
  /** BullMQ prefix of the pipeline queues (default 'parley'). */
  prefix?: string;
};

const STAGES: readonly PipelineStage[] = ['stt', 'translate', 'tts'];
const RESULTS = ['ok', 'failed', 'dropped'] as const;
/** Longest a scrape waits for one queue-depth read, ms; past it the gauge keeps its last value. */
const DEPTH_TIMEOUT_MS = 1_000;

export class AiWorkerMetrics {
  readonly registry = new Registry();
  readonly workerId: string;
  readonly #queues: Array<Queue>;
  readonly #detach: () => void;
  #closing: Promise<void> | null = null;

  private constructor(options: AiWorkerMetricsOptions) {
    const r = this.registry;
    const { worker } = options;
    this.workerId = options.workerId;
    r.setDefaultLabels({ worker: options.workerId });
    collectDefaultMetrics({ register: r, prefix: 'parley_ai_worker_' });

    const jobs = new Counter({ name: 'parley_ai_jobs_total', help: 'Pipeline jobs finished, by stage and result (failed = engine failure after retries, dropped = too old or unsupported)', labelNames: ['stage', 'result'], registers: [r] });
    const jobSeconds = new Histogram({
      name: 'parley_ai_job_seconds',
      help: 'Processing time of a job once taken (engine call plus the writes of its results)',
      labelNames: ['stage'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8],
      registers: [r],
    });
    const waitSeconds = new Histogram({
      name: 'parley_ai_queue_wait_seconds',
      help: 'Time a job waited in its queue before a worker took it',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
    for (const stage of STAGES) {
      for (const result of RESULTS) jobs.inc({ stage, result }, 0);
      jobSeconds.zero({ stage });
      waitSeconds.zero({ stage });
    }
    const onProcessed = ({ stage, waitMs, durationMs }: { stage: PipelineStage; waitMs: number; durationMs: number }): void => {
      jobs.inc({ stage, result: 'ok' });
      jobSeconds.observe({ stage }, Math.max(0, durationMs) / 1000);
      waitSeconds.observe({ stage }, Math.max(0, waitMs) / 1000);
    };
    const onDropped = ({ stage, code }: { stage: PipelineStage; code: string }): void => {
      jobs.inc({ stage, result: code === Errors.ENGINE_FAILED.code ? 'failed' : 'dropped' });
    };
    const sessionsActive = new Gauge({ name: 'parley_ai_stt_sessions_active', help: 'Recognition sessions (speakers) this worker runs now', registers: [r] });
    const sessions = new Counter({ name: 'parley_ai_stt_sessions_total', help: 'Recognition sessions ended, by how (ended = end of speech, stalled = no audio for ai.streamStallMs)', labelNames: ['result'], registers: [r] });
    const rtf = new Histogram({
      name: 'parley_ai_stt_session_rtf',
      help: 'Real-time factor of a recognition session: decoder time / audio time (under 1 keeps up with live speech)',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2],
      registers: [r],
    });
    const lag = new Histogram({
      name: 'parley_ai_stt_audio_lag_seconds',
      help: 'Worst lag of a session\'s decoder behind the live audio (chunk decoded minus its last sample\'s arrival at the gateway)',
      buckets: [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
      registers: [r],
    });
    const finalSeconds = new Histogram({ name: 'parley_ai_stt_final_seconds', help: 'Time of the recognizer\'s final after the end of the audio stream', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [r] });
    for (const result of ['ended', 'stalled']) sessions.inc({ result }, 0);
    const onSessions = (active: number): void => sessionsActive.set(active);
    const onSession = (s: { rtf: number; maxLagMs: number; finalMs: number; stalled: boolean }): void => {
      sessions.inc({ result: s.stalled ? 'stalled' : 'ended' });
      rtf.observe(s.rtf);
      lag.observe(s.maxLagMs / 1000);
      finalSeconds.observe(s.finalMs / 1000);
    };
    worker.observer.on('processed', onProcessed);
    worker.observer.on('dropped', onDropped);
    worker.observer.on('sessions', onSessions);
    worker.observer.on('session', onSession);
    this.#detach = () => {
      worker.observer.off('processed', onProcessed);
      worker.observer.off('dropped', onDropped);
      worker.observer.off('sessions', onSessions);
      worker.observer.off('session', onSession);
    };

    // Cache counters live in the AiCache; each scrape adds what grew since the last one.
    const cacheCounter = (name: string, help: string, read: (kind: 'translation' | 'audio') => number): void => {
      const seen = { translation: 0, audio: 0 };
      new Counter({
        name, help, labelNames: ['kind'], registers: [r],
        collect() {
          for (const kind of ['translation', 'audio'] as const) {
            const now = read(kind);
            this.inc({ kind }, Math.max(0, now - seen[kind]));
            seen[kind] = Math.max(seen[kind], now);
          }
        },
      });
    };
    cacheCounter('parley_ai_cache_hits_total', 'Translation and audio cache hits', (kind) => (kind === 'translation' ? worker.cacheStats?.translationHits : worker.cacheStats?.audioHits) ?? 0);
    cacheCounter('parley_ai_cache_misses_total', 'Translation and audio cache misses (Redis errors count as misses)', (kind) => (kind === 'translation' ? worker.cacheStats?.translationMisses : worker.cacheStats?.audioMisses) ?? 0);

    // One series per (stage, language, engine) the worker serves now; rebuilt at every scrape.
    const { engines } = options;
    new Gauge({
      name: 'parley_ai_engine_info', help: 'Engine serving a stage and language on this worker (value 1; language is a pair like en-es for translate)',
      labelNames: ['stage', 'language', 'engine'], registers: [r],
      collect() {
        this.reset();
        for (const { stage, language, engine } of engines.describe()) this.set({ stage, language, engine }, 1);
      },
    });

    const prefix = options.prefix ?? PIPELINE_PREFIX;
    // Labelled with the queue's name (parley-stt), not the hash-tagged one BullMQ is given ({parley-stt}).
    const labelled = STAGES.map((stage) => ({ queue: stageQueue(stage), q: quiet(new Queue(bullName(stageQueue(stage)), { connection: options.redis, prefix })) }));
    this.#queues = labelled.map((l) => l.q);
    new Gauge({
      name: 'parley_ai_queue_depth', help: 'Jobs waiting in a pipeline queue (shared by every AI worker)', labelNames: ['queue'], registers: [r],
      async collect() {
        await Promise.all(labelled.map(async ({ queue, q }) => {
          const count = await withTimeout(q.getWaitingCount(), DEPTH_TIMEOUT_MS).catch(() => null);
          if (count !== null) this.set({ queue }, count);
        }));
      },
    });
  }

  static create(options: AiWorkerMetricsOptions): AiWorkerMetrics {
    if (!options.workerId) throw new TypeError('workerId must be non-empty');
    return new AiWorkerMetrics(options);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops listening to the worker and closes the depth queues (not the Redis client). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#detach();
      await Promise.all(this.#queues.map((q) => q.close()));
    })();
    return this.#closing;
  }
}

export type MetricsServerOptions = {
  metrics: AiWorkerMetrics;
  /** What /health lists. */
  engines: Pick<EngineSet, 'describe'>;
  /** 0 = any free port (see `port` on the result). */
  port: number;
  /** Default '0.0.0.0', so a Prometheus on another host can scrape. */
  host?: string;
};

export type MetricsServer = { readonly port: number; close(): Promise<void> };

/** Serves GET /metrics (Prometheus text) and GET /health (JSON: worker id, engines, uptime). */
export async function serveAiWorkerMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics, engines } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') {
      metrics.text().then(
        (text) => reply(200, metrics.contentType, text),
        (err: Error) => reply(500, 'text/plain', `${err.message}\n`),
      );
      return;
    }
    if (path === '/health') {
      const body = { status: 'ok', workerId: metrics.workerId, engines: engines.describe(), uptimeSeconds: Math.round(process.uptime()) };
      return reply(200, 'application/json', JSON.stringify(body));
    }
    reply(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | null = null;
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive scrapers would hold close() open
      });
      return closing;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
