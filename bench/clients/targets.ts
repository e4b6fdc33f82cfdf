/**
 * The SFUs a bench scenario measures, started on loopback and stopped through
 * the run context's cleanup stack: Parley (embedded Redis + `parley up`
 * replicas, one mediasoup worker each) and Janus (VideoRoom).
 */
import { EmbeddedRedis } from '../../src/state/EmbeddedRedis.js';
import { startReplicas } from '../../src/devkit/cluster.js';
import type { RunContext } from '../lib/types.js';
import { startJanus, type JanusOptions, type JanusProcess } from './JanusLauncher.js';
import { childPids } from './procCpu.js';

export type ParleyTarget = {
  urls: string[];
  /** The gateways' Node processes (signaling, room actors). */
  gatewayPids: number[];
  /** Their mediasoup worker processes (the media plane). */
  workerPids: number[];
  redisPid: number | undefined;
};

/** Redis and `replicas` gateways (one mediasoup worker each, `env` added to theirs); stopped on ctx cleanup. */
export async function startParley(ctx: RunContext, replicas = 1, env: Record<string, string> = {}): Promise<ParleyTarget> {
  const redis = await EmbeddedRedis.start();
  ctx.defer(() => redis.stop());
  // Production cluster timings, not the tests' shortened ones: on a loaded machine a 2 s staleness
  // makes replicas declare each other dead and reap the peers the bench is measuring.
  const cluster = { PARLEY_CLUSTER_HEARTBEAT_MS: '2000', PARLEY_CLUSTER_STALE_AFTER_MS: '5000', PARLEY_ROOMS_RECONNECT_GRACE_MS: '15000' };
  const gateways = await startReplicas(redis.url, replicas, `bench-${process.pid}`, { PARLEY_LOG_LEVEL: 'warn', ...cluster, ...env });
  for (const g of gateways) ctx.defer(() => g.stop());
  const workerPids = gateways.flatMap((g) => childPids(g.child.pid!, 'mediasoup'));
  if (workerPids.length !== replicas) ctx.log(`expected ${replicas} mediasoup worker(s), found ${workerPids.length} (CPU figures may be incomplete)`);
  return { urls: gateways.map((g) => g.url), gatewayPids: gateways.map((g) => g.child.pid!), workerPids, redisPid: redis.pid };
}

/** Janus with a generated config; stopped on ctx cleanup. */
export async function startJanusTarget(ctx: RunContext, options: JanusOptions = {}): Promise<JanusProcess> {
  const janus = await startJanus(options);
  ctx.defer(() => janus.stop());
  return janus;
}
