import { createActor, type Actor, type Snapshot } from 'xstate';
import { peerCodec } from '../actors/peer/codec.js';
import { peerMachine, type PeerContext, type PeerEvent, type PeerInput } from '../actors/peer/machine.js';
import { permissionsFor } from '../auth/permissions.js';
import type { Logger } from '../logger.js';
import type { ParleyError } from '../errors.js';
import { CLOSE_CODES, type NotificationMap, type NotificationName, type PeerPermissions, type ResponseMessage } from '../protocol/messages.js';
import { Keys } from '../state/keys.js';
import { SnapshotWriter } from '../state/SnapshotWriter.js';
import type { Store } from '../state/Store.js';
import type { PeerMedia } from './PeerMedia.js';
import type { TokenUse } from './tokenUse.js';

/** The socket side of a session, as the edge provides it. */
export interface ClientLink {
  send(message: ResponseMessage | { type: 'notification'; method: string; data: unknown }): void;
  close(code: number, reason: string): void;
}

/**
 * Ends a client's connection with a reason it can act on: the `disconnecting` notification (the
 * error's code and message, whether to reconnect, and where), then the socket closed with
 * `goingAway` when it should come back, `replaced` when it should not (or `closeCode`).
 */
export function disconnectClient(link: ClientLink, err: ParleyError, how: { reconnect: boolean; url?: string; closeCode?: number }): void {
  const data: NotificationMap['disconnecting'] = { code: err.code, message: err.message, reconnect: how.reconnect, ...(how.url ? { url: how.url } : {}) };
  link.send({ type: 'notification', method: 'disconnecting', data });
  link.close(how.closeCode ?? (how.reconnect ? CLOSE_CODES.goingAway : CLOSE_CODES.replaced), err.code);
}

export type PeerSessionOptions = {
  store: Store;
  log: Logger;
  input: PeerInput;
  /** Sequence number to continue from (the peer's snapshot written by another replica). */
  startSeq?: number;
  /** Restore from this persisted snapshot instead of starting fresh. */
  restoreFrom?: { snapshot: Snapshot<unknown>; seq: number };
  /** Called once when the peer actor reaches its final state. */
  onEnd: (session: PeerSession) => void;
};

/**
 * One participant on this replica: the peer actor (persisted after every
 * transition), its socket link while connected and its mediasoup objects.
 */
export class PeerSession {
  readonly roomId: string;
  readonly peerId: string;
  readonly log: Logger;
  readonly actor: Actor<typeof peerMachine>;
  readonly #writer: SnapshotWriter;
  #link: ClientLink | null = null;
  #media: PeerMedia | null = null;
  /** Room events with a seq at or below this were already reflected in the join response. */
  joinSeq = 0;
  /** The single-use token this peer joined with, spent when it leaves or is removed. */
  tokenUse: TokenUse | undefined;
  /** The room entry's own permissions (a token's or a moderator's); undefined = the role's. */
  ownPermissions: PeerPermissions | undefined;

  constructor(options: PeerSessionOptions) {
    this.roomId = options.input.roomId;
    this.peerId = options.input.peerId;
    this.log = options.log.child({ roomId: this.roomId, peerId: this.peerId });
    this.#writer = new SnapshotWriter({
      store: options.store,
      key: Keys.peer(this.roomId, this.peerId),
      log: this.log,
      startSeq: options.restoreFrom?.seq ?? options.startSeq ?? 0,
    });
    this.actor = options.restoreFrom
      ? createActor(peerMachine, { snapshot: options.restoreFrom.snapshot, input: options.input })
      : createActor(peerMachine, { input: options.input });
    let ended = false;
    this.actor.subscribe((snap) => {
      if (snap.status === 'done') {
        if (!ended) {
          ended = true;
          options.onEnd(this);
        }
        return;
      }
      this.#writer.write(peerCodec.encode(this.actor.getPersistedSnapshot()));
    });
    this.actor.start();
  }

  get context(): PeerContext {
    return this.actor.getSnapshot().context;
  }

  get state(): string {
    return String(this.actor.getSnapshot().value);
  }

  /** What this peer may do (docs/permissions.md). */
  get permissions(): PeerPermissions {
    return this.ownPermissions ?? permissionsFor(this.context.role);
  }

  get link(): ClientLink | null {
    return this.#link;
  }

  get media(): PeerMedia | null {
    return this.#media;
  }

  send(event: PeerEvent): void {
    this.actor.send(event);
  }

  attach(link: ClientLink, media: PeerMedia, joinSeq: number): void {
    if (this.#media !== media) this.#media?.close();
    this.#link = link;
    this.#media = media;
    this.joinSeq = joinSeq;
  }

  /** Forgets the socket and closes the media; returns the link that was attached. */
  detach(): ClientLink | null {
    const link = this.#link;
    this.#link = null;
    this.#media?.close();
    this.#media = null;
    return link;
  }

  /** Asks the connected client to go (see disconnectClient); false when no client is connected. */
  disconnect(err: ParleyError, how: { reconnect: boolean; url?: string }): boolean {
    if (!this.#link) return false;
    disconnectClient(this.#link, err, how);
    return true;
  }

  notify<N extends NotificationName>(method: N, data: NotificationMap[N]): void {
    this.#link?.send({ type: 'notification', method, data });
  }

  /** Writes again the last snapshot (after a Redis restart). */
  reassert(): void {
    this.#writer.reassert();
  }

  async flush(): Promise<void> {
    await this.#writer.flush();
  }

  /** Stops the actor; its snapshot stays (the peer lives on elsewhere). */
  async stop(): Promise<void> {
    this.actor.stop();
    await this.#writer.flush();
  }

  /** Stops the actor and deletes its snapshot. */
  async remove(): Promise<void> {
    this.actor.stop();
    await this.#writer.remove();
  }
}
