import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RoomStore } from '../actors/room/RoomStore.js';
import { startInterpreter } from '../ai/gateway/startInterpreter.js';
import { dropResultsQueue } from '../ai/pipeline/ResultsConsumer.js';
import { tokenKey } from '../auth/tokens.js';
import { Cluster } from '../cluster/Cluster.js';
import { probeAddress } from '../cluster/probe.js';
import { defaultReplicaId } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { startEdge, type EdgeServer } from '../edge/server.js';
import type { Logger } from '../logger.js';
import { ActiveSpeakers } from '../media/ActiveSpeakers.js';
import { RoomRouters } from '../media/RoomRouters.js';
import { WorkerPool } from '../media/WorkerPool.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { PortBoundTransports } from '../observability/PortBoundTransports.js';
import { measureVideo, registerVideoMetrics } from '../observability/videoMetrics.js';
import { restoreSessions } from '../session/restore.js';
import { RoomProducers } from '../session/RoomProducers.js';
import { Moderation } from '../session/Moderation.js';
import { ClusterRoomAdmin } from '../api/RoomAdmin.js';
import { startWebhooks } from '../webhooks/startWebhooks.js';
import { SessionManager } from '../session/SessionManager.js';
import { EmbeddedRedis } from '../state/EmbeddedRedis.js';
import { Keys } from '../state/keys.js';
import { RedisStore } from '../state/RedisStore.js';
import type { Services } from './services.js';
import { startupSteps } from './startupSteps.js';

export type Gateway = {
  services: Services;
  port: number;
  url: string;
  /** Drain (see docs/architecture.md#drain); resolves when this replica may stop. */
  drain(): Promise<void>;
  /** Resolves when an operator asked for a drain through POST /admin/drain. */
  drainRequested: Promise<void>;
  /** Graceful stop (see docs/architecture.md#shutdown). Idempotent. */
  close(): Promise<void>;
};

const WEB_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));
const HEARTBEAT_MS = 2000;
const WORKER_SNAPSHOT_TTL_MS = 10_000;

