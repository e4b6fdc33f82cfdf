import { assign, setup } from 'xstate';
import { permissionsFor, publishPermission } from '../../auth/permissions.js';
import type { MediaKind, PeerPermissions, PeerRole, VideoLayout } from '../../protocol/messages.js';

/**
 * The room actor: who is in a room, on which replica, producing what.
 * Pure (no I/O). It is a distributed actor: any replica applies an event to the
 * newest snapshot with a compare-and-set in Redis (RoomStore), so membership is
 * the same for every replica and writes are strictly ordered.
 */
export const ROOM_MACHINE_VERSION = 1;

export type RoomProducer = {
  producerId: string;
  kind: MediaKind;
  source: string;
  paused: boolean;
  replicaId: string;
  /** Video: the sender's layers (what viewers' layer choice needs, on any replica). */
  video?: VideoLayout;
};

export type RoomPeer = {
  peerId: string;
  displayName: string;
  role: PeerRole;
  replicaId: string;
  spokenLanguage: string;
  listeningLanguage: string;
  joinedAt: number;
  /** Set when they differ from the role's (a token's own, or a moderator's change); see `peerPermissions`. */
  permissions?: PeerPermissions;
  producers: Record<string, RoomProducer>;
};

/** What a peer of the room may do: its own permissions, else its role's. */
export function peerPermissions(peer: Pick<RoomPeer, 'role' | 'permissions'>): PeerPermissions {
  return peer.permissions ?? permissionsFor(peer.role);
}

export type RoomContext = {
  roomId: string;
  maxPeers: number;
  createdAt: number;
  peers: Record<string, RoomPeer>;
};

export type RoomInput = { roomId: string; maxPeers: number; now: number };

export type RoomEvent =
  | { type: 'peer.join'; peer: Omit<RoomPeer, 'producers'> }
  | { type: 'peer.update'; peerId: string; spokenLanguage?: string; listeningLanguage?: string }
  /** `replicaId`, when given, must still host the peer: a peer that moved is not removed by its old replica. */
  | { type: 'peer.leave'; peerId: string; replicaId?: string }
  | { type: 'peer.mediaLost'; peerId: string; replicaId?: string }
  /** Re-asserts a peer exactly as its replica holds it (after Redis lost data); not a rejoin. */
  | { type: 'peer.restore'; peer: RoomPeer }
  | { type: 'producer.add'; peerId: string; producer: RoomProducer }
  | { type: 'producer.close'; peerId: string; producerId: string }
  | { type: 'producer.pause'; peerId: string; producerId: string; paused: boolean }
  /** A moderator changed what the peer may do (kept across its rejoins). */
  | { type: 'peer.permissions'; peerId: string; permissions: PeerPermissions }
  | { type: 'replica.gone'; replicaId: string };

/** Why the room refuses an event, or null when it accepts it. Guards and error replies share this. */
export function roomRejection(ctx: RoomContext, event: RoomEvent): 'ROOM_FULL' | 'UNKNOWN_PEER' | 'UNKNOWN_PRODUCER' | 'FORBIDDEN' | null {
  switch (event.type) {
    case 'peer.join': {
      const rejoin = Object.hasOwn(ctx.peers, event.peer.peerId);
      return !rejoin && Object.keys(ctx.peers).length >= ctx.maxPeers ? 'ROOM_FULL' : null;
    }
    case 'peer.restore': {
      const known = Object.hasOwn(ctx.peers, event.peer.peerId);
      return !known && Object.keys(ctx.peers).length >= ctx.maxPeers ? 'ROOM_FULL' : null;
    }
    case 'peer.leave':
    case 'peer.mediaLost': {
      const peer = own(ctx.peers, event.peerId);
      return peer && (event.replicaId === undefined || peer.replicaId === event.replicaId) ? null : 'UNKNOWN_PEER';
    }
    case 'peer.update':
    case 'peer.permissions':
      return Object.hasOwn(ctx.peers, event.peerId) ? null : 'UNKNOWN_PEER';
    case 'producer.add': {
      const peer = own(ctx.peers, event.peerId);
      if (!peer) return 'UNKNOWN_PEER';
      const needs = publishPermission(event.producer.source);
      return needs && !peerPermissions(peer)[needs] ? 'FORBIDDEN' : null;
    }
    case 'producer.close':
    case 'producer.pause': {
      const peer = own(ctx.peers, event.peerId);
      if (!peer) return 'UNKNOWN_PEER';
      return Object.hasOwn(peer.producers, event.producerId) ? null : 'UNKNOWN_PRODUCER';
    }
    case 'replica.gone':
      return null;
  }
}

/** Own-property lookup: peer and producer ids are client-chosen strings ('constructor' included). */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function withPeer(ctx: RoomContext, peerId: string, change: (p: RoomPeer) => RoomPeer): Record<string, RoomPeer> {
  return { ...ctx.peers, [peerId]: change(ctx.peers[peerId]!) };
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = record;
  return rest;
}

