import { createSnapshotCodec } from '../codec.js';
import { ROOM_MACHINE_VERSION, type RoomContext } from './machine.js';

/** What a room document holds: the state value and the context. */
export type PersistedRoom = { value: string; context: RoomContext };

export const roomCodec = createSnapshotCodec<PersistedRoom>('room', ROOM_MACHINE_VERSION);
