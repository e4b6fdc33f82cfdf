import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomStore } from '../src/actors/room/RoomStore.js';
import type { RoomBusMessage } from '../src/actors/room/RoomStore.js';
import { createLogger } from '../src/logger.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { Channels, Keys } from '../src/state/keys.js';
import { RedisStore } from '../src/state/RedisStore.js';
import { SnapshotWriter } from '../src/state/SnapshotWriter.js';

const log = createLogger({ level: 'silent', pretty: false });
let redis: EmbeddedRedis;
let a: RedisStore;
let b: RedisStore;

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  a = await RedisStore.create({ url: redis.url });
  b = await RedisStore.create({ url: redis.url });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

const peer = (peerId: string, replicaId: string) => ({
  peerId, displayName: peerId, role: 'speaker' as const, replicaId, spokenLanguage: 'en', listeningLanguage: 'en', joinedAt: Date.now(),
});

describe('RedisStore ordered writes (Lua)', () => {
  it('never lets an older snapshot overwrite a newer one', async () => {
    expect(await a.putIfNewer('t:ordered', 2, 'two')).toBe(true);
    expect(await b.putIfNewer('t:ordered', 1, 'one')).toBe(false);
    expect(await a.get('t:ordered')).toEqual({ seq: 2, doc: 'two' });
    expect(await a.deleteIfNotNewer('t:ordered', 1)).toBe(false);
    expect(await a.deleteIfNotNewer('t:ordered', 2)).toBe(true);
    expect(await a.get('t:ordered')).toBeNull();
  });

  it('compare-and-set refuses a stale expected seq', async () => {
    const first = (await a.compareAndSet('t:cas', 0, 'x'))!;
    expect(first).toBeGreaterThan(0);
    expect(await b.compareAndSet('t:cas', 0, 'y')).toBeNull();
    expect(await b.compareAndSet('t:cas', first, 'y')).toBe(first + 1);
    expect(await a.get('t:cas')).toEqual({ seq: first + 1, doc: 'y' });
    expect(await a.compareAndSet('t:cas', first + 1, null)).toBe(0);
    expect(await a.get('t:cas')).toBeNull();
  });

  it('never reuses a sequence number when a key is deleted and created again (no ABA)', async () => {
    const first = (await a.compareAndSet('t:aba', 0, 'alice'))!;
    expect(await b.compareAndSet('t:aba', first, null)).toBe(0);
    const again = (await b.compareAndSet('t:aba', 0, 'bob'))!;
    expect(again).not.toBe(first);
    // A writer still holding the first incarnation's seq is refused.
    expect(await a.compareAndSet('t:aba', first, 'alice-again')).toBeNull();
    expect((await a.get('t:aba'))!.doc).toBe('bob');
  });

  it('a SnapshotWriter under a burst stores its newest document', async () => {
    const w = new SnapshotWriter({ store: a, key: 't:writer', log });
    for (let i = 1; i <= 50; i++) w.write(`doc-${i}`);
    await w.flush();
    expect((await a.get('t:writer'))!.doc).toBe('doc-50');
    await w.remove();
    w.write('late');
    await w.flush();
    expect(await a.get('t:writer')).toBeNull();
  });
});

describe('RoomStore: the room actor shared by replicas', () => {
  it('applies concurrent joins from two replicas without losing one, and respects the peer limit', async () => {
    const r1 = new RoomStore({ store: a, replicaId: 'r1', maxPeers: 12, log });
    const r2 = new RoomStore({ store: b, replicaId: 'r2', maxPeers: 12, log });
    const attempts = Array.from({ length: 16 }, (_, i) =>
      (i % 2 ? r1 : r2).apply('race', { type: 'peer.join', peer: peer(`p${i}`, i % 2 ? 'r1' : 'r2') }).then(() => 'ok', (e: { code?: string }) => e.code),
    );
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r === 'ok')).toHaveLength(12);
    expect(results.filter((r) => r === 'ERR_ROOM_FULL')).toHaveLength(4);
    const room = await r1.get('race');
    expect(Object.keys(room!.peers)).toHaveLength(12);
    expect(await a.setMembers(Keys.roomIndex())).toContain('race');
  });

  it('publishes each accepted change to every replica and deletes the room with its last peer', async () => {
    const r1 = new RoomStore({ store: a, replicaId: 'r1', maxPeers: 4, log });
    const r2 = new RoomStore({ store: b, replicaId: 'r2', maxPeers: 4, log });
    const seen: RoomBusMessage[] = [];
    const handler = (m: string) => seen.push(JSON.parse(m) as RoomBusMessage);
    await b.subscribe(Channels.room('bus'), handler);
    await r1.apply('bus', { type: 'peer.join', peer: peer('x', 'r1') });
    await r2.apply('bus', { type: 'peer.join', peer: peer('y', 'r2') });
    await r2.apply('bus', { type: 'producer.add', peerId: 'y', producer: { producerId: 'py', kind: 'audio', source: 'mic', paused: false, replicaId: 'r2' } });
    const gone = await r1.apply('bus', { type: 'replica.gone', replicaId: 'r2' });
    expect(gone.changes.map((c) => c.type)).toEqual(['producerRemoved', 'peerLeft']);
    const last = await r1.apply('bus', { type: 'peer.leave', peerId: 'x' });
    expect(last.closed).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    const seqs = seen.map((m) => m.seq);
    expect(seqs.slice(1, 4)).toEqual([seqs[0]! + 1, seqs[0]! + 2, seqs[0]! + 3]);
    expect(seqs[4]).toBe(0); // the room's deletion
    expect(seen.map((m) => m.from)).toEqual(['r1', 'r2', 'r2', 'r1', 'r1']);
    expect(await a.keys(Keys.roomPattern('bus'))).toEqual([]);
    expect(await a.setMembers(Keys.roomIndex())).not.toContain('bus');
    await expect(r1.apply('bus', { type: 'peer.leave', peerId: 'x' })).rejects.toMatchObject({ code: 'ERR_ROOM_NOT_FOUND' });
    await b.unsubscribe(Channels.room('bus'), handler);
  });
});
