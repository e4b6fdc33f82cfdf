import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { STABLE_AFTER_MS, workerMachine, type SpawnOutput, type WorkerInput } from './machine.js';

const BASE_DELAY_MS = 100;
const STARTED_AT = 1_000;
/** Far beyond the longest backoff (base * 2^6): lets any pending restart happen. */
const PAST_ANY_BACKOFF = BASE_DELAY_MS * 128;

const input: WorkerInput = { replicaId: 'replica-a', index: 2, rtcPort: 40_002, baseRestartDelayMs: BASE_DELAY_MS };

/** A spawn outcome: a pid to start with, or an error to fail with. Past the list, spawning never settles. */
type Outcome = number | Error;

type Harness = {
  actor: Actor<typeof workerMachine>;
  clock: SimulatedClock;
  /** State values in the order the actor went through them. */
  history: string[];
  /** Inputs the spawn actor was invoked with. */
  spawns: { index: number }[];
};

const running: Actor<typeof workerMachine>[] = [];

afterEach(() => {
  for (const actor of running.splice(0)) actor.stop();
});

function startWorker(outcomes: Outcome[]): Harness {
  const spawns: { index: number }[] = [];
  const machine = workerMachine.provide({
    actors: {
      spawnWorker: fromPromise<SpawnOutput, { index: number }>(async ({ input: spawnInput }) => {
        const outcome = outcomes[spawns.length];
        spawns.push(spawnInput);
        if (outcome === undefined) return new Promise<SpawnOutput>(() => {});
        if (outcome instanceof Error) throw outcome;
        return { pid: outcome, startedAt: STARTED_AT };
      }),
    },
  });
  // A simulated clock drives the restart backoff: no real waiting, nothing depends on wall time.
  const clock = new SimulatedClock();
  const actor = createActor(machine, { input, clock });
  const history: string[] = [];
  actor.subscribe((s) => {
    const value = String(s.value);
    if (history.at(-1) !== value) history.push(value);
  });
  running.push(actor);
  actor.start();
  return { actor, clock, history, spawns };
}

function until(actor: Actor<typeof workerMachine>, value: string) {
  return waitFor(actor, (s) => s.value === value, { timeout: 5_000 });
}

