import type { RoomStore } from '../actors/room/RoomStore.js';
import type { Logger } from '../logger.js';
import { Keys } from '../state/keys.js';
import type { Store } from '../state/Store.js';

/**
 * Clean-up after a replica that stopped heartbeating, done by the one replica
 * that won its removal from the registry: its peers leave every room (the
 * others are told through the room events), their snapshots and the dead
 * replica's own keys are deleted. (Its AI results queue is the AI pipeline's
 * to drop: `dropResultsQueue`, wired on `replicareaped`.)
 */
export async function reapReplica(options: { store: Store; rooms: RoomStore; deadReplicaId: string; log: Logger }): Promise<{ rooms: number; peers: number }> {
  const { store, rooms, deadReplicaId } = options;
  let roomCount = 0;
  let peerCount = 0;
  for (const roomId of await rooms.list()) {
    const room = await rooms.get(roomId);
    const orphans = room ? Object.values(room.peers).filter((p) => p.replicaId === deadReplicaId) : [];
    if (orphans.length === 0) continue;
    await rooms.apply(roomId, { type: 'replica.gone', replicaId: deadReplicaId }).catch(() => undefined);
    // Delete their snapshots unless the peer already re-joined elsewhere.
    const after = await rooms.get(roomId);
    for (const p of orphans) {
      if (!after?.peers[p.peerId]) await store.del(Keys.peer(roomId, p.peerId));
    }
    roomCount += 1;
    peerCount += orphans.length;
  }
  const own = await store.keys(Keys.replicaPattern(deadReplicaId));
  if (own.length > 0) await store.del(...own);
  options.log.warn({ replica: deadReplicaId, rooms: roomCount, peers: peerCount, keys: own.length }, 'reaped a gone replica');
  return { rooms: roomCount, peers: peerCount };
}
