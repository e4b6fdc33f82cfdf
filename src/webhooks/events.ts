/**
 * Pure: the webhook events one room transition makes (RoomStore's `applied`), in the order receivers get
 * them. Translated voices (`translation:<lang>` producers) are translation events, not tracks.
 */
import { createHash } from 'node:crypto';
import type { RoomApplied } from '../actors/room/RoomStore.js';
import type { RoomContext, RoomPeer } from '../actors/room/machine.js';
import type { WebhookEvent } from '../api/types.js';

export const TRANSLATION_SOURCE_PREFIX = 'translation:';

/** One room transition's deliveries: a queue job (delivered in the room's seq order, even when empty). */
export type TransitionJob = {
  roomId: string;
  /** The transition's seq; the room's previous transition is seq - 1 unless `created`. */
  seq: number;
  created: boolean;
  events: WebhookEvent[];
};

/** Short, opaque and stable: ids must not carry ":" (BullMQ) and room ids may change their rules. */
function roomTag(roomId: string): string {
  return createHash('sha256').update(roomId).digest('hex').slice(0, 16);
}

/** BullMQ job id of a room's transition `seq` (re-adding it is a no-op while the job is kept). */
export function transitionJobId(roomId: string, seq: number): string {
  return `wh_${roomTag(roomId)}_${seq}`;
}

function participant(peer: RoomPeer | undefined, peerId: string, replicaId: string): NonNullable<WebhookEvent['participant']> {
  return { identity: peerId, name: peer?.displayName ?? peerId, role: peer?.role ?? 'speaker', replicaId: peer?.replicaId ?? replicaId };
}

type Draft = Omit<WebhookEvent, 'id' | 'roomId' | 'seq' | 'createdAt'>;

/** A producer entering or leaving the room: a track, or a translated voice. */
function producerDraft(on: boolean, peerId: string, producer: { producerId: string; kind: 'audio' | 'video'; source: string } | undefined, owner: RoomPeer | undefined, replicaId: string): Draft | null {
  if (!producer) return null;
  if (producer.source.startsWith(TRANSLATION_SOURCE_PREFIX)) {
    const language = producer.source.slice(TRANSLATION_SOURCE_PREFIX.length);
    return { event: on ? 'translation_started' : 'translation_stopped', translation: { speakerIdentity: peerId, language } };
  }
  return {
    event: on ? 'track_published' : 'track_unpublished',
    participant: participant(owner, peerId, replicaId),
    track: { trackId: producer.producerId, kind: producer.kind, source: producer.source },
  };
}

function drafts(a: RoomApplied): Draft[] {
  const before: RoomContext['peers'] = a.before?.peers ?? {};
  const peerBefore = (peerId: string) => (Object.hasOwn(before, peerId) ? before[peerId] : undefined);
  const peerAfter = (peerId: string) => (Object.hasOwn(a.after.peers, peerId) ? a.after.peers[peerId] : undefined);
  const out: Array<Draft | null> = a.created ? [{ event: 'room_started' }] : [];
  for (const c of a.changes) {
    switch (c.type) {
      case 'peerJoined':
        out.push({ event: 'participant_joined', participant: participant(c.peer, c.peer.peerId, c.peer.replicaId) });
        break;
      case 'peerLeft':
        out.push({ event: 'participant_left', participant: participant(peerBefore(c.peerId), c.peerId, c.replicaId) });
        break;
      case 'producerAdded':
        out.push(producerDraft(true, c.peerId, c.producer, peerAfter(c.peerId), c.producer.replicaId));
        break;
      case 'producerRemoved': {
        const owner = peerBefore(c.peerId);
        const producer = owner && Object.hasOwn(owner.producers, c.producerId) ? owner.producers[c.producerId] : undefined;
        out.push(producerDraft(false, c.peerId, producer, owner, c.replicaId));
        break;
      }
      default:
        break; // peerUpdated, producerPaused: no webhook (yet)
    }
  }
  if (a.deleted) out.push({ event: 'room_finished' });
  return out.filter((d): d is Draft => d !== null);
}

/** The job for one transition: its events get ids `<job id>_<index>` and the transition's seq. */
export function transitionJob(roomId: string, a: RoomApplied): TransitionJob {
  const jobId = transitionJobId(roomId, a.seq);
  const events = drafts(a).map(({ event, ...rest }, i): WebhookEvent => ({ id: `${jobId}_${i}`, event, roomId, seq: a.seq, createdAt: a.at, ...rest }));
  return { roomId, seq: a.seq, created: a.created, events };
}
