import './mediasoupLogs.js';
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { createActor, fromPromise, type Actor } from 'xstate';
import { workerCodec } from '../actors/worker/codec.js';
import { workerMachine, type SpawnOutput } from '../actors/worker/machine.js';
import { Errors, createError } from '../errors.js';
import type { Logger } from '../logger.js';
import { Keys } from '../state/keys.js';
import { SnapshotWriter } from '../state/SnapshotWriter.js';
import type { Store } from '../state/Store.js';
import { routeMediasoupLogs } from './mediasoupLogs.js';

export type WorkerPoolOptions = {
  replicaId: string;
  /** Number of workers (>= 1). */
  count: number;
  rtcBasePort: number;
  listenIp: string;
  announcedIp: string;
  logLevel: 'debug' | 'warn' | 'error' | 'none';
  restartDelayMs: number;
  /** Port range of PipeTransports. */
  pipePortMin: number;
  pipePortMax: number;
  /** Worker snapshots expire unless refreshed (so a dead replica leaves none behind). */
  snapshotTtlMs: number;
  store: Store;
  log: Logger;
};

/** One live mediasoup worker with its WebRtcServer (one UDP + one TCP port). */
export type WorkerSlot = {
  index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  /** Peers whose routers live on this worker (the load measure). */
  load: number;
};

export type WorkerPoolEvents = {
  /** A worker died; routers on it are gone. */
  workerdied: [index: number, error: Error];
  workerstarted: [slot: WorkerSlot];
};

/**
 * The mediasoup workers of this replica. Each is driven by a worker actor
 * (starting -> running -> restarting ...); a death never exits the process.
 */
export class WorkerPool {
  readonly observer = new EventEmitter<WorkerPoolEvents>();
  readonly #options: WorkerPoolOptions;
  readonly #slots = new Map<number, WorkerSlot>();
  readonly #actors = new Map<number, Actor<typeof workerMachine>>();
  readonly #writers = new Map<number, SnapshotWriter>();
  readonly #log: Logger;
  #closed = false;

  private constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#log = options.log.child({ module: 'worker-pool' });
    routeMediasoupLogs(options.log.child({ module: 'mediasoup' }), options.logLevel);
  }

  /** Starts `count` workers and resolves once each has run or failed its first start. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (options.count < 1) throw new TypeError('WorkerPool needs at least one worker');
    const pool = new WorkerPool(options);
    await Promise.all(Array.from({ length: options.count }, (_, i) => pool.#startActor(i)));
    return pool;
  }

  get size(): number {
    return this.#options.count;
  }

  /** Running workers. */
  get slots(): WorkerSlot[] {
    return [...this.#slots.values()];
  }

  get ready(): boolean {
    return this.#slots.size > 0 && !this.#closed;
  }

  /** Worker actor states, for /ready, metrics and admin dumps. */
  states(): Array<{ index: number; state: string; pid: number | null; restarts: number; rtcPort: number }> {
    return [...this.#actors.entries()].map(([index, actor]) => {
      const s = actor.getSnapshot();
      return { index, state: String(s.value), pid: s.context.pid, restarts: s.context.restarts, rtcPort: s.context.rtcPort };
    });
  }

  /** The running worker with the least load (among those `filter` accepts; with a filter, undefined when none does). */
  leastLoaded(): WorkerSlot;
  leastLoaded(filter: (slot: WorkerSlot) => boolean): WorkerSlot | undefined;
  leastLoaded(filter?: (slot: WorkerSlot) => boolean): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    for (const slot of this.#slots.values()) if ((!filter || filter(slot)) && (!best || slot.load < best.load)) best = slot;
    if (!best && !filter) throw createError(Errors.NOT_READY, 'no mediasoup worker is running (restarting)');
    return best;
  }

  slot(index: number): WorkerSlot | undefined {
    return this.#slots.get(index);
  }

  /** Refreshes the worker snapshots' TTL (called from the replica heartbeat). */
  refreshSnapshots(): void {
    for (const w of this.#writers.values()) w.reassert();
  }

  /** Closes every worker and removes their snapshots. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const actor of this.#actors.values()) actor.send({ type: 'worker.close' });
    for (const slot of this.#slots.values()) slot.worker.close();
    this.#slots.clear();
    await Promise.all([...this.#writers.values()].map((w) => w.remove()));
  }

  #startActor(index: number): Promise<void> {
    const rtcPort = this.#options.rtcBasePort + index;
    const writer = new SnapshotWriter({
      store: this.#options.store,
      key: Keys.worker(this.#options.replicaId, index),
      log: this.#log,
      ttlMs: this.#options.snapshotTtlMs,
    });
    this.#writers.set(index, writer);
    const machine = workerMachine.provide({
      actors: { spawnWorker: fromPromise<SpawnOutput, { index: number }>(({ input }) => this.#spawn(input.index, rtcPort)) },
    });
    const actor = createActor(machine, {
      input: { replicaId: this.#options.replicaId, index, rtcPort, baseRestartDelayMs: this.#options.restartDelayMs },
    });
    this.#actors.set(index, actor);
    const firstStart = new Promise<void>((resolve) => {
      actor.subscribe((snap) => {
        if (!this.#closed) writer.write(workerCodec.encode({ value: String(snap.value), context: snap.context }));
        if (snap.value !== 'starting') resolve();
        if (snap.value === 'restarting') this.#log.error({ index, error: snap.context.lastError }, 'mediasoup worker down; restarting');
      });
    });
    actor.start();
    return firstStart;
  }

  async #spawn(index: number, rtcPort: number): Promise<SpawnOutput> {
    const o = this.#options;
    const worker = await mediasoup.createWorker({
      logLevel: o.logLevel === 'none' ? 'none' : o.logLevel,
      // Only PipeTransports (media between replicas) take ports from this range; WebRTC uses the WebRtcServer.
      rtcMinPort: o.pipePortMin,
      rtcMaxPort: o.pipePortMax,
      logTags: ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp'],
      appData: { index },
    });
    try {
      const announcedIp = o.announcedIp || undefined;
      const webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ip: o.listenIp, announcedIp, port: rtcPort },
          { protocol: 'tcp', ip: o.listenIp, announcedIp, port: rtcPort },
        ],
      });
      if (this.#closed) throw new Error('worker pool closed while this worker was starting');
      const slot: WorkerSlot = { index, worker, webRtcServer, load: 0 };
      worker.on('died', (error) => this.#onDied(slot, error));
      this.#slots.set(index, slot);
      this.#log.info({ index, pid: worker.pid, rtcPort }, 'mediasoup worker running');
      this.observer.emit('workerstarted', slot);
      return { pid: worker.pid, startedAt: Date.now() };
    } catch (err) {
      worker.close();
      throw err;
    }
  }

  #onDied(slot: WorkerSlot, error: Error): void {
    if (this.#slots.get(slot.index) !== slot) return;
    this.#slots.delete(slot.index);
    this.#actors.get(slot.index)?.send({ type: 'worker.died', error: error.message, now: Date.now() });
    this.observer.emit('workerdied', slot.index, error);
  }
}
