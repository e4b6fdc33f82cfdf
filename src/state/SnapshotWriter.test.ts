import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from './MemoryStore.js';
import { SnapshotWriter } from './SnapshotWriter.js';

const KEY = '{room:r1}:peer:alice';

type Put = { seq: number; doc: string; ttlMs: number | undefined };

/**
 * A real MemoryStore that also records every ordered write and can hold writes
 * in flight (the way a slow or reconnecting Redis does) until released.
 */
class HeldStore extends MemoryStore {
  readonly puts: Put[] = [];
  failNext = false;
  #gate: Promise<void> | null = null;

  /** Holds every write from now on until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.#gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.#gate = null;
      release();
    };
  }

  override async putIfNewer(key: string, seq: number, doc: string, ttlMs?: number): Promise<boolean> {
    this.puts.push({ seq, doc, ttlMs });
    if (this.#gate) await this.#gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection lost');
    }
    return super.putIfNewer(key, seq, doc);
  }
}

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

function writerFor(store: MemoryStore, options: { startSeq?: number; ttlMs?: number } = {}) {
  return new SnapshotWriter({ store, key: KEY, log: capturingLogger().log, ...options });
}

describe('SnapshotWriter', () => {
  it('writes each document with the next sequence number', async () => {
    const store = new HeldStore();
    const writer = writerFor(store, { ttlMs: 30_000 });
    writer.write('a');
    await writer.flush();
    writer.write('b');
    await writer.flush();
    expect(store.puts).toEqual([
      { seq: 1, doc: 'a', ttlMs: 30_000 },
      { seq: 2, doc: 'b', ttlMs: 30_000 },
    ]);
    expect(await store.get(KEY)).toEqual({ seq: 2, doc: 'b' });
  });

  it('collapses writes queued behind an in-flight one to the newest document', async () => {
    const store = new HeldStore();
    const writer = writerFor(store);
    const release = store.hold();
    writer.write('a');
    writer.write('b');
    writer.write('c');
    writer.write('d');
    expect(store.puts.map((p) => p.doc)).toEqual(['a']);
    release();
    await writer.flush();
    expect(store.puts.map((p) => [p.seq, p.doc])).toEqual([
      [1, 'a'],
      [2, 'd'],
    ]);
    expect(await store.get(KEY)).toEqual({ seq: 2, doc: 'd' });
  });

  it('continues the sequence from startSeq, so its first write beats the stored one', async () => {
    const store = new MemoryStore();
    await store.putIfNewer(KEY, 5, 'from the previous process');

    const fresh = writerFor(store);
    fresh.write('ignored: seq 1 is older');
    await fresh.flush();
    expect(await store.get(KEY)).toEqual({ seq: 5, doc: 'from the previous process' });

    const resumed = writerFor(store, { startSeq: 5 });
    resumed.write('restored');
    await resumed.flush();
    expect(await store.get(KEY)).toEqual({ seq: 6, doc: 'restored' });
  });

  it('remove() deletes the key and nothing is written afterwards', async () => {
    const store = new HeldStore();
    const writer = writerFor(store);
    writer.write('a');
    await writer.flush();
    await writer.remove();
    expect(await store.get(KEY)).toBeNull();

    writer.write('after remove');
    writer.reassert();
    await writer.flush();
    expect(store.puts.map((p) => p.doc)).toEqual(['a']);
    expect(await store.get(KEY)).toBeNull();
  });

  it('remove() during an in-flight write drops the queued write and still deletes the key', async () => {
    const store = new HeldStore();
    const writer = writerFor(store);
    const release = store.hold();
    writer.write('in flight');
    writer.write('queued');
    const removed = writer.remove();
    release();
    await removed;
    expect(store.puts.map((p) => p.doc)).toEqual(['in flight']);
    expect(await store.get(KEY)).toBeNull();
  });

  it('remove() leaves a newer snapshot written by another owner in place', async () => {
    const store = new MemoryStore();
    const old = writerFor(store);
    old.write('old owner');
    await old.flush();
    const next = writerFor(store, { startSeq: 1 });
    next.write('new owner');
    await next.flush();

    await old.remove();
    expect(await store.get(KEY)).toEqual({ seq: 2, doc: 'new owner' });
  });

  it('reassert() writes the last document again with a new sequence number', async () => {
    const store = new HeldStore();
    const writer = writerFor(store);
    writer.reassert();
    await writer.flush();
    expect(store.puts).toEqual([]);

    writer.write('a');
    await writer.flush();
    await store.del(KEY); // e.g. Redis restarted without persistence
    writer.reassert();
    await writer.flush();
    expect(await store.get(KEY)).toEqual({ seq: 2, doc: 'a' });
  });

  it('logs a failed write and keeps writing on the next change', async () => {
    const store = new HeldStore();
    const { log, lines } = capturingLogger();
    const writer = new SnapshotWriter({ store, key: KEY, log });
    store.failNext = true;
    writer.write('lost');
    await writer.flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, key: KEY });
    expect(await store.get(KEY)).toBeNull();

    writer.write('next');
    await writer.flush();
    expect(await store.get(KEY)).toEqual({ seq: 2, doc: 'next' });
  });

  it('after a failed write, reassert() stores that document', async () => {
    const store = new HeldStore();
    const writer = writerFor(store);
    store.failNext = true;
    writer.write('lost');
    await writer.flush();
    writer.reassert();
    await writer.flush();
    expect(await store.get(KEY)).toEqual({ seq: 2, doc: 'lost' });
  });

  // Regression: reassert() used to queue the document last *confirmed* stored, so during an in-flight
  // write it re-stored the previous document with a higher seq. The gateway reasserts when Redis comes
  // back, exactly when queued writes are in flight.
  it('reassert() during an in-flight write does not bring back an older document', async () => {
    const store = new HeldStore();
    const writer = writerFor(store);
    writer.write('old');
    await writer.flush();

    const release = store.hold();
    writer.write('new');
    writer.reassert();
    release();
    await writer.flush();

    expect((await store.get(KEY))?.doc).toBe('new');
  });
});
