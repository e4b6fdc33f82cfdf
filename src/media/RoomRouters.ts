import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../logger.js';
import { ROUTER_MEDIA_CODECS } from './codecs.js';
import type { WorkerPool, WorkerSlot } from './WorkerPool.js';

export type RoomRouter = { roomId: string; router: types.Router; slot: WorkerSlot; peers: Set<string> };

export type RoomRoutersEvents = {
  /** The router of a room closed under its peers (its worker died). */
  routerlost: [roomId: string, peerIds: string[]];
};

/**
 * This replica's router per room, placed on the least-loaded worker when the
 * room's first local peer arrives and closed when its last local peer goes.
 */
export class RoomRouters {
  readonly observer = new EventEmitter<RoomRoutersEvents>();
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #rooms = new Map<string, RoomRouter>();
  readonly #creating = new Map<string, Promise<RoomRouter>>();

  constructor(options: { pool: WorkerPool; log: Logger }) {
    this.#pool = options.pool;
    this.#log = options.log.child({ module: 'room-routers' });
    this.#pool.observer.on('workerdied', (index) => this.#onWorkerDied(index));
  }

  get(roomId: string): RoomRouter | undefined {
    return this.#rooms.get(roomId);
  }

  get size(): number {
    return this.#rooms.size;
  }

  all(): RoomRouter[] {
    return [...this.#rooms.values()];
  }

  /** The room's router, created if needed, with `peerId` counted as its user. */
  async acquire(roomId: string, peerId: string): Promise<RoomRouter> {
    let entry = this.#rooms.get(roomId);
    if (!entry) {
      let pending = this.#creating.get(roomId);
      if (!pending) {
        pending = this.#create(roomId).finally(() => this.#creating.delete(roomId));
        this.#creating.set(roomId, pending);
      }
      entry = await pending;
    }
    if (!entry.peers.has(peerId)) {
      entry.peers.add(peerId);
      entry.slot.load += 1;
    }
    return entry;
  }

  /** Drops `peerId`'s use; the router closes when nobody on this replica uses it. */
  release(roomId: string, peerId: string): void {
    const entry = this.#rooms.get(roomId);
    if (!entry || !entry.peers.delete(peerId)) return;
    entry.slot.load -= 1;
    if (entry.peers.size > 0) return;
    this.#rooms.delete(roomId);
    entry.router.close();
    this.#log.debug({ roomId }, 'router closed');
  }

  closeAll(): void {
    for (const entry of this.#rooms.values()) entry.router.close();
    this.#rooms.clear();
  }

  async #create(roomId: string): Promise<RoomRouter> {
    const slot = this.#pool.leastLoaded();
    const router = await slot.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { roomId } });
    const entry: RoomRouter = { roomId, router, slot, peers: new Set() };
    this.#rooms.set(roomId, entry);
    this.#log.debug({ roomId, worker: slot.index }, 'router created');
    return entry;
  }

  #onWorkerDied(index: number): void {
    for (const [roomId, entry] of this.#rooms) {
      if (entry.slot.index !== index) continue;
      this.#rooms.delete(roomId);
      this.#log.warn({ roomId, worker: index, peers: entry.peers.size }, 'router lost with its worker');
      this.observer.emit('routerlost', roomId, [...entry.peers]);
    }
  }
}
