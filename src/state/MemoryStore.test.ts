import { describe, expect, it } from 'vitest';
import { MemoryStore } from './MemoryStore.js';

describe('MemoryStore ordered writes', () => {
  it('putIfNewer stores a newer seq and refuses an older or equal one', async () => {
    const store = new MemoryStore();
    expect(await store.putIfNewer('k', 2, 'two')).toBe(true);
    expect(await store.putIfNewer('k', 1, 'one')).toBe(false);
    expect(await store.putIfNewer('k', 2, 'two again')).toBe(false);
    expect(await store.get('k')).toEqual({ seq: 2, doc: 'two' });
    expect(await store.putIfNewer('k', 3, 'three')).toBe(true);
    expect(await store.get('k')).toEqual({ seq: 3, doc: 'three' });
  });

  it('compareAndSet creates from 0, increments the seq, and returns null on a conflict', async () => {
    const store = new MemoryStore();
    const first = (await store.compareAndSet('k', 0, 'first'))!;
    expect(first).toBeGreaterThan(0);
    expect(await store.compareAndSet('k', first, 'second')).toBe(first + 1);

    // A writer that read the first seq lost the race: nothing changes.
    expect(await store.compareAndSet('k', first, 'stale')).toBeNull();
    expect(await store.compareAndSet('k', 0, 'also stale')).toBeNull();
    expect(await store.get('k')).toEqual({ seq: first + 1, doc: 'second' });
  });

  it('compareAndSet with a null doc deletes the key when the seq matches', async () => {
    const store = new MemoryStore();
    const first = (await store.compareAndSet('k', 0, 'first'))!;
    expect(await store.compareAndSet('k', first + 5, null)).toBeNull();
    expect(await store.get('k')).not.toBeNull();
    expect(await store.compareAndSet('k', first, null)).toBe(0);
    expect(await store.get('k')).toBeNull();
  });

  it('deleteIfNotNewer keeps a snapshot newer than the caller’s seq', async () => {
    const store = new MemoryStore();
    await store.putIfNewer('k', 3, 'three');
    expect(await store.deleteIfNotNewer('k', 2)).toBe(false);
    expect(await store.get('k')).toEqual({ seq: 3, doc: 'three' });
    expect(await store.deleteIfNotNewer('k', 3)).toBe(true);
    expect(await store.get('k')).toBeNull();
    expect(await store.deleteIfNotNewer('absent', 0)).toBe(true);
  });
});

describe('MemoryStore other operations', () => {
  it('getOrSet keeps the first value', async () => {
    const store = new MemoryStore();
    expect(await store.getOrSet('secret', 'a')).toBe('a');
    expect(await store.getOrSet('secret', 'b')).toBe('a');
  });

  it('keeps sets, lists keys by glob and deletes every kind of key', async () => {
    const store = new MemoryStore();
    await store.putIfNewer('{room:r1}:room', 1, 'doc');
    await store.setAdd('{room:r1}:peers', 'alice');
    await store.setAdd('{room:r1}:peers', 'bob');
    await store.setRemove('{room:r1}:peers', 'alice');
    await store.getOrSet('other', 'x');
    expect(await store.setMembers('{room:r1}:peers')).toEqual(['bob']);
    expect((await store.keys('{room:r1}:*')).sort()).toEqual(['{room:r1}:peers', '{room:r1}:room']);

    await store.del('{room:r1}:room', '{room:r1}:peers', 'other');
    expect(await store.keys('*')).toEqual([]);
  });

  it('delivers published messages to subscribers asynchronously until they unsubscribe', async () => {
    const store = new MemoryStore();
    const got: string[] = [];
    const handler = (m: string) => got.push(m);
    await store.subscribe('chan', handler);
    const published = store.publish('chan', 'one');
    expect(got).toEqual([]); // not delivered inside publish(), like a real bus
    await published;
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['one']);

    await store.unsubscribe('chan', handler);
    await store.publish('chan', 'two');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['one']);
  });
});