/** The composition root: builds every part of one gateway replica, in dependency order. */
export async function startGateway(config: Config, log: Logger): Promise<Gateway> {
  const step = startupSteps(log);
  const embedded = config.redis.url
    ? null
    : await step('embedded redis', () => EmbeddedRedis.start({ port: config.redis.embeddedPort, dataDir: config.redis.embeddedDataDir || undefined }));
  if (embedded) log.info({ url: embedded.url }, 'embedded redis-server started');
  const lifecycle = { shuttingDown: false, redisUp: false };
  const store = await step('redis', () => RedisStore.create({ url: config.redis.url || embedded!.url }));
  lifecycle.redisUp = true;
  const replicaId = config.replica.id || (config.http.port ? defaultReplicaId(config.http.port) : `${defaultReplicaId(0)}-${randomBytes(3).toString('hex')}`);
  const rlog = log.child({ replica: replicaId });
  const secret = config.auth.secret || (await store.getOrSet(Keys.devSecret(), randomBytes(32).toString('hex')));
  const pool = await step('media workers', () => WorkerPool.create({
    replicaId,
    count: config.media.workers || cpus().length,
    rtcBasePort: config.media.rtcBasePort,
    listenIp: config.media.listenIp,
    announcedIp: config.media.announcedIp,
    logLevel: config.media.workerLogLevel,
    restartDelayMs: config.media.workerRestartDelayMs,
    pipePortMin: config.media.pipePortMin,
    pipePortMax: config.media.pipePortMax,
    snapshotTtlMs: WORKER_SNAPSHOT_TTL_MS,
    store,
    log: rlog,
  }));
  const routers = new RoomRouters({ pool, log: rlog, maxPeersPerRouter: config.media.maxPeersPerRouter });
  const rooms = new RoomStore({ store, replicaId, maxPeers: config.rooms.maxPeers, log: rlog });
  const speakers = new ActiveSpeakers({ routers, ownerOf: (roomId, producerId) => rooms.ownerOf(roomId, producerId), log: rlog });
  const producers = new RoomProducers({ rooms, routers, replicaId, log: rlog });
  const sessions = new SessionManager({
    replicaId,
    store,
    rooms,
    routers,
    producers,
    limits: { maxTransports: config.media.maxTransportsPerPeer, maxProducers: config.media.maxProducersPerPeer },
    reconnectGraceMs: config.rooms.reconnectGraceMs,
    log: rlog,
  });
  const cluster = new Cluster({
    config,
    store,
    rooms,
    routers,
    sessions,
    replicaId,
    url: config.replica.publicUrl,
    log: rlog,
    load: () => ({ peers: sessions.size, consumers: sumMedia(sessions).consumers }),
  });
  // The AI pipeline drops what a reaped replica left in its queues (whether or not this replica translates).
  cluster.observer.on('replicareaped', (id) => {
    void dropResultsQueue(store, id).catch((err: unknown) => rlog.warn({ err, replica: id }, 'could not drop a gone replica\'s results queue'));
  });
  speakers.observer.on('activespeaker', (roomId, peerIds, speaker) => {
    for (const peerId of peerIds) sessions.get(roomId, peerId)?.notify('activeSpeaker', { peerId: speaker });
  });
  const portBound = new PortBoundTransports();
  for (const slot of pool.slots) portBound.watchWorker(slot.worker);
  pool.observer.on('workerstarted', (slot) => portBound.watchWorker(slot.worker));
  const metrics = new GatewayMetrics(
    {
      rooms: () => routers.size,
      peers: () => sessions.size,
      media: () => sumMedia(sessions),
      workers: () => pool.states(),
      workerUsage: async () =>
        Promise.all(
          pool.slots.map(async (s) => {
            const u = await s.worker.getResourceUsage();
            return { index: s.index, cpuSeconds: (u.ru_utime + u.ru_stime) / 1000, maxRssKb: u.ru_maxrss };
          }),
        ),
      redisUp: () => lifecycle.redisUp,
      cluster: () => ({
        replicas: cluster.registry.live().length,
        draining: cluster.registry.live().filter((r) => r.draining).length,
        ...cluster.pipes.counts,
        failovers: cluster.stats.failovers,
        rpcLatencyMs: cluster.stats.rpcLatencyMs.splice(0),
      }),
      udpPorts: () => [
        { kind: 'rtc', used: pool.slots.length, capacity: pool.size },
        { kind: 'pipe', used: portBound.open, capacity: config.media.pipePortMax - config.media.pipePortMin + 1 },
      ],
    },
    { replica: replicaId },
  );
  registerVideoMetrics(metrics.registry, () =>
    measureVideo(sessions.all().flatMap((s) => (s.media ? [{ roomId: s.roomId, producers: s.media.producers(), consumers: s.media.video.consumers() }] : []))),
  );
  let requestDrain!: () => void;
  const drainRequested = new Promise<void>((resolve) => (requestDrain = resolve));
  const interpreter = config.ai.enabled
    ? await step('translation', () => startInterpreter({ config, redisUrl: config.redis.url || embedded!.url, replicaId, store, rooms, producers, sessions, registry: metrics.registry, log: rlog }))
    : null;
  const webhooks = await step('webhooks', () => startWebhooks({ config, redisUrl: config.redis.url || embedded!.url, rooms, registry: metrics.registry, log: rlog, replicaId }));
  const moderation = new Moderation({ sessions, producers, rooms, store });
  const admin = new ClusterRoomAdmin({ rooms, rpc: cluster.rpc, moderation, replicaId });
  const services: Services = { config, replicaId, log: rlog, store, redisUrl: config.redis.url || embedded!.url, rooms, pool, routers, producers, speakers, sessions, cluster, admin, interpreter, tokenKey: tokenKey(secret, config.auth.issuer), metrics, lifecycle, requestDrain };
  store.observer.on('status', (status) => onRedisStatus(services, status));
  await step('restore sessions', () => restoreSessions({ store, rooms, sessions, replicaId, log: rlog }));
  const edge = await step('edge', () => startEdge(services, { webDir: WEB_DIR }));
  const url = config.replica.publicUrl || `http://${config.http.host === '0.0.0.0' ? 'localhost' : config.http.host}:${edge.port}`;
  cluster.registry.setSelfUrl(url, probeAddress(config.http.host, cluster.mediaIp, edge.port));
  await step('cluster', () => cluster.start());
  const heartbeat = setInterval(() => pool.refreshSnapshots(), HEARTBEAT_MS);
  heartbeat.unref();
  rlog.info({ url, workers: pool.size, mode: config.mode }, 'gateway ready');
  let closing: Promise<void> | null = null;
  return {
    services,
    port: edge.port,
    url,
    drain: () => cluster.drain(),
    drainRequested,
    close: () => (closing ??= shutdown({ services, edge, heartbeat, embedded, webhooks })),
  };
}

