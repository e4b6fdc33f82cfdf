/**
 * Redis under Sentinel, with real processes: a primary, its replica and three
 * sentinels (RedisSentinelSet), three gateway replicas and an AI worker on the
 * redis-sentinel:// connection string, Chromium pages in one room. The primary
 * is killed with SIGKILL mid-call; the sentinels promote the replica and every
 * client follows it (tests/helpers/redisFailover.ts).
 */
import { describe, it } from 'vitest';
import { RedisSentinelSet } from '../src/state/RedisSentinelSet.js';
import { describeFigures, primaryKilledMidCall, redisFailoverSetup } from './helpers/redisFailover.js';

// A primary silent for 1 s is down (production: 5 s; see docs/operations.md).
const setup = redisFailoverSetup(() => RedisSentinelSet.start({ downAfterMs: 1000, failoverTimeoutMs: 5000 }));

describe('the Redis primary killed under Sentinel', () => {
  it('calls go on, the room and the replicas are re-asserted on the promoted replica, joins, translation and replica failover work after it', async () => {
    const { set, store, browser, run } = setup;
    const figures = await primaryKilledMidCall({
      label: 'sentinel',
      url: set.url,
      roomId: 'sentinel-room',
      browser,
      store,
      run,
      killPrimary: async () => {
        const { killed, promoted, promotedAfterMs } = await set.killPrimary();
        return { promotedAfterMs, killedPort: killed.port, promotedPort: promoted.port };
      },
    });
    console.log(`[sentinel] primary killed: ${describeFigures(figures)}`);
  }, 300_000);
});
