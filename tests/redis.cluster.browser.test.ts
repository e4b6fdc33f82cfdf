/**
 * Redis Cluster, with real processes: three primaries with a replica each
 * (RedisClusterSet), three gateway replicas and an AI worker on the
 * redis-cluster:// connection string. First, rooms really spread over the
 * shards and each room's keys stay in one slot; then the primary holding the
 * call's room is killed with SIGKILL mid-call, its replica takes over its
 * slots and every client follows (tests/helpers/redisFailover.ts).
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Keys, Channels } from '../src/state/keys.js';
import { RedisClusterSet } from '../src/state/RedisClusterSet.js';
import { slotOf } from '../src/state/slot.js';
import { joinAs } from '../src/devkit/browser.js';
import { describeFigures, primaryKilledMidCall, redisFailoverSetup } from './helpers/redisFailover.js';

// A primary silent for 1 s is failed over (production: 5 s; see docs/operations.md).
const setup = redisFailoverSetup(() => RedisClusterSet.start({ nodeTimeoutMs: 1000 }));

describe('Parley on a Redis Cluster (3 shards)', () => {
  it('the primary holding the room killed mid-call: calls go on, the room and replicas are re-asserted, joins, translation and replica failover work after it', async () => {
    const { set, store, browser, run } = setup;
    const roomId = 'cluster-room';
    const figures = await primaryKilledMidCall({
      label: 'cluster',
      url: set.url,
      roomId,
      browser,
      store,
      run,
      killPrimary: async () => {
        const { killed, promoted, promotedAfterMs } = await set.killPrimary(Keys.room(roomId));
        return { promotedAfterMs, killedPort: killed.port, promotedPort: promoted.port };
      },
    });
    console.log(`[cluster] primary killed: ${describeFigures(figures)}`);
  }, 300_000);

  it('rooms spread over the three shards, each room\'s keys and event channel in one slot', async () => {
    const { set, store, browser, run } = setup;
    await Promise.all(run.pages.splice(0).map((p) => p.close()));
    // Twelve rooms, one page each, through the gateways still running after the failover.
    const primaries = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const roomId = `spread-${i}`;
      const { page } = await joinAs(browser, run.replicas[i % 2]!.url, roomId, `S${i}`);
      run.pages.push(page);
      const keys = await store.keys(Keys.roomPattern(roomId));
      expect(keys).toContain(Keys.room(roomId));
      expect(keys.some((k) => k.includes(':peer:'))).toBe(true);
      // One slot for the room's snapshot, its peers and its events (Lua scripts and SSUBSCRIBE stay on one shard),
      // the slot Redis computes, on the primary that serves it.
      const slots = new Set([...keys, Channels.room(roomId)].map(slotOf));
      expect(slots.size).toBe(1);
      expect(await store.client.call('CLUSTER', 'KEYSLOT', Keys.room(roomId))).toBe(slotOf(Keys.room(roomId)));
      const server = await set.primaryOf(Keys.room(roomId));
      const direct = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
      await direct.connect();
      expect(await direct.exists(...keys)).toBe(keys.length);
      direct.disconnect();
      primaries.add(server.port);
      await page.close();
    }
    expect(primaries.size).toBe(3);
  }, 180_000);
});
