import type { Snapshot } from 'xstate';
import type { RoomContext } from '../actors/room/machine.js';
import type { RoomStore } from '../actors/room/RoomStore.js';
import type { JoinClaims } from '../auth/tokens.js';
import { Errors, ParleyError, createError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomRouters } from '../media/RoomRouters.js';
import { CLOSE_CODES } from '../protocol/messages.js';
import type { Store } from '../state/Store.js';
import { PeerMedia, type PeerMediaLimits } from './PeerMedia.js';
import { PeerSession, type ClientLink } from './PeerSession.js';
import { RoomRelay } from './RoomRelay.js';

export type SessionManagerOptions = {
  replicaId: string;
  store: Store;
  rooms: RoomStore;
  routers: RoomRouters;
  limits: PeerMediaLimits;
  reconnectGraceMs: number;
  log: Logger;
};

export type JoinResult = { session: PeerSession; room: RoomContext; resumed: boolean };

const sessionKey = (roomId: string, peerId: string) => `${roomId}\u0000${peerId}`;

/** Room-actor errors that only mean "already gone": safe to ignore during cleanup. */
function isGone(err: unknown): boolean {
  return err instanceof ParleyError && [Errors.ROOM_NOT_FOUND.code, Errors.NOT_JOINED.code, Errors.PRODUCER_NOT_FOUND.code].includes(err.code);
}

/**
 * The peers hosted by this replica: joins (new, reconnecting, replacing),
 * socket loss with a reconnect grace, leaves, and the room-actor updates
 * those imply.
 */
export class SessionManager {
  readonly relay: RoomRelay;
  readonly #o: SessionManagerOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, PeerSession>();
  readonly #finishing = new Map<PeerSession, Promise<void>>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: SessionManagerOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'sessions' });
    this.relay = new RoomRelay({ store: options.store, log: options.log, sessionsIn: (roomId) => this.inRoom(roomId) });
    options.routers.observer.on('routerlost', (roomId, peerIds) => this.#onRouterLost(roomId, peerIds));
  }

  get size(): number {
    return this.#sessions.size;
  }

