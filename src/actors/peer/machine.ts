import { assign, fromCallback, setup } from 'xstate';
import type { MediaKind, PeerRole } from '../../protocol/messages.js';

/**
 * The peer actor: one participant's session on the replica that holds its
 * socket. Its context records ids of the media it owns (the mediasoup objects
 * themselves stay in the PeerSession). When the socket drops it waits, until an
 * absolute deadline, for the same identity to reconnect; the timer is an invoked
 * actor, so restoring a snapshot in `disconnected` re-arms it.
 */
export const PEER_MACHINE_VERSION = 1;

export type PeerContext = {
  peerId: string;
  roomId: string;
  replicaId: string;
  displayName: string;
  role: PeerRole;
  spokenLanguage: string;
  listeningLanguage: string;
  joinedAt: number;
  transports: Record<string, { direction: 'send' | 'recv'; connected: boolean }>;
  producers: Record<string, { kind: MediaKind; source: string; paused: boolean }>;
  consumers: Record<string, { producerId: string; kind: MediaKind; paused: boolean }>;
  /** Absolute time (ms since epoch) after which a disconnected peer is removed. */
  reconnectDeadline: number | null;
  /** How the peer ended: 'left', 'grace-expired', 'replaced', 'removed'. */
  endReason: string | null;
};

export type PeerInput = Omit<PeerContext, 'transports' | 'producers' | 'consumers' | 'reconnectDeadline' | 'endReason'>;

export type PeerEvent =
  | { type: 'transport.created'; transportId: string; direction: 'send' | 'recv' }
  | { type: 'transport.connected'; transportId: string }
  | { type: 'transport.closed'; transportId: string }
  | { type: 'producer.created'; producerId: string; kind: MediaKind; source: string }
  | { type: 'producer.closed'; producerId: string }
  | { type: 'producer.paused'; producerId: string; paused: boolean }
  | { type: 'consumer.created'; consumerId: string; producerId: string; kind: MediaKind }
  | { type: 'consumer.closed'; consumerId: string }
  | { type: 'consumer.paused'; consumerId: string; paused: boolean }
  | { type: 'peer.update'; spokenLanguage?: string; listeningLanguage?: string }
  | { type: 'socket.closed'; deadline: number }
  | { type: 'socket.resumed' }
  | { type: 'media.lost' }
  | { type: 'peer.graceExpired' }
  | { type: 'peer.leave'; reason: string };

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = record;
  return rest;
}

const noMedia = { transports: {}, producers: {}, consumers: {} } as const;

export const peerMachine = setup({
  types: {
    context: {} as PeerContext,
    events: {} as PeerEvent,
    input: {} as PeerInput,
  },
  actors: {
    /** Fires peer.graceExpired at the absolute deadline (immediately if already past). */
    graceTimer: fromCallback<PeerEvent, number>(({ input, sendBack }) => {
      const t = setTimeout(() => sendBack({ type: 'peer.graceExpired' }), Math.max(0, input - Date.now()));
      return () => clearTimeout(t);
    }),
  },
  actions: {
    clearMedia: assign(() => ({ ...noMedia })),
  },
}).createMachine({
  id: 'peer',
  context: ({ input }) => ({ ...input, ...noMedia, reconnectDeadline: null, endReason: null }),
  initial: 'connected',
  on: {
    'peer.leave': { target: '.left', actions: assign({ endReason: ({ event }) => event.reason }) },
  },
  states: {
    connected: {
      on: {
        'transport.created': {
          actions: assign({
            transports: ({ context, event }) => ({ ...context.transports, [event.transportId]: { direction: event.direction, connected: false } }),
          }),
        },
        'transport.connected': {
          guard: ({ context, event }) => event.transportId in context.transports,
          actions: assign({
            transports: ({ context, event }) => ({ ...context.transports, [event.transportId]: { ...context.transports[event.transportId]!, connected: true } }),
          }),
        },
        'transport.closed': { actions: assign({ transports: ({ context, event }) => without(context.transports, event.transportId) }) },
        'producer.created': {
          actions: assign({
            producers: ({ context, event }) => ({ ...context.producers, [event.producerId]: { kind: event.kind, source: event.source, paused: false } }),
          }),
        },
        'producer.closed': { actions: assign({ producers: ({ context, event }) => without(context.producers, event.producerId) }) },
        'producer.paused': {
          guard: ({ context, event }) => event.producerId in context.producers,
          actions: assign({
            producers: ({ context, event }) => ({ ...context.producers, [event.producerId]: { ...context.producers[event.producerId]!, paused: event.paused } }),
          }),
        },
        'consumer.created': {
          actions: assign({
            consumers: ({ context, event }) => ({ ...context.consumers, [event.consumerId]: { producerId: event.producerId, kind: event.kind, paused: true } }),
          }),
        },
        'consumer.closed': { actions: assign({ consumers: ({ context, event }) => without(context.consumers, event.consumerId) }) },
        'consumer.paused': {
          guard: ({ context, event }) => event.consumerId in context.consumers,
          actions: assign({
            consumers: ({ context, event }) => ({ ...context.consumers, [event.consumerId]: { ...context.consumers[event.consumerId]!, paused: event.paused } }),
          }),
        },
        'peer.update': {
          actions: assign({
            spokenLanguage: ({ context, event }) => event.spokenLanguage ?? context.spokenLanguage,
            listeningLanguage: ({ context, event }) => event.listeningLanguage ?? context.listeningLanguage,
          }),
        },
        'media.lost': { actions: 'clearMedia' },
        'socket.closed': {
          target: 'disconnected',
          actions: ['clearMedia', assign({ reconnectDeadline: ({ event }) => event.deadline })],
        },
      },
    },
    disconnected: {
      invoke: { src: 'graceTimer', input: ({ context }) => context.reconnectDeadline ?? 0 },
      on: {
        'socket.resumed': { target: 'connected', actions: assign({ reconnectDeadline: null }) },
        'peer.graceExpired': { target: 'left', actions: assign({ endReason: 'grace-expired' }) },
      },
    },
    left: { type: 'final' },
  },
});
