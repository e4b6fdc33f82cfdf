import { peerPermissions, type RoomContext, type RoomPeer } from '../actors/room/machine.js';
import type { RoomStore } from '../actors/room/RoomStore.js';
import { targetsFor } from '../ai/gateway/Interpreter.js';
import type { ReplicaRpc } from '../cluster/ReplicaRpc.js';
import { Errors, createError } from '../errors.js';
import type { PeerPermissions } from '../protocol/messages.js';
import type { Moderation } from '../session/Moderation.js';
import type { ApiParticipant, ApiRoom, ApiTrack, RoomAdmin } from './types.js';

/**
 * The server API's and moderators' view and acts, served by any replica: reads come from the room actor in
 * Redis; an act on a peer runs on the replica hosting it (here, or there through the replica RPC).
 */
export class ClusterRoomAdmin implements RoomAdmin {
  readonly #rooms: RoomStore;
  readonly #rpc: ReplicaRpc;
  readonly #moderation: Moderation;
  readonly #self: string;

  constructor(o: { rooms: RoomStore; rpc: ReplicaRpc; moderation: Moderation; replicaId: string }) {
    this.#rooms = o.rooms;
    this.#rpc = o.rpc;
    this.#moderation = o.moderation;
    this.#self = o.replicaId;
    // The hosting replica's side of the acts.
    o.rpc.handle('moderation.remove', async (p) => (await o.moderation.remove(p.roomId, p.peerId, p.reason), {}));
    o.rpc.handle('moderation.mute', (p) => o.moderation.mute(p.roomId, p.peerId, p.producerId, p.muted));
    o.rpc.handle('moderation.permissions', async (p) => (await o.moderation.setPermissions(p.roomId, p.peerId, p.permissions), {}));
    o.rpc.handle('moderation.closeRoom', async (p) => (await o.moderation.closeRoom(p.roomId, p.reason, p.spare), {}));
  }

  async listRooms(): Promise<ApiRoom[]> {
    const rooms = await Promise.all((await this.#rooms.list()).map((id) => this.#rooms.get(id)));
    return rooms.filter((r): r is RoomContext => r !== null).map(toApiRoom);
  }

  async getRoom(roomId: string): Promise<ApiRoom> {
    return toApiRoom(await this.#room(roomId));
  }

  async listParticipants(roomId: string): Promise<ApiParticipant[]> {
    return Object.values((await this.#room(roomId)).peers).map(toApiParticipant);
  }

  async getParticipant(roomId: string, identity: string): Promise<ApiParticipant> {
    return toApiParticipant(await this.#peer(roomId, identity));
  }

  async removeParticipant(roomId: string, identity: string, reason: string): Promise<void> {
    const peer = await this.#peer(roomId, identity);
    if (peer.replicaId === this.#self) await this.#moderation.remove(roomId, identity, reason);
    else await this.#rpc.request(peer.replicaId, 'moderation.remove', { roomId, peerId: identity, reason });
  }

  async muteTrack(roomId: string, identity: string, trackId: string, muted: boolean): Promise<ApiTrack> {
    const peer = await this.#peer(roomId, identity);
    if (!Object.hasOwn(peer.producers, trackId)) throw createError(Errors.PRODUCER_NOT_FOUND, trackId);
    if (peer.replicaId === this.#self) return this.#moderation.mute(roomId, identity, trackId, muted);
    return this.#rpc.request(peer.replicaId, 'moderation.mute', { roomId, peerId: identity, producerId: trackId, muted });
  }

  async updatePermissions(roomId: string, identity: string, permissions: Partial<PeerPermissions>): Promise<ApiParticipant> {
    const peer = await this.#peer(roomId, identity);
    if (peer.replicaId === this.#self) await this.#moderation.setPermissions(roomId, identity, permissions);
    else await this.#rpc.request(peer.replicaId, 'moderation.permissions', { roomId, peerId: identity, permissions });
    return this.getParticipant(roomId, identity);
  }

  /** Every replica hosting peers of the room ends it for them; the room closes with its last peer. */
  async closeRoom(roomId: string, reason: string, options: { spare?: string } = {}): Promise<void> {
    const room = await this.#room(roomId);
    const spare = options.spare ? [options.spare] : [];
    const replicas = new Set(Object.values(room.peers).map((p) => p.replicaId));
    await Promise.all(
      [...replicas].map((replicaId) =>
        replicaId === this.#self
          ? this.#moderation.closeRoom(roomId, reason, spare)
          : this.#rpc.request(replicaId, 'moderation.closeRoom', { roomId, reason, spare }),
      ),
    );
  }

  async #room(roomId: string): Promise<RoomContext> {
    const room = await this.#rooms.get(roomId);
    if (!room) throw createError(Errors.ROOM_NOT_FOUND, roomId);
    return room;
  }

  async #peer(roomId: string, identity: string): Promise<RoomPeer> {
    const peers = (await this.#room(roomId)).peers;
    if (!Object.hasOwn(peers, identity)) throw createError(Errors.PARTICIPANT_NOT_FOUND, `${identity} in ${roomId}`);
    return peers[identity]!;
  }
}

function toApiRoom(room: RoomContext): ApiRoom {
  const peers = Object.values(room.peers);
  return {
    roomId: room.roomId,
    createdAt: room.createdAt,
    participants: peers.length,
    replicas: [...new Set(peers.map((p) => p.replicaId))].sort(),
    translation: peers.some((p) => targetsFor(room, p.peerId).length > 0),
  };
}

function toApiParticipant(peer: RoomPeer): ApiParticipant {
  return {
    identity: peer.peerId,
    name: peer.displayName,
    role: peer.role,
    permissions: peerPermissions(peer),
    replicaId: peer.replicaId,
    spokenLanguage: peer.spokenLanguage,
    listeningLanguage: peer.listeningLanguage,
    joinedAt: peer.joinedAt,
    tracks: Object.values(peer.producers).map((p) => ({ trackId: p.producerId, kind: p.kind, source: p.source, muted: p.paused })),
  };
}
