import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { RoomProducer } from '../actors/room/machine.js';
import type { RoomStore } from '../actors/room/RoomStore.js';
import { Errors, ParleyError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomRouter, RoomRouters } from '../media/RoomRouters.js';

/**
 * A producer this replica publishes into a room: a client's track (`client`) or a translated voice the
 * gateway speaks for a speaker (`voice`).
 */
export type Publication = {
  roomId: string;
  /** The peer the producer belongs to (a voice belongs to its speaker). */
  peerId: string;
  producer: types.Producer;
  origin: 'client' | 'voice';
  kind: types.MediaKind;
  source: string;
};

export type RoomProducersEvents = {
  /** Registered: consumable on its router, its room entry being written. */
  producercreated: [publication: Publication];
  producerpaused: [publication: Publication, paused: boolean];
  /** Closed for whatever reason (its peer's request, its transport, its peer leaving, a failed publish). */
  producerclosed: [publication: Publication];
};

export type PublishOptions = Omit<Publication, 'kind'> & { rr: RoomRouter; video?: RoomProducer['video'] };

/**
 * The one owner of a producer's life in a room on this replica. `publish` makes a producer consumable on
 * its router and writes it into the room; when the producer closes, by any path, it is taken out of the
 * room once (never before its add landed). Everything else that cares (the peer actor, translation)
 * listens to the events.
 */
export class RoomProducers {
  readonly observer = new EventEmitter<RoomProducersEvents>();
  readonly #rooms: RoomStore;
  readonly #routers: RoomRouters;
  readonly #replicaId: string;
  readonly #log: Logger;
  readonly #live = new Map<string, Publication>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: { rooms: RoomStore; routers: RoomRouters; replicaId: string; log: Logger }) {
    this.#rooms = options.rooms;
    this.#routers = options.routers;
    this.#replicaId = options.replicaId;
    this.#log = options.log.child({ module: 'room-producers' });
  }

  get size(): number {
    return this.#live.size;
  }

  /**
   * Publishes a producer just created on this replica. Resolves once the room lists it; if the room refuses
   * it, the producer is closed and the refusal thrown.
   */
  async publish(o: PublishOptions): Promise<void> {
    const { roomId, peerId, producer } = o;
    const publication: Publication = { roomId, peerId, producer, origin: o.origin, kind: producer.kind, source: o.source };
    this.#routers.markAvailable(roomId, producer, o.rr);
    const entry: RoomProducer = { producerId: producer.id, kind: producer.kind, source: o.source, paused: producer.paused, replicaId: this.#replicaId, ...(o.video ? { video: o.video } : {}) };
    const added = this.#track(this.#rooms.apply(roomId, { type: 'producer.add', peerId, producer: entry }));
    this.#live.set(producer.id, publication);
    producer.observer.once('close', () => this.#closed(publication, added));
    this.observer.emit('producercreated', publication);
    if (producer.closed) this.#closed(publication, added);
    try {
      await added;
    } catch (err) {
      producer.close();
      throw err;
    }
  }

  /** Pauses or resumes a published producer, and tells its room. */
  async setPaused(producer: types.Producer, paused: boolean): Promise<void> {
    const publication = this.#live.get(producer.id);
    if (paused) await producer.pause();
    else await producer.resume();
    if (!publication) return;
    this.observer.emit('producerpaused', publication, paused);
    await this.#rooms.apply(publication.roomId, { type: 'producer.pause', peerId: publication.peerId, producerId: producer.id, paused });
  }

  /** Waits for room writes still under way (shutdown). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #closed(publication: Publication, added: Promise<unknown>): void {
    if (this.#live.get(publication.producer.id) !== publication) return;
    this.#live.delete(publication.producer.id);
    this.observer.emit('producerclosed', publication);
    const { roomId, peerId, producer } = publication;
    // After the add landed: a close that overtook it would leave the room listing a dead producer.
    const removed = added.then(
      () => this.#rooms.apply(roomId, { type: 'producer.close', peerId, producerId: producer.id }),
      () => undefined,
    );
    void this.#track(removed).catch((err: unknown) => {
      if (!isGone(err)) this.#log.warn({ err, roomId, producerId: producer.id }, 'could not take a closed producer out of its room');
    });
  }

  #track<T>(p: Promise<T>): Promise<T> {
    const settled = p.catch(() => undefined);
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
    return p;
  }
}

/** Room-actor errors that only mean "already gone": safe to ignore when taking a producer out. */
export function isGone(err: unknown): boolean {
  return err instanceof ParleyError && [Errors.ROOM_NOT_FOUND.code, Errors.NOT_JOINED.code, Errors.PRODUCER_NOT_FOUND.code].includes(err.code);
}
