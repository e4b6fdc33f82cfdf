import { own, type RoomContext, type RoomPeer, type RoomProducer } from './machine.js';

/** What changed between two room snapshots, in the terms clients are notified in. */
export type RoomChange =
  | { type: 'peerJoined'; peer: RoomPeer }
  | { type: 'peerUpdated'; peer: RoomPeer }
  | { type: 'peerLeft'; peerId: string; replicaId: string }
  | { type: 'producerAdded'; peerId: string; producer: RoomProducer }
  | { type: 'producerRemoved'; peerId: string; producerId: string; replicaId: string }
  | { type: 'producerPaused'; peerId: string; producerId: string; paused: boolean };

const EMPTY: Record<string, RoomPeer> = {};

/** Pure diff; a peer that rejoined (new joinedAt) reads as left-then-joined. */
export function diffRoom(prev: RoomContext | null, next: RoomContext | null): RoomChange[] {
  const before = prev?.peers ?? EMPTY;
  const after = next?.peers ?? EMPTY;
  const changes: RoomChange[] = [];
  for (const [peerId, old] of Object.entries(before)) {
    const now = own(after, peerId);
    if (now && now.joinedAt === old.joinedAt) continue;
    for (const producerId of Object.keys(old.producers)) changes.push({ type: 'producerRemoved', peerId, producerId, replicaId: old.replicaId });
    changes.push({ type: 'peerLeft', peerId, replicaId: old.replicaId });
  }
  for (const [peerId, now] of Object.entries(after)) {
    const old = own(before, peerId);
    if (!old || old.joinedAt !== now.joinedAt) {
      changes.push({ type: 'peerJoined', peer: now });
      for (const producer of Object.values(now.producers)) changes.push({ type: 'producerAdded', peerId, producer });
      continue;
    }
    const permissionsChanged = JSON.stringify(old.permissions ?? null) !== JSON.stringify(now.permissions ?? null);
    if (old.spokenLanguage !== now.spokenLanguage || old.listeningLanguage !== now.listeningLanguage || old.displayName !== now.displayName || permissionsChanged) {
      changes.push({ type: 'peerUpdated', peer: now });
    }
    for (const [producerId, p] of Object.entries(old.producers)) {
      const q = own(now.producers, producerId);
      if (!q) changes.push({ type: 'producerRemoved', peerId, producerId, replicaId: p.replicaId });
      else if (q.paused !== p.paused) changes.push({ type: 'producerPaused', peerId, producerId, paused: q.paused });
    }
    for (const [producerId, q] of Object.entries(now.producers)) {
      if (!own(old.producers, producerId)) changes.push({ type: 'producerAdded', peerId, producer: q });
    }
  }
  return changes;
}
