import { EventEmitter } from 'node:events';
import type { RoomChange } from '../actors/room/diff.js';
import type { RoomBusMessage } from '../actors/room/RoomStore.js';
import type { Logger } from '../logger.js';
import type { NotificationMap } from '../protocol/messages.js';
import { Channels } from '../state/keys.js';
import type { Store } from '../state/Store.js';
import type { PeerSession } from './PeerSession.js';
import { toPeerInfo, toProducerInfo } from './peerInfo.js';

export type RoomRelayOptions = {
  store: Store;
  log: Logger;
  /** This replica's sessions in a room. */
  sessionsIn: (roomId: string) => PeerSession[];
  /** True while a join into the room is under way here (its session does not exist yet). */
  joining: (roomId: string) => boolean;
};

export type RoomRelayEvents = {
  /** Every room event this replica sees, once and in order, before its sessions are notified (pipes and translation follow it). */
  changes: [roomId: string, message: RoomBusMessage];
};

type Subscription = { events: (raw: string) => void; translation: (raw: string) => void };

/**
 * Subscribes to the channels of every room that has a session on this replica
 * (room events, translation) and turns each message into notifications for
 * those sessions.
 */
export class RoomRelay {
  readonly observer = new EventEmitter<RoomRelayEvents>();
  readonly #options: RoomRelayOptions;
  readonly #handlers = new Map<string, Subscription>();
  /** Newest seq seen per room: an event that arrives after a newer one is stale and dropped. */
  readonly #lastSeq = new Map<string, number>();
  readonly #log: Logger;

  constructor(options: RoomRelayOptions) {
    this.#options = options;
    this.#log = options.log.child({ module: 'room-relay' });
  }

  get watched(): string[] {
    return [...this.#handlers.keys()];
  }

  async watch(roomId: string): Promise<void> {
    if (this.#handlers.has(roomId)) return;
    const sub: Subscription = { events: (raw) => this.#deliverEvent(roomId, raw), translation: (raw) => this.#deliverTranslation(roomId, raw) };
    this.#handlers.set(roomId, sub);
    const { store } = this.#options;
    try {
      await Promise.all([store.subscribe(Channels.room(roomId), sub.events), store.subscribe(Channels.translation(roomId), sub.translation)]);
    } catch (err) {
      this.#handlers.delete(roomId);
      await this.#unsubscribe(roomId, sub).catch(() => undefined);
      throw err;
    }
  }

  /** Stops listening to a room that has no session here any more. */
  async unwatchIfIdle(roomId: string): Promise<void> {
    const sub = this.#handlers.get(roomId);
    if (!sub || this.#options.sessionsIn(roomId).length > 0 || this.#options.joining(roomId)) return;
    this.#handlers.delete(roomId);
    this.#lastSeq.delete(roomId);
    await this.#unsubscribe(roomId, sub);
  }

  async #unsubscribe(roomId: string, sub: Subscription): Promise<void> {
    const { store } = this.#options;
    await Promise.all([store.unsubscribe(Channels.room(roomId), sub.events), store.unsubscribe(Channels.translation(roomId), sub.translation)]);
  }

  #deliverTranslation(roomId: string, raw: string): void {
    const message = this.#parse<TranslationMessage>(roomId, raw);
    if (!message) return;
    for (const session of this.#options.sessionsIn(roomId)) {
      if (!session.link) continue;
      if (message.kind === 'caption') session.notify('caption', message.caption);
      else if (message.kind === 'captionSpoken') session.notify('captionSpoken', message.spoken);
      else session.notify('translationDropped', message.notice);
    }
  }

  #deliverEvent(roomId: string, raw: string): void {
    const message = this.#parse<RoomBusMessage>(roomId, raw);
    if (!message) return;
    // seq 0 is the room's deletion; otherwise sequence numbers only grow within one room's life.
    if (message.seq !== 0) {
      const last = this.#lastSeq.get(roomId) ?? 0;
      if (message.seq <= last) return;
      this.#lastSeq.set(roomId, message.seq);
    }
    this.observer.emit('changes', roomId, message);
    for (const session of this.#options.sessionsIn(roomId)) {
      if (!session.link || message.seq <= session.joinSeq) continue;
      for (const change of message.changes) notifyChange(session, change);
    }
  }

  #parse<T>(roomId: string, raw: string): T | null {
    try {
      return JSON.parse(raw) as T;
    } catch {
      this.#log.warn({ roomId }, 'unreadable room message ignored');
      return null;
    }
  }
}

/** Captions travel on the room's translation channel; they are not room state (no seq). */
export type CaptionMessage = { kind: 'caption'; caption: NotificationMap['caption'] };

/** Translation notices (an utterance that will not be translated, and why) travel there too. */
export type TranslationNoticeMessage = { kind: 'translationDropped'; notice: NotificationMap['translationDropped'] };

/** What a translated voice starts saying travels there too. */
export type CaptionSpokenMessage = { kind: 'captionSpoken'; spoken: NotificationMap['captionSpoken'] };

export type TranslationMessage = CaptionMessage | TranslationNoticeMessage | CaptionSpokenMessage;

/** Tells every peer of the room, on every replica: a caption, the words a voice speaks now, or an utterance that will not be translated. */
export async function publishTranslation(store: Store, roomId: string, message: TranslationMessage): Promise<void> {
  await store.publish(Channels.translation(roomId), JSON.stringify(message));
}

function notifyChange(session: PeerSession, change: RoomChange): void {
  const self = session.peerId;
  switch (change.type) {
    case 'peerJoined':
      if (change.peer.peerId !== self) session.notify('peerJoined', { peer: toPeerInfo(change.peer) });
      return;
    case 'peerUpdated':
      if (change.peer.peerId !== self) session.notify('peerUpdated', { peer: toPeerInfo(change.peer) });
      return;
    case 'peerLeft':
      if (change.peerId !== self) session.notify('peerLeft', { peerId: change.peerId });
      return;
    case 'producerAdded':
      if (change.peerId !== self) session.notify('newProducer', toProducerInfo(change.peerId, change.producer));
      return;
    case 'producerRemoved':
      if (change.peerId !== self) session.notify('producerClosed', { producerId: change.producerId, peerId: change.peerId });
      return;
    case 'producerPaused':
      if (change.peerId !== self) {
        session.notify(change.paused ? 'producerPaused' : 'producerResumed', { producerId: change.producerId, peerId: change.peerId });
      }
      return;
  }
}
