/**
 * Redis under Sentinel, with real processes: a primary, its replica and three
 * sentinels (RedisSentinelSet), three gateway replicas and an AI worker on the
 * redis-sentinel:// connection string, Chromium pages in one room. The primary
 * is killed with SIGKILL mid-call; the sentinels promote the replica and every
 * client follows it (tests/helpers/redisFailover.ts).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { RedisSentinelSet } from '../src/state/RedisSentinelSet.js';
import { RedisStore } from '../src/state/RedisStore.js';
import { launchBrowser, type ParleyBrowser } from './helpers/browser.js';
import { speechWithPauses } from './helpers/media.js';
import { describeFigures, primaryKilledMidCall, type FailoverRun } from './helpers/redisFailover.js';

let set: RedisSentinelSet;
let store: RedisStore;
let browser: ParleyBrowser;
const run: FailoverRun = { replicas: [], worker: null, pages: [] };

beforeAll(async () => {
  // A primary silent for 1 s is down (production: 5 s; see docs/operations.md).
  set = await RedisSentinelSet.start({ downAfterMs: 1000, failoverTimeoutMs: 5000 });
  store = await RedisStore.create({ url: set.url });
  browser = await launchBrowser({ fakeAudioWav: speechWithPauses() });
}, 60_000);

afterAll(async () => {
  await Promise.all(run.pages.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all([...run.replicas, ...(run.worker ? [run.worker] : [])].map((p) => p.kill()));
  await browser?.close();
  await store?.close();
  await set?.stop();
});

describe('the Redis primary killed under Sentinel', () => {
  it('calls go on, the room and the replicas are re-asserted on the promoted replica, joins, translation and replica failover work after it', async () => {
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
