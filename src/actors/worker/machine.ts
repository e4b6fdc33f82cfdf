import { assign, fromPromise, setup } from 'xstate';

/**
 * The worker actor: the life of one mediasoup worker process of this replica.
 * starting -> running; a death goes to restarting, which waits a backoff
 * (doubling per consecutive death, reset after a stable minute) and starts
 * again. The process itself is spawned by the invoked `spawnWorker` actor,
 * provided by the WorkerPool; the machine only records what happened.
 */
export const WORKER_MACHINE_VERSION = 1;

export type WorkerContext = {
  replicaId: string;
  index: number;
  rtcPort: number;
  pid: number | null;
  startedAt: number | null;
  restarts: number;
  consecutiveDeaths: number;
  lastError: string | null;
  baseRestartDelayMs: number;
};

export type WorkerInput = Pick<WorkerContext, 'replicaId' | 'index' | 'rtcPort' | 'baseRestartDelayMs'>;

export type WorkerEvent =
  | { type: 'worker.died'; error: string; now: number }
  | { type: 'worker.close' };

export type SpawnOutput = { pid: number; startedAt: number };

export const STABLE_AFTER_MS = 60_000;

export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    events: {} as WorkerEvent,
    input: {} as WorkerInput,
  },
  actors: {
    spawnWorker: fromPromise<SpawnOutput, { index: number }>(async () => {
      throw new Error('spawnWorker must be provided by the WorkerPool');
    }),
  },
  delays: {
    restartBackoff: ({ context }) => context.baseRestartDelayMs * 2 ** Math.min(6, Math.max(0, context.consecutiveDeaths - 1)),
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({ ...input, pid: null, startedAt: null, restarts: 0, consecutiveDeaths: 0, lastError: null }),
  initial: 'starting',
  on: { 'worker.close': '.closed' },
  states: {
    starting: {
      invoke: {
        src: 'spawnWorker',
        input: ({ context }) => ({ index: context.index }),
        onDone: {
          target: 'running',
          actions: assign({ pid: ({ event }) => event.output.pid, startedAt: ({ event }) => event.output.startedAt }),
        },
        onError: {
          target: 'restarting',
          actions: assign({
            lastError: ({ event }) => String((event.error as Error)?.message ?? event.error),
            consecutiveDeaths: ({ context }) => context.consecutiveDeaths + 1,
          }),
        },
      },
    },
    running: {
      on: {
        'worker.died': {
          target: 'restarting',
          actions: assign({
            pid: null,
            lastError: ({ event }) => event.error,
            consecutiveDeaths: ({ context, event }) =>
              context.startedAt !== null && event.now - context.startedAt > STABLE_AFTER_MS ? 1 : context.consecutiveDeaths + 1,
          }),
        },
      },
    },
    restarting: {
      after: {
        restartBackoff: { target: 'starting', actions: assign({ restarts: ({ context }) => context.restarts + 1 }) },
      },
    },
    closed: { type: 'final' },
  },
});