  all(): PeerSession[] {
    return [...this.#sessions.values()];
  }

  get(roomId: string, peerId: string): PeerSession | undefined {
    return this.#sessions.get(sessionKey(roomId, peerId));
  }

  inRoom(roomId: string): PeerSession[] {
    return this.all().filter((s) => s.roomId === roomId);
  }

  /** Joins (or re-joins) the identity in `claims` through `link`. */
  async join(link: ClientLink, claims: JoinClaims, languages: { spokenLanguage: string; listeningLanguage: string }): Promise<JoinResult> {
    const { roomId, identity: peerId } = claims;
    const existing = this.get(roomId, peerId);
    if (existing?.link) this.#replace(existing);
    await this.relay.watch(roomId);
    let applied;
    try {
      applied = await this.#o.rooms.apply(roomId, {
        type: 'peer.join',
        peer: { peerId, displayName: claims.displayName, role: claims.role, replicaId: this.#o.replicaId, joinedAt: Date.now(), ...languages },
      });
    } catch (err) {
      if (!existing) await this.relay.unwatchIfIdle(roomId);
      throw err;
    }
    const resumed = existing !== undefined || applied.changes.some((c) => c.type === 'peerLeft' && c.peerId === peerId);
    const session = existing ?? this.#create({ ...claims, peerId, ...languages });
    if (existing) {
      session.send(session.state === 'disconnected' ? { type: 'socket.resumed' } : { type: 'media.lost' });
      session.send({ type: 'peer.update', ...languages });
    }
    const room = await this.#o.routers.acquire(roomId, peerId);
    const media = new PeerMedia(room, this.#o.limits);
    this.#wireMedia(session, media);
    session.attach(link, media, applied.seq);
    session.log.info({ resumed, replica: this.#o.replicaId }, 'peer joined');
    return { session, room: applied.context, resumed };
  }

  /** The peer leaves for good; resolves once the room and Redis reflect it. */
  async leave(session: PeerSession, reason: string): Promise<void> {
    this.#detach(session);
    session.send({ type: 'peer.leave', reason });
    await this.#finishing.get(session);
  }

  /** The socket went away without a leave: keep the peer for the reconnect grace. */
  socketClosed(session: PeerSession, link: ClientLink): void {
    if (session.link !== link) return;
    this.#detach(session);
    session.send({ type: 'socket.closed', deadline: Date.now() + this.#o.reconnectGraceMs });
    this.#applyQuietly(session.roomId, { type: 'peer.mediaLost', peerId: session.peerId });
  }

  /** Re-creates a session from its persisted snapshot (gateway restart); the peer must reconnect. */
  adopt(roomId: string, peerId: string, persisted: { snapshot: Snapshot<unknown>; seq: number }): PeerSession {
    const ctx = (persisted.snapshot as unknown as { context: PeerSession['context'] }).context;
    const session = this.#create(ctx, persisted);
    if (session.state === 'connected') session.send({ type: 'socket.closed', deadline: Date.now() + this.#o.reconnectGraceMs });
    this.#applyQuietly(roomId, { type: 'peer.mediaLost', peerId });
    void this.relay.watch(roomId);
    return session;
  }

  #create(input: Parameters<typeof this.newSessionInput>[0], restoreFrom?: { snapshot: Snapshot<unknown>; seq: number }): PeerSession {
    const session = new PeerSession({
      store: this.#o.store,
      log: this.#log,
      input: this.newSessionInput(input),
      restoreFrom,
      onEnd: (s) => this.#finishing.set(s, this.#finish(s)),
    });
    this.#sessions.set(sessionKey(session.roomId, session.peerId), session);
    return session;
  }

  private newSessionInput(c: { roomId: string; peerId: string; displayName: string; role: PeerSession['context']['role']; spokenLanguage: string; listeningLanguage: string; joinedAt?: number }) {
    return {
      peerId: c.peerId,
      roomId: c.roomId,
      replicaId: this.#o.replicaId,
      displayName: c.displayName,
      role: c.role,
      spokenLanguage: c.spokenLanguage,
      listeningLanguage: c.listeningLanguage,
      joinedAt: c.joinedAt ?? Date.now(),
    };
  }

  /** The actor reached `left`: update the room, delete the snapshot, forget the session. */
  async #finish(session: PeerSession): Promise<void> {
    const key = sessionKey(session.roomId, session.peerId);
    if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    try {
      await this.#o.rooms.apply(session.roomId, { type: 'peer.leave', peerId: session.peerId });
    } catch (err) {
      if (!isGone(err)) session.log.error({ err }, 'could not remove peer from room');
    }
    await session.remove().catch((err: unknown) => session.log.error({ err }, 'could not delete peer snapshot'));
    await this.relay.unwatchIfIdle(session.roomId).catch(() => undefined);
    this.#finishing.delete(session);
    session.log.info({ reason: session.context.endReason }, 'peer left');
  }

  #detach(session: PeerSession): ClientLink | null {
    const link = session.detach();
    this.#o.routers.release(session.roomId, session.peerId);
    return link;
  }

  #replace(session: PeerSession): void {
    const old = this.#detach(session);
    if (!old) return;
    const err = createError(Errors.SESSION_REPLACED);
    old.send({ type: 'notification', method: 'disconnecting', data: { code: err.code, message: err.message, reconnect: false } });
    old.close(CLOSE_CODES.replaced, err.code);
  }

  /** Keeps the peer actor and the room actor in step with the media objects. */
  #wireMedia(session: PeerSession, media: PeerMedia): void {
    const live = () => session.media === media;
    media.observer.on('transportclosed', (transportId) => {
      if (live()) session.send({ type: 'transport.closed', transportId });
    });
    media.observer.on('producerclosed', (producerId) => {
      if (!live()) return;
      session.send({ type: 'producer.closed', producerId });
      this.#applyQuietly(session.roomId, { type: 'producer.close', peerId: session.peerId, producerId });
    });
    media.observer.on('consumerclosed', (consumerId, producerId) => {
      if (!live()) return;
      session.send({ type: 'consumer.closed', consumerId });
      session.notify('consumerClosed', { consumerId, producerId });
    });
  }

  #applyQuietly(roomId: string, event: Parameters<RoomStore['apply']>[1]): void {
    const p = this.#o.rooms.apply(roomId, event).catch((err: unknown) => {
      if (!isGone(err)) this.#log.warn({ err, roomId, event: event.type }, 'room update failed');
    });
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Waits for queued room updates and snapshot writes, then stops every peer actor (shutdown; snapshots stay for a restart). */
  async stopAll(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    await Promise.all(this.all().map((s) => s.flush()));
    for (const s of this.all()) s.actor.stop();
  }

  /** A worker died under a room: its local peers reconnect and get a router on a live worker. */
  #onRouterLost(roomId: string, peerIds: string[]): void {
    const err = createError(Errors.MEDIA_RESTART);
    for (const peerId of peerIds) {
      const session = this.get(roomId, peerId);
      const link = session?.link;
      if (!session || !link) continue;
      link.send({ type: 'notification', method: 'disconnecting', data: { code: err.code, message: err.message, reconnect: true } });
      link.close(CLOSE_CODES.goingAway, err.code);
    }
  }
}
