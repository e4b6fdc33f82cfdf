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
  /** Every change, once per message, before sessions are notified (cross-replica work hangs off this). */
  onChanges?: (roomId: string, message: RoomBusMessage) => void;
};

/**
 * Subscribes to the channel of every room that has a session on this replica
 * and turns each room event into notifications for those sessions.
 */
export class RoomRelay {
  readonly #options: RoomRelayOptions;
  readonly #handlers = new Map<string, (message: string) => void>();
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
    const handler = (raw: string) => this.#deliver(roomId, raw);
    this.#handlers.set(roomId, handler);
    try {
      await this.#options.store.subscribe(Channels.room(roomId), handler);
    } catch (err) {
      this.#handlers.delete(roomId);
      throw err;
    }
  }

  /** Stops listening to a room that has no session here any more. */
  async unwatchIfIdle(roomId: string): Promise<void> {
    const handler = this.#handlers.get(roomId);
    if (!handler || this.#options.sessionsIn(roomId).length > 0 || this.#options.joining(roomId)) return;
    this.#handlers.delete(roomId);
    this.#lastSeq.delete(roomId);
    await this.#options.store.unsubscribe(Channels.room(roomId), handler);
  }

  #deliver(roomId: string, raw: string): void {
    let parsed: RoomBusMessage | TranslationMessage;
    try {
      parsed = JSON.parse(raw) as RoomBusMessage | TranslationMessage;
    } catch {
      this.#log.warn({ roomId }, 'unreadable room event ignored');
      return;
    }
    if ('kind' in parsed) {
      for (const session of this.#options.sessionsIn(roomId)) {
        if (!session.link) continue;
        if (parsed.kind === 'caption') session.notify('caption', parsed.caption);
        else if (parsed.kind === 'captionSpoken') session.notify('captionSpoken', parsed.spoken);
        else session.notify('translationDropped', parsed.notice);
      }
      return;
    }
    const message = parsed;
    // seq 0 is the room's deletion; otherwise sequence numbers only grow within one room's life.
    if (message.seq !== 0) {
      const last = this.#lastSeq.get(roomId) ?? 0;
      if (message.seq <= last) return;
      this.#lastSeq.set(roomId, message.seq);
    }
    this.#options.onChanges?.(roomId, message);
    for (const session of this.#options.sessionsIn(roomId)) {
      if (!session.link || message.seq <= session.joinSeq) continue;
      for (const change of message.changes) notifyChange(session, change);
    }
  }
}

/** Captions travel on the room's channel too; they are not room state (no seq). */
export type CaptionMessage = { kind: 'caption'; caption: NotificationMap['caption'] };

/** Translation notices (an utterance that will not be translated, and why) travel there too. */
export type TranslationNoticeMessage = { kind: 'translationDropped'; notice: NotificationMap['translationDropped'] };

/** What a translated voice starts saying travels there too. */
export type CaptionSpokenMessage = { kind: 'captionSpoken'; spoken: NotificationMap['captionSpoken'] };

type TranslationMessage = CaptionMessage | TranslationNoticeMessage | CaptionSpokenMessage;

/** Tells every peer of the room, on every replica, which words of a translated caption are being spoken now. */
export async function publishCaptionSpoken(store: Store, roomId: string, spoken: NotificationMap['captionSpoken']): Promise<void> {
  const message: CaptionSpokenMessage = { kind: 'captionSpoken', spoken };
  await store.publish(Channels.room(roomId), JSON.stringify(message));
}

/** Tells every peer of the room, on every replica, that an utterance will not be translated. */
export async function publishTranslationNotice(store: Store, roomId: string, notice: NotificationMap['translationDropped']): Promise<void> {
  const message: TranslationNoticeMessage = { kind: 'translationDropped', notice };
  await store.publish(Channels.room(roomId), JSON.stringify(message));
}

/** Sends a caption to every peer of the room, on every replica. */
export async function publishCaption(store: Store, roomId: string, caption: NotificationMap['caption']): Promise<void> {
  const message: CaptionMessage = { kind: 'caption', caption };
  await store.publish(Channels.room(roomId), JSON.stringify(message));
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
