import { createSnapshotCodec } from '../codec.js';
import { WORKER_MACHINE_VERSION, type WorkerContext } from './machine.js';

/** A worker document: state and context, for operators and other replicas (the process itself is not restorable). */
export type PersistedWorker = { value: string; context: WorkerContext };

export const workerCodec = createSnapshotCodec<PersistedWorker>('worker', WORKER_MACHINE_VERSION);
