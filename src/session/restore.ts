import type { RoomStore } from '../actors/room/RoomStore.js';
import { peerCodec } from '../actors/peer/codec.js';
import type { Logger } from '../logger.js';
import { Keys } from '../state/keys.js';
import type { Store } from '../state/Store.js';
import type { SessionManager } from './SessionManager.js';

export type RestoreReport = { rooms: number; restored: number; removed: number; orphanKeys: number };

/**
 * Boot-time recovery of this replica's peers from Redis: each peer the room
 * actor places on this replica comes back as a disconnected session whose
 * grace deadline is re-armed; peers without a readable snapshot are removed
 * from their room, and peer snapshots no room knows of are deleted.
 */
export async function restoreSessions(options: {
  store: Store;
  rooms: RoomStore;
  sessions: SessionManager;
  replicaId: string;
  log: Logger;
}): Promise<RestoreReport> {
  const { store, rooms, sessions, replicaId } = options;
  const log = options.log.child({ module: 'restore' });
  const report: RestoreReport = { rooms: 0, restored: 0, removed: 0, orphanKeys: 0 };
  const known = new Set<string>();
  for (const roomId of await rooms.list()) {
    const room = await rooms.get(roomId);
    if (!room) {
      await store.setRemove(Keys.roomIndex(), roomId);
      continue;
    }
    report.rooms += 1;
    for (const peer of Object.values(room.peers)) {
      known.add(Keys.peer(roomId, peer.peerId));
      if (peer.replicaId !== replicaId || sessions.get(roomId, peer.peerId)) continue;
      const rec = await store.get(Keys.peer(roomId, peer.peerId));
      try {
        if (!rec) throw new Error('no snapshot');
        sessions.adopt(roomId, peer.peerId, { snapshot: peerCodec.decode(rec.doc), seq: rec.seq });
        report.restored += 1;
      } catch (err) {
        log.warn({ err, roomId, peerId: peer.peerId }, 'peer not restorable; removing it from the room');
        await rooms.apply(roomId, { type: 'peer.leave', peerId: peer.peerId }).catch(() => undefined);
        report.removed += 1;
      }
    }
  }
  for (const key of await store.keys(Keys.allPeersPattern())) {
    if (known.has(key)) continue;
    // Re-read the room: a peer may have joined since the scan began.
    const m = /\{room:(.+)\}:peer:(.+)$/.exec(key);
    const room = m ? await rooms.get(m[1]!) : null;
    if (m && room && Object.hasOwn(room.peers, m[2]!)) continue;
    await store.del(key);
    report.orphanKeys += 1;
  }
  log.info(report, 'restored sessions from Redis');
  return report;
}
