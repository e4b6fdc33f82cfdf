/**
 * The faults of the chaos suite. Each one is injected against the live cluster
 * and says which pages it cut off (their media path ran through what failed), which
 * of them must come back through a new connection, and what to do once the
 * cluster has recovered (replace a killed replica).
 */
import { Keys, QueueNames } from '../../../src/ai/pipeline/names.js';
import { sleep } from '../../lib/stack.js';
import type { GatewayProcess } from '../../../src/devkit/gateway.js';
import { mediasoupWorkerPids, type Cluster, type Member } from './cluster.js';
import type { PageView } from './hearing.js';
import type { Rng } from './rng.js';

export const FAULT_KINDS = ['replica-kill', 'redis-restart', 'redis-primary-kill', 'worker-kill', 'ai-worker-kill', 'replica-pause'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The Redis fault each Redis mode has: one server is restarted empty; a Sentinel set or a cluster shard loses its primary. */
export const REDIS_FAULT = { single: 'redis-restart', sentinel: 'redis-primary-kill', cluster: 'redis-primary-kill' } as const satisfies Record<string, FaultKind>;

export type RedisMode = keyof typeof REDIS_FAULT;

/** Every fault kind a cluster on this Redis mode can take: the other modes' Redis faults left out. */
export function kindsFor(redis: RedisMode): FaultKind[] {
  const redisFaults: readonly FaultKind[] = Object.values(REDIS_FAULT);
  return FAULT_KINDS.filter((k) => k === REDIS_FAULT[redis] || !redisFaults.includes(k));
}

export type FaultTimings = {
  /** Redis stays down this long before the empty one starts (ms). */
  redisDownMs: number;
  /** A paused replica stays stopped this long (past cluster.staleAfterMs, so it is reaped). */
  pauseMs: number;
  /** ai-worker-kill waits up to this long for a job in progress before killing (ms). */
  aiBusyWaitMs: number;
};

export type Injected = {
  kind: FaultKind;
  /** What was hit: a replica id, "redis", the Redis primary, an AI worker pid. */
  target: string;
  /** When the fault began (Date.now()). */
  at: number;
  /** Pages whose media path went through what failed. */
  displaced: Member[];
  /** Pages that must have reconnected: member -> reconnect count before the fault. */
  mustReconnect: Map<Member, number>;
  /** Speech must be captioned again after the fault. */
  needsCaption: boolean;
  /** Run once recovered and checked (restores the cluster's size). */
  after(): Promise<void>;
};

type Views = Map<Member, PageView>;

const onReplica = (cluster: Cluster, views: Views, r: GatewayProcess) => cluster.members.filter((m) => cluster.replicaAt(views.get(m)!.url) === r);

/** A replica that hosts pages when one does (a fault there displaces someone), else any. */
function pickReplica(cluster: Cluster, views: Views, rng: Rng): GatewayProcess {
  const busy = cluster.replicas.filter((r) => onReplica(cluster, views, r).length > 0);
  return rng.pick(busy.length > 0 ? busy : cluster.replicas);
}

const nothing = async () => undefined;

function signalAll(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Waits up to `ms` for a speech-recognition job in progress. */
async function untilBusy(cluster: Cluster, ms: number): Promise<void> {
  const q = cluster.queue(QueueNames.stt);
  try {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && (await q.getActiveCount().catch(() => 0)) === 0) await sleep(cluster.ctx, 100);
  } finally {
    await q.close().catch(() => undefined);
  }
}

export async function inject(kind: FaultKind, cluster: Cluster, views: Views, rng: Rng, t: FaultTimings): Promise<Injected> {
  const { ctx } = cluster;
  switch (kind) {
    case 'replica-kill': {
      const r = pickReplica(cluster, views, rng);
      const displaced = onReplica(cluster, views, r);
      const at = Date.now();
      await cluster.killReplica(r);
      const mustReconnect = new Map(displaced.map((m) => [m, views.get(m)!.reconnects]));
      return { kind, target: r.replicaId, at, displaced, mustReconnect, needsCaption: false, after: async () => void (await cluster.addReplica()) };
    }
    case 'redis-restart': {
      const at = Date.now();
      await cluster.restartRedis(t.redisDownMs);
      return { kind, target: 'redis', at, displaced: [], mustReconnect: new Map(), needsCaption: false, after: nothing };
    }
    case 'redis-primary-kill': {
      const at = Date.now();
      // On a Redis Cluster, the shard of a room name drawn at random.
      const { target, restore } = await cluster.killRedisPrimary(Keys.room(`shard-${rng.pick([...'abcdefghijklmnop'])}`));
      return { kind, target, at, displaced: [], mustReconnect: new Map(), needsCaption: false, after: restore };
    }
    case 'worker-kill': {
      const r = pickReplica(cluster, views, rng);
      const pids = mediasoupWorkerPids(r);
      if (pids.length === 0) throw new Error(`worker-kill: ${r.replicaId} has no mediasoup worker`);
      const at = Date.now();
      signalAll([rng.pick(pids)], 'SIGKILL');
      return { kind, target: r.replicaId, at, displaced: onReplica(cluster, views, r), mustReconnect: new Map(), needsCaption: false, after: nothing };
    }
    case 'ai-worker-kill': {
      const w = rng.pick(cluster.aiWorkers);
      // Best effort: hit it while it holds a job, the case the lock and stall timings are for.
      await untilBusy(cluster, t.aiBusyWaitMs);
      const at = Date.now();
      const target = String(w.child.pid);
      await cluster.killAiWorker(w);
      await cluster.addAiWorker();
      return { kind, target, at, displaced: [], mustReconnect: new Map(), needsCaption: true, after: nothing };
    }
    case 'replica-pause': {
      const r = pickReplica(cluster, views, rng);
      // The whole replica freezes: its Node process and its mediasoup workers.
      const pids = [r.child.pid!, ...mediasoupWorkerPids(r)];
      const resume = () => signalAll(pids, 'SIGCONT');
      ctx.defer(resume);
      const at = Date.now();
      signalAll(pids, 'SIGSTOP');
      try {
        await sleep(ctx, t.pauseMs);
      } finally {
        resume();
      }
      return { kind, target: r.replicaId, at, displaced: onReplica(cluster, views, r), mustReconnect: new Map(), needsCaption: false, after: nothing };
    }
  }
}
