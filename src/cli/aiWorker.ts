import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { createRedis, type RedisClient } from '../state/redisConnection.js';
import { createEngines } from '../ai/engines/registry.js';
import { AI_WORKER_DEFAULTS, AiWorker } from '../ai/pipeline/AiWorker.js';
import { AiWorkerMetrics, serveAiWorkerMetrics, type MetricsServer } from '../ai/worker/AiWorkerMetrics.js';
import { EngineDirectory } from '../ai/worker/EngineDirectory.js';
import { loadConfig } from '../config/load.js';
import { Keys } from '../state/keys.js';
import { createLogger, type Logger } from '../logger.js';
import type { EngineSet } from '../ai/types.js';
import { onStopSignal } from './stopSignal.js';

export const AI_WORKER_USAGE = `parley ai-worker [options]

Runs speech recognition, translation and speech synthesis for the gateway
replicas that share its Redis (queues parley-stt, parley-translate, parley-tts).
Recognition is streamed: each speaker's audio is decoded while it is spoken,
up to ai.maxSessions speakers at once per worker (PARLEY_AI_MAX_SESSIONS).
Start as many as the CPU allows; Ctrl-C lets running jobs finish, then exits.

      --redis-url <url>    The gateways' Redis (else redis.url / PARLEY_REDIS_URL; required)
      --concurrency <n>    Translate/tts jobs each stage runs at once (default ${AI_WORKER_DEFAULTS.concurrency})
      --models-dir <dir>   Directory holding engine models (default ./models)
      --metrics-port <n>   Serve /metrics (Prometheus) and /health on this port (default 0: off)
      --log-level <lvl>    trace|debug|info|warn|error (default info)
  -c, --config <file>      YAML config file (see parley.sample.yaml); also PARLEY_CONFIG
  -h, --help               Show this help`;

type AiWorkerArgs = { redisUrl: string | undefined; concurrency: number; modelsDir: string; metricsPort: number; logLevel: string | undefined; config: string | undefined };

/** `parley ai-worker`: serves pipeline jobs until SIGINT/SIGTERM. 0 after a requested stop. */
export async function runAiWorker(args: string[]): Promise<number> {
  const options = parseAiWorkerArgs(args);
  if (!options) {
    console.log(AI_WORKER_USAGE);
    return 0;
  }
  const overrides: Record<string, Record<string, unknown>> = {};
  if (options.redisUrl !== undefined) overrides.redis = { url: options.redisUrl };
  overrides.log = { ...(options.logLevel !== undefined ? { level: options.logLevel } : {}) };
  if (process.stdout.isTTY && process.env.PARLEY_LOG_PRETTY === undefined) overrides.log.pretty = true;
  const config = loadConfig({ file: options.config, overrides });
  if (!config.redis.url) throw new TypeError('ai-worker needs the gateways\' Redis: pass --redis-url or set redis.url (PARLEY_REDIS_URL)');
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'parley-ai' });

  const stop = onStopSignal((signal) => log.info({ signal }, 'stopping: letting running jobs finish'));
  const orphaned = parentGone(Number(process.env.PARLEY_PARENT_PID ?? 0));
  // Unique among live workers; a restarted container (same host name and pid 1) takes its old entry back.
  const workerId = `${hostname()}-${process.pid}`;
  let engines: EngineSet | null = null;
  let worker: AiWorker | null = null;
  let redis: RedisClient | null = null;
  let directory: EngineDirectory | null = null;
  let metrics: AiWorkerMetrics | null = null;
  let server: MetricsServer | null = null;
  try {
    const stt = { mode: config.ai.recognition, sessions: config.ai.maxSessions };
    const set: EngineSet = await createEngines({ modelsDir: options.modelsDir ?? config.ai.modelsDir, pythonBin: config.ai.pythonBin, stt, logger: log });
    engines = set;
    logEngines(set, log);
    worker = await AiWorker.create({
      redisUrl: config.redis.url,
      engines: set,
      concurrency: options.concurrency,
      maxSessions: config.ai.maxSessions,
      streamStallMs: config.ai.streamStallMs,
      commit: config.ai.commit,
      maxAgeMs: config.ai.maxAgeMs,
      engineTimeoutMs: config.ai.engineTimeoutMs,
      replicaAlive: async (replicaId) => (redis ? (await redis.hexists(Keys.replicas(), replicaId)) === 1 : true),
      log,
    });
    // Directory and metrics share one plain client (bounded retries, unlike BullMQ's), so a dead Redis cannot hang shutdown.
    redis = createRedis(config.redis.url, { connectionName: 'parley-ai-worker-meta', maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined); // reconnects by itself; heartbeat failures are logged by the directory
    if (options.metricsPort > 0) {
      metrics = AiWorkerMetrics.create({ workerId, worker, redis, engines: set });
      server = await serveAiWorkerMetrics({ metrics, engines: set, port: options.metricsPort });
      log.info({ port: server.port }, `metrics on http://0.0.0.0:${server.port}/metrics`);
    }
    directory = await EngineDirectory.create({ redis, workerId, engines: set, log });
    log.info({ event: 'ai-worker.ready', workerId, concurrency: options.concurrency, maxSessions: config.ai.maxSessions, recognition: config.ai.recognition, commit: config.ai.commit }, 'AI worker ready');
    await Promise.race([stop.requested, orphaned.then(() => log.warn('parent gateway gone; stopping'))]);
    return 0;
  } finally {
    stopWatchingParent();
    // Shutdown order: leave the engine directory (gateways stop counting on us), the queue workers (running
    // jobs finish, bounded by the engine timeout), the metrics server (scrapable while draining), the shared
    // Redis client, then the engines.
    await directory?.close();
    await worker?.close();
    await server?.close();
    await metrics?.close();
    await redis?.quit().catch(() => redis?.disconnect());
    await engines?.close();
    stop.dispose();
    log.info({ event: 'ai-worker.stopped' }, 'AI worker stopped');
  }
}

