import { EventEmitter } from 'node:events';
import type { RoomStore } from '../actors/room/RoomStore.js';
import type { Config } from '../config/schema.js';
import { Errors, createError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomRouters } from '../media/RoomRouters.js';
import type { SessionManager } from '../session/SessionManager.js';
import type { Store } from '../state/Store.js';
import { PipeManager } from './PipeManager.js';
import { reapReplica } from './reapReplica.js';
import { tcpAnswers } from './probe.js';
import { ReplicaRegistry, type ReplicaEntry } from './ReplicaRegistry.js';
import { ReplicaRpc } from './ReplicaRpc.js';
import { RoomMediaSync } from './RoomMediaSync.js';

export type ClusterStats = { failovers: number; rpcLatencyMs: number[] };

export type ClusterOptions = {
  config: Config;
  store: Store;
  rooms: RoomStore;
  routers: RoomRouters;
  /** This replica's peers: moved on drain, fenced, told of other replicas. */
  sessions: SessionManager;
  replicaId: string;
  url: string;
  log: Logger;
  /** This replica's load, published in its registry entry. */
  load: () => { peers: number; consumers: number };
};

/**
 * Everything that makes one room span replicas: the registry (liveness, load,
 * drain flag), replica-to-replica requests, PipeTransports, the room-event
 * sync, reaping gone replicas and draining this one.
 */
export type ClusterEvents = {
  /** This replica reaped a gone one (removed its peers and keys): whatever else it left behind may go too. */
  replicareaped: [replicaId: string];
};

export class Cluster {
  readonly observer = new EventEmitter<ClusterEvents>();
  readonly registry: ReplicaRegistry;
  readonly rpc: ReplicaRpc;
  readonly pipes: PipeManager;
  readonly sync: RoomMediaSync;
  readonly stats: ClusterStats = { failovers: 0, rpcLatencyMs: [] };
  readonly #o: ClusterOptions;
  #drain: Promise<void> | null = null;

  constructor(o: ClusterOptions) {
    this.#o = o;
    const media = o.config.media;
    const pipeIp = media.pipeListenIp || media.listenIp;
    this.rpc = new ReplicaRpc({ store: o.store, replicaId: o.replicaId, timeoutMs: o.config.cluster.rpcTimeoutMs, log: o.log });
    this.rpc.onLatency = (ms) => this.stats.rpcLatencyMs.push(ms);
    this.pipes = new PipeManager({
      replicaId: o.replicaId,
      routers: o.routers,
      rpc: this.rpc,
      pipe: { listenIp: pipeIp, announcedIp: media.pipeAnnouncedIp, srtp: media.pipeSrtp },
      log: o.log,
    });
    this.sync = new RoomMediaSync({ replicaId: o.replicaId, rooms: o.rooms, pipes: this.pipes, sessions: o.sessions, log: o.log });
    this.registry = new ReplicaRegistry({
      store: o.store,
      self: { replicaId: o.replicaId, url: o.url, mediaIp: this.mediaIp, startedAt: Date.now() },
      load: o.load,
      heartbeatMs: o.config.cluster.heartbeatMs,
      staleAfterMs: o.config.cluster.staleAfterMs,
      answers: (entry) => tcpAnswers(entry.probe, Math.min(1000, o.config.cluster.heartbeatMs)),
      log: o.log,
    });
    this.registry.observer.on('replicagone', (id, reaper) => void this.#onReplicaGone(id, reaper));
    this.registry.observer.on('fenced', () => void o.sessions.fence());
    // Clients keep the list from their join to fail over with; replicas come and go during a call.
    this.registry.observer.on('viewchanged', () => {
      const replicas = this.alternatives();
      for (const session of o.sessions.all()) session.notify('replicas', { replicas });
    });
  }

  /** The address other replicas reach this one at (pipes, probes). */
  get mediaIp(): string {
    return this.#o.config.media.pipeAnnouncedIp || this.#o.config.media.pipeListenIp || this.#o.config.media.listenIp;
  }

  get draining(): boolean {
    return this.#drain !== null;
  }

  /** Starts answering other replicas and heartbeating (once this replica can serve). */
  async start(): Promise<void> {
    await this.rpc.start();
    await this.registry.start();
  }

  /** Live, non-draining replicas other than this one, for clients to fail over to. */
  alternatives(): Array<{ replicaId: string; url: string }> {
    return this.registry
      .live()
      .filter((r) => !r.draining && r.replicaId !== this.#o.replicaId)
      .map((r) => ({ replicaId: r.replicaId, url: r.url }));
  }

  /**
   * The replica a new peer should use: this one while its load is within one peer of the least
   * loaded (so pages stay where they were served and ties do not pile onto one replica), else the
   * least loaded live one.
   */
  connectTarget(): ReplicaEntry | undefined {
    const best = this.registry.leastLoaded();
    const self = this.registry.entry(this.#o.replicaId);
    if (self && !self.draining && best && self.peers <= best.peers + 1) return self;
    return best;
  }

  /** The coded refusal for a join that arrives while draining. */
  drainingError(): Error {
    const target = this.registry.leastLoaded(this.#o.replicaId);
    return createError(Errors.REPLICA_DRAINING, target ? `join ${target.url}` : 'no other replica is available', target ? { url: target.url } : undefined);
  }

  /**
   * Drain: refuse new peers (naming a live replica), keep calls for
   * `drainMoveDelayMs`, then ask each peer to move; resolves when no peer is
   * left or at `drainTimeoutMs`. With no other replica alive there is nowhere
   * to move: resolves at once (peers keep their place for a restart).
   */
  drain(): Promise<void> {
    this.#drain ??= this.#runDrain();
    return this.#drain;
  }

  async stop(): Promise<void> {
    await this.rpc.stop().catch(() => undefined);
    await this.registry.stop().catch(() => undefined);
  }

  async #runDrain(): Promise<void> {
    const { config, log, sessions } = this.#o;
    await this.registry.setDraining(true);
    if (!this.registry.leastLoaded(this.#o.replicaId)) {
      log.warn('drain: no other live replica; stopping without moving peers');
      return;
    }
    log.info({ peers: sessions.size, moveInMs: config.cluster.drainMoveDelayMs }, 'draining');
    const deadline = Date.now() + config.cluster.drainTimeoutMs;
    await sleep(config.cluster.drainMoveDelayMs);
    for (const session of sessions.all()) {
      const target = this.registry.leastLoaded(this.#o.replicaId);
      session.disconnect(createError(Errors.REPLICA_DRAINING), { reconnect: true, ...(target ? { url: target.url } : {}) });
    }
    while (sessions.size > 0 && Date.now() < deadline) await sleep(200);
    log.info({ left: sessions.size }, sessions.size === 0 ? 'drained' : 'drain deadline reached');
  }

  async #onReplicaGone(replicaId: string, reaper: boolean): Promise<void> {
    this.pipes.replicaGone(replicaId);
    if (!reaper) return;
    this.stats.failovers += 1;
    try {
      await reapReplica({ store: this.#o.store, rooms: this.#o.rooms, deadReplicaId: replicaId, log: this.#o.log });
    } catch (err) {
      this.#o.log.error({ err, replica: replicaId }, 'reaping a gone replica failed');
    }
    this.observer.emit('replicareaped', replicaId);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
