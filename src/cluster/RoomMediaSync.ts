import type { RoomBusMessage, RoomStore } from '../actors/room/RoomStore.js';
import type { Logger } from '../logger.js';
import type { SessionManager } from '../session/SessionManager.js';
import type { PipeManager } from './PipeManager.js';

/**
 * Keeps this replica's media in step with room events from every replica:
 * pipes in remote producers while a local peer is in the room, drops piped
 * copies of closed producers, closes pipes toward replicas that left the room,
 * and ends local sessions whose identity re-joined through another replica.
 * Listens to the sessions' room relay; nothing calls into it.
 */
export class RoomMediaSync {
  readonly #self: string;
  readonly #rooms: RoomStore;
  readonly #pipes: PipeManager;
  readonly #sessions: SessionManager;
  readonly #log: Logger;

  constructor(options: { replicaId: string; rooms: RoomStore; pipes: PipeManager; sessions: SessionManager; log: Logger }) {
    this.#self = options.replicaId;
    this.#rooms = options.rooms;
    this.#pipes = options.pipes;
    this.#sessions = options.sessions;
    this.#log = options.log.child({ module: 'room-media-sync' });
    options.sessions.relay.observer.on('changes', this.#onChanges);
  }

  readonly #onChanges = (roomId: string, message: RoomBusMessage): void => {
    const sessions = this.#sessions;
    const hostsPeers = sessions.inRoom(roomId).length > 0;
    for (const change of message.changes) {
      switch (change.type) {
        case 'producerAdded':
          if (change.producer.replicaId !== this.#self && hostsPeers) {
            this.#pipes.ensureProducer(roomId, change.producer.producerId, change.producer.replicaId).catch((err: unknown) => {
              this.#log.warn({ err, roomId, producerId: change.producer.producerId }, 'could not pipe producer in');
            });
          }
          break;
        case 'producerRemoved':
          if (change.replicaId !== this.#self) this.#pipes.producerRemoved(change.producerId);
          break;
        case 'producerPaused':
          this.#pipes.producerPaused(change.producerId, change.paused);
          break;
        case 'peerJoined': {
          const local = sessions.get(roomId, change.peer.peerId);
          if (local && change.peer.replicaId !== this.#self) sessions.movedAway(local);
          break;
        }
        case 'peerLeft':
          if (change.replicaId !== this.#self) void this.#closePipesIfReplicaLeft(roomId, change.replicaId);
          break;
        default:
          break;
      }
    }
  };

  async #closePipesIfReplicaLeft(roomId: string, replicaId: string): Promise<void> {
    const room = await this.#rooms.get(roomId).catch(() => null);
    const stillThere = room && Object.values(room.peers).some((p) => p.replicaId === replicaId);
    if (!stillThere) this.#pipes.replicaLeftRoom(roomId, replicaId);
  }
}