describe('worker machine', () => {
  it('goes from starting to running with the spawned pid', async () => {
    const { actor, spawns } = startWorker([101]);
    const snap = await until(actor, 'running');
    expect(snap.context).toMatchObject({ pid: 101, startedAt: STARTED_AT, restarts: 0, consecutiveDeaths: 0, lastError: null });
    expect(spawns).toEqual([{ index: 2 }]);
  });

  it('after a spawn failure waits in restarting, then starts again and counts the restart', async () => {
    const { actor, clock, history, spawns } = startWorker([new Error('spawn failed: EACCES'), 102]);
    const failed = await until(actor, 'restarting');
    expect(failed.context).toMatchObject({ lastError: 'spawn failed: EACCES', consecutiveDeaths: 1, restarts: 0, pid: null });

    clock.increment(PAST_ANY_BACKOFF);
    const snap = await until(actor, 'running');
    expect(snap.context).toMatchObject({ pid: 102, restarts: 1, consecutiveDeaths: 1 });
    expect(history).toEqual(['starting', 'restarting', 'starting', 'running']);
    expect(spawns).toHaveLength(2);
  });

  it('reports the error of an unprovided spawnWorker and retries', async () => {
    const actor = createActor(workerMachine, { input, clock: new SimulatedClock() });
    running.push(actor);
    actor.start();
    const snap = await until(actor, 'restarting');
    expect(snap.context.lastError).toMatch(/must be provided/);
  });

  it('on worker.died while running restarts and runs again with a new pid', async () => {
    const { actor, clock, history } = startWorker([101, 202]);
    await until(actor, 'running');

    actor.send({ type: 'worker.died', error: 'worker died unexpectedly', now: STARTED_AT + 5_000 });
    const dead = actor.getSnapshot();
    expect(dead.value).toBe('restarting');
    expect(dead.context).toMatchObject({ pid: null, lastError: 'worker died unexpectedly', consecutiveDeaths: 1 });

    clock.increment(PAST_ANY_BACKOFF);
    const snap = await until(actor, 'running');
    expect(snap.context).toMatchObject({ pid: 202, restarts: 1 });
    expect(history).toEqual(['starting', 'running', 'restarting', 'starting', 'running']);
  });

  it('counts consecutive deaths and restarts across repeated crashes', async () => {
    const { actor, clock } = startWorker([101, 102, 103, 104]);
    for (const [i, pid] of [101, 102, 103].entries()) {
      expect((await until(actor, 'running')).context.pid).toBe(pid);
      actor.send({ type: 'worker.died', error: `crash ${i + 1}`, now: STARTED_AT + 1_000 });
      expect(actor.getSnapshot().context).toMatchObject({ consecutiveDeaths: i + 1, restarts: i });
      clock.increment(PAST_ANY_BACKOFF);
    }
    const snap = await until(actor, 'running');
    expect(snap.context).toMatchObject({ pid: 104, consecutiveDeaths: 3, restarts: 3, lastError: 'crash 3' });
  });

  it('counts a death after a stable run as the first of a new series', async () => {
    const { actor, clock } = startWorker([101, 102, 103]);
    await until(actor, 'running');
    actor.send({ type: 'worker.died', error: 'crash 1', now: STARTED_AT + 10 });
    clock.increment(PAST_ANY_BACKOFF);
    await until(actor, 'running');
    actor.send({ type: 'worker.died', error: 'crash 2', now: STARTED_AT + 20 });
    expect(actor.getSnapshot().context.consecutiveDeaths).toBe(2);
    clock.increment(PAST_ANY_BACKOFF);
    await until(actor, 'running');

    actor.send({ type: 'worker.died', error: 'crash after a quiet hour', now: STARTED_AT + STABLE_AFTER_MS + 1 });
    expect(actor.getSnapshot().context).toMatchObject({ consecutiveDeaths: 1, restarts: 2 });
  });

  it('doubles the backoff with each consecutive death (on the simulated clock)', async () => {
    const { actor, clock } = startWorker([101, 102, 103]);
    await until(actor, 'running');

    actor.send({ type: 'worker.died', error: 'crash 1', now: STARTED_AT + 1 });
    clock.increment(BASE_DELAY_MS - 1);
    expect(actor.getSnapshot().value).toBe('restarting');
    clock.increment(1);
    await until(actor, 'running');

    actor.send({ type: 'worker.died', error: 'crash 2', now: STARTED_AT + 2 });
    clock.increment(BASE_DELAY_MS);
    expect(actor.getSnapshot().value).toBe('restarting'); // one base delay is no longer enough
    clock.increment(BASE_DELAY_MS);
    await until(actor, 'running');
    expect(actor.getSnapshot().context).toMatchObject({ consecutiveDeaths: 2, restarts: 2 });
  });

  it('ignores worker.died when it is not running', async () => {
    const { actor } = startWorker([new Error('no binary')]);
    await until(actor, 'restarting');
    actor.send({ type: 'worker.died', error: 'late exit event', now: STARTED_AT });
    expect(actor.getSnapshot().context).toMatchObject({ consecutiveDeaths: 1, lastError: 'no binary' });
  });

  it('closes from running into a final state', async () => {
    const { actor } = startWorker([101]);
    await until(actor, 'running');
    actor.send({ type: 'worker.close' });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('closes while restarting and never restarts afterwards', async () => {
    const { actor, clock, spawns } = startWorker([new Error('boom'), 102]);
    await until(actor, 'restarting');
    actor.send({ type: 'worker.close' });
    clock.increment(PAST_ANY_BACKOFF);
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actor.getSnapshot().context.restarts).toBe(0);
    expect(spawns).toHaveLength(1);
  });

  it('closes while a spawn is still pending', () => {
    const { actor } = startWorker([]);
    expect(actor.getSnapshot().value).toBe('starting');
    actor.send({ type: 'worker.close' });
    expect(actor.getSnapshot().status).toBe('done');
  });
});
