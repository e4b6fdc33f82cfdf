import type { Snapshot } from 'xstate';
import { createSnapshotCodec } from '../codec.js';
import { PEER_MACHINE_VERSION } from './machine.js';

/** A peer document holds XState's persisted snapshot (state, context, the grace timer's input). */
export const peerCodec = createSnapshotCodec<Snapshot<unknown>>('peer', PEER_MACHINE_VERSION);