/** The options, or null for --help. Throws TypeError on a bad value. */
function parseAiWorkerArgs(args: string[]): AiWorkerArgs | null {
  const { values } = parseArgs({
    args,
    options: {
      'redis-url': { type: 'string' },
      concurrency: { type: 'string' },
      'models-dir': { type: 'string' },
      'metrics-port': { type: 'string' },
      'log-level': { type: 'string' },
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const raw = values.concurrency;
  const concurrency = raw === undefined ? AI_WORKER_DEFAULTS.concurrency : Number(raw);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new TypeError(`--concurrency must be an integer from 1 to 64, got "${raw}"`);
  const rawPort = values['metrics-port'];
  const metricsPort = rawPort === undefined ? 0 : Number(rawPort);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65_535) throw new TypeError(`--metrics-port must be an integer from 0 to 65535, got "${rawPort}"`);
  return {
    redisUrl: values['redis-url'],
    concurrency,
    modelsDir: values['models-dir'] ?? 'models',
    metricsPort,
    logLevel: values['log-level'],
    config: values.config,
  };
}

/** One line per stage and engine, with the languages (or pairs) it serves. */
function logEngines(engines: EngineSet, log: Logger): void {
  const served = new Map<string, string[]>();
  for (const { stage, language, engine } of engines.describe()) {
    const key = `${stage}\u0000${engine}`;
    served.set(key, [...(served.get(key) ?? []), language]);
  }
  if (served.size === 0) log.warn('no engine is available: every utterance will be dropped with ERR_UNSUPPORTED_LANGUAGE');
  for (const [key, languages] of served) {
    const [stage, engine] = key.split('\u0000');
    log.info({ stage, engine, languages }, `${stage}: ${engine} serves ${languages.join(', ')}`);
  }
}


let parentWatch: NodeJS.Timeout | null = null;

/** Started by `parley up` (PARLEY_PARENT_PID): resolves when that process no longer exists, however it died. */
function parentGone(pid: number): Promise<void> {
  if (!pid) return new Promise<void>(() => undefined);
  return new Promise<void>((resolve) => {
    parentWatch = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        resolve();
      }
    }, 1000);
    parentWatch.unref();
  });
}

function stopWatchingParent(): void {
  if (parentWatch) clearInterval(parentWatch);
}
