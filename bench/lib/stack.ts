/**
 * The real parts a scenario runs against, each registered for cleanup on the run context
 * as soon as it exists: embedded Redis, `parley up` replicas and `parley ai-worker`
 * children (src/devkit/gateway.ts), headless Chromium (src/devkit/browser.ts).
 */
import { launchBrowser, type LaunchOptions, type ParleyBrowser } from '../../src/devkit/browser.js';
import { FAST_CLUSTER_ENV } from '../../src/devkit/cluster.js';
import { spawnAiWorker, spawnGateway, type AiWorkerProcess, type GatewayProcess } from '../../src/devkit/gateway.js';
import { EmbeddedRedis } from '../../src/state/EmbeddedRedis.js';
import { freePortRange, freeTcpPort } from '../../src/util/ports.js';
import type { RunContext } from './types.js';

/** Throws when the run was interrupted (Ctrl-C). */
export function checkAborted(ctx: RunContext): void {
  if (ctx.signal.aborted) throw new Error('interrupted');
}

/** Sleeps `ms`, or rejects when the run is interrupted. */
export function sleep(ctx: RunContext, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) return reject(new Error('interrupted'));
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('interrupted'));
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls `probe` every `everyMs` until it returns non-null, or throws naming `what`. */
export async function until<T>(ctx: RunContext, probe: () => Promise<T | null>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    checkAborted(ctx);
    const v = await probe().catch(() => null);
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(ctx, everyMs);
  }
}

export async function startRedis(ctx: RunContext): Promise<EmbeddedRedis> {
  const redis = await EmbeddedRedis.start();
  ctx.defer(() => redis.stop());
  return redis;
}

/** One `parley up` replica (child process) with the shortened cluster timings of the tests. */
export async function startReplica(ctx: RunContext, redisUrl: string, replicaId: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const port = await freeTcpPort();
  const rtcBasePort = await freePortRange(1);
  const gw = await spawnGateway(redisUrl, { port, rtcBasePort, replicaId, env: { ...FAST_CLUSTER_ENV, PARLEY_LOG_LEVEL: 'info', ...env } });
  ctx.defer(() => gw.kill());
  return gw;
}

/** One `parley ai-worker` child; `env` adds configuration (e.g. PARLEY_AI_RECOGNITION). */
export async function startAiWorker(ctx: RunContext, redisUrl: string, env: Record<string, string> = {}): Promise<AiWorkerProcess> {
  const worker = await spawnAiWorker(redisUrl, env);
  ctx.defer(() => worker.kill());
  return worker;
}

export async function startBrowser(ctx: RunContext, options: LaunchOptions = {}): Promise<ParleyBrowser> {
  const browser = await launchBrowser(options);
  ctx.defer(() => browser.close());
  return browser;
}
