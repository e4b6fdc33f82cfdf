import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { Errors, createError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ROUTER_MEDIA_CODECS } from './codecs.js';
import type { WorkerPool, WorkerSlot } from './WorkerPool.js';

/** One router of a room on one worker, with the local peers it serves. */
export type RoomRouter = { roomId: string; router: types.Router; slot: WorkerSlot; peers: Set<string> };

type RoomEntry = {
  roomId: string;
  /** The first is the room's primary router (where pipes from other replicas land). */
  routers: RoomRouter[];
  /** Where each producer of the room can be consumed on this replica. */
  available: Map<string, Set<RoomRouter>>;
  /** pipeToRouter copies being made, by `producerId|routerId`. */
  piping: Map<string, Promise<void>>;
};

export type RoomRoutersEvents = {
  /** A router of a room was created on this replica (before any transport exists on it). */
  routercreated: [rr: RoomRouter];
  /** A router closed under its peers (its worker died). */
  routerlost: [roomId: string, peerIds: string[]];
};

/**
 * This replica's routers per room. A room starts on the least-loaded worker;
 * when its routers are full (`maxPeersPerRouter`) the next peer gets a router
 * on another worker, and producers cross between the room's routers with
 * `router.pipeToRouter` when a peer there consumes them. A router closes when
 * its last local peer goes.
 */
export class RoomRouters {
  readonly observer = new EventEmitter<RoomRoutersEvents>();
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #maxPeersPerRouter: number;
  readonly #rooms = new Map<string, RoomEntry>();
  readonly #creating = new Map<string, Promise<RoomRouter>>();

  constructor(options: { pool: WorkerPool; log: Logger; maxPeersPerRouter: number }) {
    this.#pool = options.pool;
    this.#log = options.log.child({ module: 'room-routers' });
    this.#maxPeersPerRouter = options.maxPeersPerRouter;
    this.#pool.observer.on('workerdied', (index) => this.#onWorkerDied(index));
  }

  /** The room's primary router on this replica, if the room has a local peer. */
  get(roomId: string): RoomRouter | undefined {
    return this.#rooms.get(roomId)?.routers[0];
  }

  /** Rooms with a local peer. */
  get size(): number {
    return this.#rooms.size;
  }

  routersOf(roomId: string): RoomRouter[] {
    return [...(this.#rooms.get(roomId)?.routers ?? [])];
  }

  /** A router of the room for `peerId`, created if the room has none with room for one more peer. */
  async acquire(roomId: string, peerId: string): Promise<RoomRouter> {
    const existing = this.#rooms.get(roomId)?.routers.find((r) => r.peers.has(peerId));
    const rr = existing ?? this.#withCapacity(roomId) ?? (await this.#createDeduped(roomId));
    if (!rr.peers.has(peerId)) {
      rr.peers.add(peerId);
      rr.slot.load += 1;
    }
    return rr;
  }

  /** Drops `peerId`'s use; a router closes when nobody on this replica uses it. */
  release(roomId: string, peerId: string): void {
    const entry = this.#rooms.get(roomId);
    const rr = entry?.routers.find((r) => r.peers.has(peerId));
    if (!entry || !rr) return;
    rr.peers.delete(peerId);
    rr.slot.load -= 1;
    if (rr.peers.size > 0) return;
    this.#drop(entry, rr);
    rr.router.close();
    this.#log.debug({ roomId, worker: rr.slot.index }, 'router closed');
  }

  /**
   * `producer` can be consumed on `rr` (it was produced or piped in there). The room forgets where it can be
   * consumed when it closes (its pipeToRouter copies close with it).
   */
  markAvailable(roomId: string, producer: types.Producer, rr: RoomRouter): void {
    const entry = this.#rooms.get(roomId);
    if (!entry || producer.closed) return;
    if (!entry.available.has(producer.id)) {
      entry.available.set(producer.id, new Set());
      producer.observer.once('close', () => entry.available.delete(producer.id));
    }
    entry.available.get(producer.id)!.add(rr);
  }

  /** Makes `producerId` consumable on `target` by piping it from a router of the room that has it. */
  async ensureOn(roomId: string, producerId: string, target: RoomRouter): Promise<void> {
    const entry = this.#rooms.get(roomId);
    const at = entry?.available.get(producerId);
    if (!entry || !at || at.has(target)) return;
    const key = `${producerId}|${target.router.id}`;
    let pending = entry.piping.get(key);
    if (!pending) {
      const source = [...at][0]!;
      pending = source.router
        .pipeToRouter({ producerId, router: target.router, enableRtx: true })
        .then(({ pipeProducer }) => {
          at.add(target);
          pipeProducer?.observer.once('close', () => at.delete(target));
        })
        .catch((err: unknown) => {
          // The producer closed meanwhile (its removal event has not arrived yet).
          throw createError(Errors.PRODUCER_NOT_FOUND, `${producerId} (${err instanceof Error ? err.message : String(err)})`);
        })
        .finally(() => entry.piping.delete(key));
      entry.piping.set(key, pending);
    }
    await pending;
  }

  closeAll(): void {
    for (const entry of this.#rooms.values()) for (const rr of entry.routers) rr.router.close();
    this.#rooms.clear();
  }

  #withCapacity(roomId: string): RoomRouter | undefined {
    const routers = this.#rooms.get(roomId)?.routers ?? [];
    const open = routers.filter((r) => this.#maxPeersPerRouter === 0 || r.peers.size < this.#maxPeersPerRouter);
    return open.sort((a, b) => a.slot.load - b.slot.load)[0];
  }

  #createDeduped(roomId: string): Promise<RoomRouter> {
    let pending = this.#creating.get(roomId);
    if (!pending) {
      pending = this.#create(roomId).finally(() => this.#creating.delete(roomId));
      this.#creating.set(roomId, pending);
    }
    return pending;
  }

  async #create(roomId: string): Promise<RoomRouter> {
    const used = new Set(this.routersOf(roomId).map((r) => r.slot.index));
    // Prefer a worker the room does not use yet: that is what spreading a large room means.
    const slot = this.#pool.leastLoaded((s) => !used.has(s.index)) ?? this.#pool.leastLoaded();
    const router = await slot.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { roomId } });
    const rr: RoomRouter = { roomId, router, slot, peers: new Set() };
    let entry = this.#rooms.get(roomId);
    if (!entry) {
      entry = { roomId, routers: [], available: new Map(), piping: new Map() };
      this.#rooms.set(roomId, entry);
    }
    entry.routers.push(rr);
    this.observer.emit('routercreated', rr);
    this.#log.debug({ roomId, worker: slot.index, routers: entry.routers.length }, 'router created');
    return rr;
  }

  #drop(entry: RoomEntry, rr: RoomRouter): void {
    entry.routers = entry.routers.filter((r) => r !== rr);
    for (const at of entry.available.values()) at.delete(rr);
    if (entry.routers.length === 0) this.#rooms.delete(entry.roomId);
  }

  #onWorkerDied(index: number): void {
    for (const entry of [...this.#rooms.values()]) {
      for (const rr of entry.routers.filter((r) => r.slot.index === index)) {
        this.#drop(entry, rr);
        this.#log.warn({ roomId: entry.roomId, worker: index, peers: rr.peers.size }, 'router lost with its worker');
        this.observer.emit('routerlost', entry.roomId, [...rr.peers]);
      }
    }
  }
}
