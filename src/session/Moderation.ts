import { publishPermission } from '../auth/permissions.js';
import type { RoomStore } from '../actors/room/RoomStore.js';
import { Errors, createError } from '../errors.js';
import type { PeerPermissions } from '../protocol/messages.js';
import type { Store } from '../state/Store.js';
import type { PeerSession } from './PeerSession.js';
import type { RoomProducers } from './RoomProducers.js';
import type { SessionManager } from './SessionManager.js';
import { spendToken } from './tokenUse.js';

export type ModeratedTrack = { trackId: string; kind: 'audio' | 'video'; source: string; muted: boolean };

/**
 * What a moderator does to peers this replica hosts: remove them (told why, never reconnecting, a
 * single-use token spent), mute or unmute their tracks, change their permissions, end the room here.
 * The caller (RoomAdmin) brings the act to the replica that hosts the peer.
 */
export class Moderation {
  readonly #sessions: SessionManager;
  readonly #producers: RoomProducers;
  readonly #rooms: RoomStore;
  readonly #store: Store;

  constructor(o: { sessions: SessionManager; producers: RoomProducers; rooms: RoomStore; store: Store }) {
    this.#sessions = o.sessions;
    this.#producers = o.producers;
    this.#rooms = o.rooms;
    this.#store = o.store;
  }

  async remove(roomId: string, peerId: string, reason: string): Promise<void> {
    await this.#end(this.#session(roomId, peerId), createError(Errors.PEER_REMOVED, reason || undefined), 'removed');
  }

  async mute(roomId: string, peerId: string, producerId: string, muted: boolean): Promise<ModeratedTrack> {
    const session = this.#session(roomId, peerId);
    const producer = session.media?.producer(producerId);
    if (!producer) throw createError(Errors.PRODUCER_NOT_FOUND, producerId);
    await this.#producers.setPaused(producer, muted);
    session.notify('mutedByModerator', { producerId, muted });
    const source = session.context.producers[producerId]?.source ?? '';
    return { trackId: producerId, kind: producer.kind, source, muted };
  }

  /** Sets the peer's permissions; tracks it may no longer publish close, and its consumers if it may no longer subscribe. */
  async setPermissions(roomId: string, peerId: string, change: Partial<PeerPermissions>): Promise<PeerPermissions> {
    const session = this.#session(roomId, peerId);
    const permissions = { ...session.permissions, ...change };
    await this.#rooms.apply(roomId, { type: 'peer.permissions', peerId, permissions });
    session.ownPermissions = permissions;
    for (const producer of session.media?.producers() ?? []) {
      const needs = publishPermission(session.context.producers[producer.id]?.source ?? '');
      if (needs && !permissions[needs]) producer.close();
    }
    if (!permissions.subscribe) session.media?.closeConsumers();
    session.notify('permissionsChanged', { permissions });
    return permissions;
  }

  /** Ends the room for this replica's peers in it (but those in `spare`). */
  async closeRoom(roomId: string, reason: string, spare: string[] = []): Promise<void> {
    const err = createError(Errors.ROOM_CLOSED, reason || undefined);
    const ending = this.#sessions.inRoom(roomId).filter((s) => !spare.includes(s.peerId));
    await Promise.all(ending.map((s) => this.#end(s, err, 'room closed')));
  }

  #session(roomId: string, peerId: string): PeerSession {
    const session = this.#sessions.get(roomId, peerId);
    if (!session || session.actor.getSnapshot().status !== 'active') throw createError(Errors.PARTICIPANT_NOT_FOUND, `${peerId} in ${roomId}`);
    return session;
  }

  async #end(session: PeerSession, err: ReturnType<typeof createError>, why: string): Promise<void> {
    session.disconnect(err, { reconnect: false });
    const token = session.tokenUse;
    await this.#sessions.leave(session, why);
    if (token) await spendToken(this.#store, token);
  }
}
