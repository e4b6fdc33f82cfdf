import { EventEmitter } from 'node:events';
import { initialTransition, transition } from 'xstate';
import { Errors, createError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { Channels, Keys } from '../../state/keys.js';
import type { Store } from '../../state/Store.js';
import { roomCodec } from './codec.js';
import { diffRoom, type RoomChange } from './diff.js';
import { roomMachine, roomRejection, type RoomContext, type RoomEvent } from './machine.js';

/** Published on the room's channel after each accepted event. */
export type RoomBusMessage = {
  from: string;
  seq: number;
  event: RoomEvent;
  /** What the event changed, for the notifications each replica sends its peers. */
  changes: RoomChange[];
};

/** One transition this replica applied (won the compare-and-set for), for observers (webhooks). */
export type RoomApplied = {
  /**
   * The room's seq after the transition. A deletion writes no snapshot (the bus carries seq 0): it reads as
   * the deleted snapshot's seq + 1, so a room's transitions count up by one from its creation to its end.
   */
  seq: number;
  changes: RoomChange[];
  /** The transition created the room (no snapshot before it). */
  created: boolean;
  /** The transition ended the room (its last peer left: the snapshot was deleted). */
  deleted: boolean;
  /** The room before the transition (null when created): who left, what was removed. */
  before: RoomContext | null;
  after: RoomContext;
  /** ms since epoch, when the write landed. */
  at: number;
};

export type RoomStoreEvents = {
  /** Emitted once per accepted event, by the replica that applied it, right after its write landed. */
  applied: [roomId: string, applied: RoomApplied];
};

export type ApplyResult = { context: RoomContext; closed: boolean; seq: number; changes: RoomChange[] };

const MAX_ATTEMPTS = 50;

/**
 * Hosts the distributed room actor: reads the newest snapshot, runs the pure
 * machine, writes with compare-and-set (retrying on a concurrent write), then
 * publishes the event for every replica.
 */
export class RoomStore {
  /** Monitoring: listeners must not throw (a throw is logged, the write stands). */
  readonly observer = new EventEmitter<RoomStoreEvents>();
  readonly #store: Store;
  readonly #replicaId: string;
  readonly #maxPeers: number;
  readonly #log: Logger;

  constructor(options: { store: Store; replicaId: string; maxPeers: number; log: Logger }) {
    this.#store = options.store;
    this.#replicaId = options.replicaId;
    this.#maxPeers = options.maxPeers;
    this.#log = options.log.child({ module: 'room-store' });
  }

  async get(roomId: string): Promise<RoomContext | null> {
    const rec = await this.#store.get(Keys.room(roomId));
    return rec ? roomCodec.decode(rec.doc).context : null;
  }

  /** The peer whose producer `producerId` is, or null (no such room or producer). */
  async ownerOf(roomId: string, producerId: string): Promise<string | null> {
    const room = await this.get(roomId);
    return room ? (Object.values(room.peers).find((p) => Object.hasOwn(p.producers, producerId))?.peerId ?? null) : null;
  }

  async list(): Promise<string[]> {
    return this.#store.setMembers(Keys.roomIndex());
  }

  /** Applies one event; throws a coded error when the room refuses it. */
  async apply(roomId: string, event: RoomEvent, now = Date.now()): Promise<ApplyResult> {
    const key = Keys.room(roomId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const rec = await this.#store.get(key);
      if (!rec && event.type !== 'peer.join' && event.type !== 'peer.restore') throw createError(Errors.ROOM_NOT_FOUND, roomId);
      const current = rec
        ? roomMachine.resolveState(roomCodec.decode(rec.doc))
        : initialTransition(roomMachine, { roomId, maxPeers: this.#maxPeers, now })[0];
      const rejection = roomRejection(current.context, event);
      if (rejection === 'ROOM_FULL') throw createError(Errors.ROOM_FULL, `limit ${current.context.maxPeers}`);
      if (rejection === 'UNKNOWN_PEER') throw createError(Errors.NOT_JOINED, `peer not in room ${roomId}`);
      if (rejection === 'UNKNOWN_PRODUCER') throw createError(Errors.PRODUCER_NOT_FOUND);
      if (rejection === 'FORBIDDEN') throw createError(Errors.FORBIDDEN, 'the participant may not publish this source');
      const [next] = transition(roomMachine, current, event);
      const closed = next.status === 'done';
      const doc = closed ? null : roomCodec.encode({ value: String(next.value), context: next.context });
      const seq = await this.#store.compareAndSet(key, rec?.seq ?? 0, doc);
      if (seq === null) continue; // somebody else wrote first: read again
      const changes = diffRoom(rec ? current.context : null, next.context);
      this.#observe(roomId, { seq: closed ? (rec?.seq ?? 0) + 1 : seq, changes, created: rec === null, deleted: closed, before: rec ? current.context : null, after: next.context, at: Date.now() });
      await this.#afterWrite(roomId, rec === null, closed);
      const message: RoomBusMessage = { from: this.#replicaId, seq, event, changes };
      await this.#store.publish(Channels.room(roomId), JSON.stringify(message));
      return { context: next.context, closed, seq, changes };
    }
    throw createError(Errors.INTERNAL, `room ${roomId}: too much write contention`);
  }

  #observe(roomId: string, applied: RoomApplied): void {
    try {
      this.observer.emit('applied', roomId, applied);
    } catch (err) {
      this.#log.error({ err, roomId, seq: applied.seq }, 'room observer failed');
    }
  }

  async #afterWrite(roomId: string, created: boolean, closed: boolean): Promise<void> {
    if (created) await this.#store.setAdd(Keys.roomIndex(), roomId);
    if (!closed) return;
    await this.#store.setRemove(Keys.roomIndex(), roomId);
    // A join on another replica may have re-created the room in between.
    if (await this.#store.get(Keys.room(roomId))) await this.#store.setAdd(Keys.roomIndex(), roomId);
    else this.#log.info({ roomId }, 'room closed');
  }
}