function sumMedia(sessions: SessionManager): { transports: number; producers: number; consumers: number } {
  const total = { transports: 0, producers: 0, consumers: 0 };
  for (const s of sessions.all()) {
    const c = s.media?.counts;
    if (!c) continue;
    total.transports += c.transports;
    total.producers += c.producers;
    total.consumers += c.consumers;
  }
  return total;
}

/** Keeps /ready and metrics true to the Redis connection, and re-asserts this replica's state when it comes back. */
function onRedisStatus(s: Services, status: 'ready' | 'down' | 'failover'): void {
  if (status === 'failover') return reassertAll(s, 'a Redis shard failed over');
  const wasDown = !s.lifecycle.redisUp;
  s.lifecycle.redisUp = status === 'ready';
  if (status === 'ready' && wasDown) reassertAll(s, 'redis connection back');
  // Once per outage, not once per failed reconnect attempt (a failover makes several a second).
  if (status === 'down' && !wasDown && !s.lifecycle.shuttingDown) s.log.warn('redis connection lost; reconnecting');
}

/** After Redis came back (possibly empty) or a shard failed over: write every local actor's snapshot and room entry again. */
function reassertAll(s: Services, why: string): void {
  s.log.info(`${why}; re-asserting snapshots`);
  s.pool.refreshSnapshots();
  s.cluster.registry.reconnected();
  void s.cluster.registry.tick().catch(() => undefined);
  void s.sessions.reassertRooms();
}

/**
 * Shutdown order: refuse new work, close sockets (peers keep their place in the
 * room for the reconnect grace, persisted), flush peer snapshots, close routers
 * and workers (children before parents), then Redis.
 */
async function shutdown(o: { services: Services; edge: EdgeServer; heartbeat: NodeJS.Timeout; embedded: EmbeddedRedis | null; webhooks: { close(): Promise<void> } | null }): Promise<void> {
  const { services: s } = o;
  // Each step runs even if an earlier one failed (e.g. Redis already gone): nothing may keep the process alive.
  const step = async (name: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (err) {
      s.log.warn({ err, step: name }, 'shutdown step failed; continuing');
    }
  };
  s.lifecycle.shuttingDown = true;
  clearInterval(o.heartbeat);
  await step('edge', () => o.edge.close());
  await step('sessions', () => s.sessions.stopAll());
  await step('interpreter', () => s.interpreter?.close());
  await step('routers', () => s.routers.closeAll());
  await step('cluster', () => s.cluster.stop());
  // After the last room writes (leaves, closed producers) were queued; before Redis goes.
  await step('webhooks', () => o.webhooks?.close());
  await step('workers', () => s.pool.close());
  await step('redis', () => s.store.close());
  await step('embedded redis', () => o.embedded?.stop());
  s.log.info('gateway stopped');
}
