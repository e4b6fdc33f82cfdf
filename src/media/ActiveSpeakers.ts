import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../logger.js';
import type { RoomRouter, RoomRouters } from './RoomRouters.js';

export type ActiveSpeakersOptions = {
  routers: RoomRouters;
  /** The peer a producer belongs to, for producers whose appData does not say (piped in from another replica). */
  ownerOf: (roomId: string, producerId: string) => Promise<string | null>;
  log: Logger;
  /** How often mediasoup re-evaluates the dominant speaker (ms). */
  intervalMs?: number;
};

export type ActiveSpeakersEvents = {
  /** The dominant speaker of a router changed: tell `peerIds` (the local peers on that router). */
  activespeaker: [roomId: string, peerIds: string[], speakerPeerId: string];
};

const DEFAULT_INTERVAL_MS = 300;

/**
 * The active speaker of each room router: a mediasoup ActiveSpeakerObserver per router fed with every
 * audio producer that appears on it: the local peers' microphones, producers piped in from other
 * replicas or routers, and translated voices (which carry the speaker's peerId and RFC 6464 levels),
 * so a speaker on another replica, or heard through a translation, counts as the speaker. Each replica
 * decides for its own peers from what its routers carry; no replica has to ask another.
 */
export class ActiveSpeakers {
  readonly observer = new EventEmitter<ActiveSpeakersEvents>();
  readonly #o: ActiveSpeakersOptions;
  readonly #current = new Map<string, string>();

  constructor(options: ActiveSpeakersOptions) {
    this.#o = options;
    options.routers.observer.on('routercreated', (rr) => this.#watch(rr));
  }

  /** The speaker last announced on `rr`, if any. */
  current(rr: RoomRouter): string | null {
    return this.#current.get(rr.router.id) ?? null;
  }

  #watch(rr: RoomRouter): void {
    const { router, roomId } = rr;
    const log = this.#o.log.child({ module: 'active-speakers', roomId });
    // Producers can appear while the observer is being created: they wait for it.
    const audio: types.Producer[] = [];
    let observer: types.ActiveSpeakerObserver | null = null;
    const add = (producer: types.Producer): void => {
      if (producer.kind !== 'audio') return;
      if (!observer) return void audio.push(producer);
      observer.addProducer({ producerId: producer.id }).catch(() => undefined); // closed meanwhile
    };
    router.observer.on('newtransport', (transport) => transport.observer.on('newproducer', add));
    router.observer.once('close', () => this.#current.delete(router.id));
    router
      .createActiveSpeakerObserver({ interval: this.#o.intervalMs ?? DEFAULT_INTERVAL_MS })
      .then((created) => {
        observer = created;
        created.on('dominantspeaker', ({ producer }) => void this.#announce(rr, producer).catch((err: unknown) => log.debug({ err }, 'active speaker not resolved')));
        for (const p of audio.splice(0)) if (!p.closed) add(p);
      })
      .catch((err: unknown) => {
        if (!router.closed) log.warn({ err }, 'no active-speaker detection on this router');
      });
  }

  async #announce(rr: RoomRouter, producer: types.Producer): Promise<void> {
    const own = producer.appData.peerId;
    const peerId = typeof own === 'string' ? own : await this.#o.ownerOf(rr.roomId, producer.id);
    if (!peerId || rr.router.closed || this.#current.get(rr.router.id) === peerId) return;
    this.#current.set(rr.router.id, peerId);
    this.observer.emit('activespeaker', rr.roomId, [...rr.peers], peerId);
  }
}
