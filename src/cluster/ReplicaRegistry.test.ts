import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Keys } from '../state/keys.js';
import { MemoryStore } from '../state/MemoryStore.js';
import { tcpAnswers } from './probe.js';
import { LATE_LIMIT, ReplicaRegistry } from './ReplicaRegistry.js';

const STALE_MS = 150;

/** Registries driven by hand (tick), never by their timer, sharing one store. */
function registry(store: MemoryStore, replicaId: string, probe = '') {
  const r = new ReplicaRegistry({
    store,
    self: { replicaId, url: `http://${replicaId}`, mediaIp: '127.0.0.1', startedAt: Date.now() },
    load: () => ({ peers: 0, consumers: 0 }),
    heartbeatMs: 60_000,
    staleAfterMs: STALE_MS,
    answers: (entry) => tcpAnswers(entry.probe, 100),
    log: pino({ level: 'silent' }),
  });
  r.setSelfUrl(`http://${replicaId}`, probe);
  const gone: Array<[string, boolean]> = [];
  r.observer.on('replicagone', (id, reaper) => gone.push([id, reaper]));
  return { r, gone };
}

const liveIds = (r: ReplicaRegistry) => r.live().map((e) => e.replicaId).sort();

describe('ReplicaRegistry', () => {
  it('a replica missing from an emptied hash (Redis restarted) stays alive while its last heartbeat is fresh', async () => {
    const store = new MemoryStore();
    const a = registry(store, 'a');
    const b = registry(store, 'b');
    await a.r.tick();
    await b.r.tick();
    await a.r.tick();
    expect(liveIds(a.r)).toEqual(['a', 'b']);

    await store.del(Keys.replicas()); // the new Redis is empty
    await a.r.tick(); // a re-registers before b does
    expect(a.gone).toEqual([]);
    expect(liveIds(a.r)).toEqual(['a', 'b']);

    b.r.reconnected();
    await b.r.tick();
    await a.r.tick();
    expect(a.gone).toEqual([]);
    expect(Object.keys(await store.hashGetAll(Keys.replicas())).sort()).toEqual(['a', 'b']);
  });

  it('a replica reaped by another is gone here once its last heartbeat is stale; one still listed is reaped here', async () => {
    const store = new MemoryStore();
    const a = registry(store, 'a');
    const b = registry(store, 'b');
    const c = registry(store, 'c');
    for (const x of [a, b, c, a]) await x.r.tick();
    expect(liveIds(a.r)).toEqual(['a', 'b', 'c']);

    // b and c stop heartbeating; another replica reaps c (deletes its entry) before a looks.
    await store.hashDelete(Keys.replicas(), 'c');
    await a.r.tick();
    expect(a.gone).toEqual([]);
    await sleep(STALE_MS + 50);
    await a.r.tick();
    expect(a.gone.sort()).toEqual([
      ['b', true],
      ['c', false],
    ]);
    expect(liveIds(a.r)).toEqual(['a']);
  });

  it('after its own Redis outage (failover), a replica judges none gone until a staleness period of working Redis has passed', async () => {
    const store = new MemoryStore();
    const a = registry(store, 'a');
    const b = registry(store, 'b');
    for (const x of [a, b, a]) await x.r.tick();
    // Redis is lost longer than the staleness period (a primary killed, the replica promoted): nobody heartbeats.
    await sleep(STALE_MS + 50);
    a.r.reconnected(); // a reaches the promoted server first
    await a.r.tick();
    expect(a.gone).toEqual([]);
    expect(Object.keys(await store.hashGetAll(Keys.replicas())).sort()).toEqual(['a', 'b']);
    b.r.reconnected();
    await b.r.tick();
    await a.r.tick();
    expect(a.gone).toEqual([]);
    expect(liveIds(a.r)).toEqual(['a', 'b']);
    // A replica that really died during the outage is judged once that period has passed.
    await sleep(STALE_MS + 50);
    await a.r.tick();
    expect(a.gone).toEqual([['b', true]]);
  });

  it('reports a change of the live set (joined, gone, draining), not every heartbeat', async () => {
    const store = new MemoryStore();
    const a = registry(store, 'a');
    const b = registry(store, 'b');
    let changes = 0;
    a.r.observer.on('viewchanged', () => changes++);
    await a.r.tick();
    expect(changes).toBe(1);
    await a.r.tick();
    expect(changes).toBe(1);
    await b.r.tick();
    await a.r.tick();
    expect(changes).toBe(2);
    await b.r.setDraining(true);
    await a.r.tick();
    expect(changes).toBe(3);
    await sleep(STALE_MS + 50);
    await a.r.tick();
    expect(changes).toBe(4);
    expect(liveIds(a.r)).toEqual(['a']);
  });

  it('a stalled replica whose port still answers is late, not gone, until LATE_LIMIT staleness periods; a killed one (refused) is gone at once', async () => {
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const open = `127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const refused = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    try {
      const store = new MemoryStore();
      const a = registry(store, 'a');
      const stalled = registry(store, 'stalled', open);
      const killed = registry(store, 'killed', refused);
      for (const x of [a, stalled, killed, a]) await x.r.tick();
      await sleep(STALE_MS + 50);
      await a.r.tick();
      expect(a.gone).toEqual([['killed', true]]);
      expect(Object.keys(await store.hashGetAll(Keys.replicas())).sort()).toEqual(['a', 'stalled']);
      // Past the limit, an answering port no longer saves it (a hung process).
      await sleep(STALE_MS * LATE_LIMIT);
      await a.r.tick();
      expect(a.gone).toEqual([['killed', true], ['stalled', true]]);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
