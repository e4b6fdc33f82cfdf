import type { Snapshot } from 'xstate';
import type { RoomContext, RoomPeer } from '../actors/room/machine.js';
import type { RoomStore } from '../actors/room/RoomStore.js';
import { permissionsFor } from '../auth/permissions.js';
import type { JoinClaims } from '../auth/tokens.js';
import { Errors, createError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomRouters } from '../media/RoomRouters.js';
import { Keys } from '../state/keys.js';
import type { Store } from '../state/Store.js';
import { PeerMedia, type PeerMediaLimits } from './PeerMedia.js';
import { disconnectClient, PeerSession, type ClientLink } from './PeerSession.js';
import { isGone, type Publication, type RoomProducers } from './RoomProducers.js';
import { RoomRelay } from './RoomRelay.js';

export type SessionManagerOptions = {
  replicaId: string;
  store: Store;
  rooms: RoomStore;
  routers: RoomRouters;
  /** Publishes this replica's producers; the peer actors follow its events. */
  producers: RoomProducers;
  limits: PeerMediaLimits;
  reconnectGraceMs: number;
  log: Logger;
};

export type JoinResult = { session: PeerSession; room: RoomContext; resumed: boolean };

const sessionKey = (roomId: string, peerId: string) => `${roomId}\u0000${peerId}`;

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
  readonly #joinQueue = new Map<string, Promise<unknown>>();
  /** Joins under way per room (their sessions may not exist yet). */
  readonly #pendingJoins = new Map<string, number>();

  constructor(options: SessionManagerOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'sessions' });
    this.relay = new RoomRelay({ store: options.store, log: options.log, sessionsIn: (roomId) => this.inRoom(roomId),
      joining: (roomId) => this.#pendingJoins.has(roomId),
    });
    options.routers.observer.on('routerlost', (roomId, peerIds) => this.#onRouterLost(roomId, peerIds));
    // The peer actor records its client's producers as the room does.
    const client = (p: Publication) => (p.origin === 'client' ? this.get(p.roomId, p.peerId) : undefined);
    options.producers.observer.on('producercreated', (p) => client(p)?.send({ type: 'producer.created', producerId: p.producer.id, kind: p.kind, source: p.source }));
    options.producers.observer.on('producerpaused', (p, paused) => client(p)?.send({ type: 'producer.paused', producerId: p.producer.id, paused }));
    options.producers.observer.on('producerclosed', (p) => client(p)?.send({ type: 'producer.closed', producerId: p.producer.id }));
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

  /** Joins (or re-joins) the identity in `claims` through `link`. Joins of one identity run one at a time. */
  join(link: ClientLink, claims: JoinClaims, languages: { spokenLanguage: string; listeningLanguage: string }): Promise<JoinResult> {
    const key = sessionKey(claims.roomId, claims.identity);
    const previous = this.#joinQueue.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#join(link, claims, languages));
    const tail = run.catch(() => undefined);
    this.#joinQueue.set(key, tail);
    this.#pendingJoins.set(claims.roomId, (this.#pendingJoins.get(claims.roomId) ?? 0) + 1);
    void tail.then(() => {
      if (this.#joinQueue.get(key) === tail) this.#joinQueue.delete(key);
      const n = (this.#pendingJoins.get(claims.roomId) ?? 1) - 1;
      if (n > 0) this.#pendingJoins.set(claims.roomId, n);
      else this.#pendingJoins.delete(claims.roomId);
    });
    return run;
  }

  async #join(link: ClientLink, claims: JoinClaims, languages: { spokenLanguage: string; listeningLanguage: string }): Promise<JoinResult> {
    const { roomId, identity: peerId } = claims;
    let existing = this.get(roomId, peerId);
    if (existing && existing.actor.getSnapshot().status !== 'active') existing = undefined;
    if (existing?.link) this.#replace(existing);
    // Stop the reconnect grace timer first: it must not remove the peer while this join runs.
    if (existing?.state === 'disconnected') existing.send({ type: 'socket.resumed' });
    // A peer arriving from another replica continues its snapshot's sequence, so its writes win.
    const prior = existing ? null : await this.#o.store.get(Keys.peer(roomId, peerId)).catch(() => null);
    // Router before the room write, and no await between the write and attach: room events after
    // the write reach this peer.
    const room = await this.#o.routers.acquire(roomId, peerId);
    let applied;
    try {
      await this.relay.watch(roomId);
      applied = await this.#o.rooms.apply(roomId, {
        type: 'peer.join',
        peer: {
          peerId,
          displayName: claims.displayName,
          role: claims.role,
          replicaId: this.#o.replicaId,
          joinedAt: Date.now(),
          ...languages,
          ...(claims.permissions ? { permissions: permissionsFor(claims.role, claims.permissions) } : {}),
        },
      });
    } catch (err) {
      this.#o.routers.release(roomId, peerId);
      if (existing) existing.send({ type: 'socket.closed', deadline: Date.now() + this.#o.reconnectGraceMs });
      throw err;
    }
    const resumed = existing !== undefined || applied.changes.some((c) => c.type === 'peerLeft' && c.peerId === peerId);
    const session = existing ?? this.#create({ ...claims, peerId, ...languages }, undefined, prior?.seq);
    if (existing) {
      session.send({ type: 'media.lost' });
      session.send({ type: 'peer.update', ...languages });
    }
    session.ownPermissions = applied.context.peers[peerId]?.permissions;
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

  /** The same identity joined through another replica: end the local session without touching the room. */
  movedAway(session: PeerSession): void {
    const link = this.#detach(session);
    if (link) {
      disconnectClient(link, createError(Errors.SESSION_REPLACED, 'joined through another replica'), { reconnect: false });
    }
    session.send({ type: 'peer.leave', reason: 'moved' });
  }

  /**
   * This replica was declared gone (paused past the staleness window): the others already removed
   * its peers. Ask every client to reconnect and forget the sessions without touching the rooms.
   */
  async fence(): Promise<void> {
    const err = createError(Errors.MEDIA_RESTART, 'this replica lost its place in the cluster');
    for (const session of this.all()) {
      const link = this.#detach(session);
      if (link) disconnectClient(link, err, { reconnect: true });
      session.actor.stop();
      this.#sessions.delete(sessionKey(session.roomId, session.peerId));
      await this.relay.unwatchIfIdle(session.roomId).catch(() => undefined);
    }
  }

  /** After Redis lost data: write every local peer back into its room, exactly as held here. */
  async reassertRooms(): Promise<void> {
    for (const session of this.all()) {
      session.reassert();
      const c = session.context;
      const peer: RoomPeer = {
        peerId: c.peerId,
        displayName: c.displayName,
        role: c.role,
        replicaId: this.#o.replicaId,
        spokenLanguage: c.spokenLanguage,
        listeningLanguage: c.listeningLanguage,
        joinedAt: c.joinedAt,
        ...(session.ownPermissions ? { permissions: session.ownPermissions } : {}),
        producers: Object.fromEntries(
          Object.entries(c.producers).map(([producerId, p]) => [producerId, { producerId, kind: p.kind, source: p.source, paused: p.paused, replicaId: this.#o.replicaId }]),
        ),
      };
      await this.#o.rooms.apply(c.roomId, { type: 'peer.restore', peer }).catch((err: unknown) => session.log.warn({ err }, 'could not re-assert peer in its room'));
    }
  }

  /** The socket went away without a leave: keep the peer for the reconnect grace. */
  socketClosed(session: PeerSession, link: ClientLink): void {
    if (session.link !== link) return;
    this.#detach(session);
    session.send({ type: 'socket.closed', deadline: Date.now() + this.#o.reconnectGraceMs });
    this.#applyQuietly(session.roomId, { type: 'peer.mediaLost', peerId: session.peerId, replicaId: this.#o.replicaId });
  }

  /** Re-creates a session from its persisted snapshot (gateway restart); the peer must reconnect. */
  adopt(roomId: string, peerId: string, persisted: { snapshot: Snapshot<unknown>; seq: number }): PeerSession {
    const ctx = (persisted.snapshot as unknown as { context: PeerSession['context'] }).context;
    const session = this.#create(ctx, persisted);
    if (session.state === 'connected') session.send({ type: 'socket.closed', deadline: Date.now() + this.#o.reconnectGraceMs });
    this.#applyQuietly(roomId, { type: 'peer.mediaLost', peerId, replicaId: this.#o.replicaId });
    this.relay.watch(roomId).catch((err: unknown) => session.log.warn({ err }, 'could not subscribe to room events'));
    return session;
  }

  #create(input: Parameters<typeof this.newSessionInput>[0], restoreFrom?: { snapshot: Snapshot<unknown>; seq: number }, startSeq?: number): PeerSession {
    const session = new PeerSession({
      store: this.#o.store,
      log: this.#log,
      input: this.newSessionInput(input),
      restoreFrom,
      startSeq,
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
    const movedAway = session.context.endReason === 'moved';
    if (!movedAway) {
      try {
        await this.#o.rooms.apply(session.roomId, { type: 'peer.leave', peerId: session.peerId, replicaId: this.#o.replicaId });
      } catch (err) {
        if (!isGone(err)) session.log.error({ err }, 'could not remove peer from room');
      }
    }
    // A peer that moved to another replica lives on there, with its snapshot.
    await (movedAway ? session.stop() : session.remove()).catch((err: unknown) => session.log.error({ err }, 'could not delete peer snapshot'));
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
    disconnectClient(old, createError(Errors.SESSION_REPLACED), { reconnect: false });
  }

  /** Keeps the peer actor in step with the media objects (producers: see the constructor). */
  #wireMedia(session: PeerSession, media: PeerMedia): void {
    const live = () => session.media === media;
    media.observer.on('transportclosed', (transportId) => {
      if (live()) session.send({ type: 'transport.closed', transportId });
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
    await this.#o.producers.settle();
    await Promise.all(this.all().map((s) => s.flush()));
    for (const s of this.all()) s.actor.stop();
  }

  /** A worker died under a room: its local peers reconnect and get a router on a live worker. */
  #onRouterLost(roomId: string, peerIds: string[]): void {
    const err = createError(Errors.MEDIA_RESTART);
    for (const peerId of peerIds) this.get(roomId, peerId)?.disconnect(err, { reconnect: true });
  }
}