function peersLeftAfter(ctx: RoomContext, event: RoomEvent): number {
  if (event.type === 'peer.leave') return Object.keys(ctx.peers).filter((id) => id !== event.peerId).length;
  if (event.type === 'replica.gone') return Object.values(ctx.peers).filter((p) => p.replicaId !== event.replicaId).length;
  return Object.keys(ctx.peers).length;
}

export const roomMachine = setup({
  types: {
    context: {} as RoomContext,
    events: {} as RoomEvent,
    input: {} as RoomInput,
  },
  guards: {
    accepted: ({ context, event }) => roomRejection(context, event) === null,
    emptiesRoom: ({ context, event }) => roomRejection(context, event) === null && peersLeftAfter(context, event) === 0,
  },
  actions: {
    addPeer: assign({
      peers: ({ context, event }) => {
        if (event.type !== 'peer.join') return context.peers;
        // A rejoin (reconnect, maybe through another replica) starts with no media: the old one is gone. It keeps
        // what a moderator set, whatever its token says.
        const kept = own(context.peers, event.peer.peerId)?.permissions;
        return { ...context.peers, [event.peer.peerId]: { ...event.peer, ...(kept ? { permissions: kept } : {}), producers: {} } };
      },
    }),
    // A restore re-asserts a live session (Redis came back, or a promoted replica lacked a write): for a peer
    // the room still holds it is the same membership, so the room keeps its joinedAt and nobody reads it as a
    // rejoin (left then joined), which would make the other replicas drop and re-pipe its producers.
    restorePeer: assign({
      peers: ({ context, event }) => {
        if (event.type !== 'peer.restore') return context.peers;
        const known = own(context.peers, event.peer.peerId);
        return { ...context.peers, [event.peer.peerId]: known ? { ...event.peer, joinedAt: known.joinedAt } : event.peer };
      },
    }),
    updatePeer: assign({
      peers: ({ context, event }) => {
        if (event.type !== 'peer.update') return context.peers;
        return withPeer(context, event.peerId, (p) => ({
          ...p,
          spokenLanguage: event.spokenLanguage ?? p.spokenLanguage,
          listeningLanguage: event.listeningLanguage ?? p.listeningLanguage,
        }));
      },
    }),
    setPermissions: assign({
      peers: ({ context, event }) => (event.type === 'peer.permissions' ? withPeer(context, event.peerId, (p) => ({ ...p, permissions: event.permissions })) : context.peers),
    }),
    removePeer: assign({
      peers: ({ context, event }) => (event.type === 'peer.leave' ? without(context.peers, event.peerId) : context.peers),
    }),
    clearProducers: assign({
      peers: ({ context, event }) =>
        event.type === 'peer.mediaLost' ? withPeer(context, event.peerId, (p) => ({ ...p, producers: {} })) : context.peers,
    }),
    addProducer: assign({
      peers: ({ context, event }) => {
        if (event.type !== 'producer.add') return context.peers;
        return withPeer(context, event.peerId, (p) => ({ ...p, producers: { ...p.producers, [event.producer.producerId]: event.producer } }));
      },
    }),
    removeProducer: assign({
      peers: ({ context, event }) => {
        if (event.type !== 'producer.close') return context.peers;
        return withPeer(context, event.peerId, (p) => ({ ...p, producers: without(p.producers, event.producerId) }));
      },
    }),
    setProducerPaused: assign({
      peers: ({ context, event }) => {
        if (event.type !== 'producer.pause') return context.peers;
        return withPeer(context, event.peerId, (p) => ({
          ...p,
          producers: { ...p.producers, [event.producerId]: { ...p.producers[event.producerId]!, paused: event.paused } },
        }));
      },
    }),
    removeReplicaPeers: assign({
      peers: ({ context, event }) => {
        if (event.type !== 'replica.gone') return context.peers;
        return Object.fromEntries(Object.entries(context.peers).filter(([, p]) => p.replicaId !== event.replicaId));
      },
    }),
  },
}).createMachine({
  id: 'room',
  context: ({ input }) => ({ roomId: input.roomId, maxPeers: input.maxPeers, createdAt: input.now, peers: {} }),
  initial: 'open',
  states: {
    open: {
      on: {
        'peer.join': { guard: 'accepted', actions: 'addPeer' },
        'peer.restore': { guard: 'accepted', actions: 'restorePeer' },
        'peer.update': { guard: 'accepted', actions: 'updatePeer' },
        'peer.permissions': { guard: 'accepted', actions: 'setPermissions' },
        'peer.leave': [
          { guard: 'emptiesRoom', target: 'closed', actions: 'removePeer' },
          { guard: 'accepted', actions: 'removePeer' },
        ],
        'peer.mediaLost': { guard: 'accepted', actions: 'clearProducers' },
        'producer.add': { guard: 'accepted', actions: 'addProducer' },
        'producer.close': { guard: 'accepted', actions: 'removeProducer' },
        'producer.pause': { guard: 'accepted', actions: 'setProducerPaused' },
        'replica.gone': [
          { guard: 'emptiesRoom', target: 'closed', actions: 'removeReplicaPeers' },
          { actions: 'removeReplicaPeers' },
        ],
      },
    },
    /** Last peer gone: the host deletes the room's keys. */
    closed: { type: 'final' },
  },
});
