import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { RedisStore } from '../src/state/RedisStore.js';
import { joinCall, launchBrowser, type ParleyBrowser } from './helpers/browser.js';
import { bytesFrom, startReplicas } from './helpers/cluster.js';
import type { GatewayProcess } from './helpers/gateway.js';
import { SPEECH_WAV, waitFor } from './helpers/media.js';

let redis: EmbeddedRedis;
let store: RedisStore;
let browser: ParleyBrowser;
let replicas: GatewayProcess[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  store = await RedisStore.create({ url: redis.url });
  browser = await launchBrowser({ fakeAudioWav: SPEECH_WAV });
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all(replicas.map((r) => r.kill()));
  replicas = [];
  await store.del('parley:replicas');
});

afterAll(async () => {
  await browser?.close();
  await store?.close();
  await redis?.stop();
});

/** One page per replica, all in `roomId`; returns the pages and their peer ids. */
async function spread(roomId: string): Promise<{ pages: Page[]; ids: string[] }> {
  const ids: string[] = [];
  const ps: Page[] = [];
  for (const [i, r] of replicas.entries()) {
    const page = await browser.newPage();
    pages.push(page);
    await joinCall(page, r.url, { roomId, displayName: `P${i}` });
    ps.push(page);
    ids.push(await page.evaluate(() => window.parley!.peerId!));
  }
  return { pages: ps, ids };
}

async function everyoneHearsEveryone(ps: Page[], ids: string[], timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => {
    for (const [i, page] of ps.entries()) {
      for (const [j, id] of ids.entries()) if (i !== j && (await bytesFrom(page, id)) === 0) return null;
    }
    return true;
  }, timeoutMs, 'every page to hear every other');
}

describe('one room across three replicas', () => {
  it('three pages on three replicas each hear both others', async () => {
    replicas = await startReplicas(redis.url, 3, 'span');
    const { pages: ps, ids } = await spread('span');
    await everyoneHearsEveryone(ps, ids);
    for (const [i, page] of ps.entries()) {
      const others = ids.filter((_, j) => j !== i);
      for (const id of others) expect(await bytesFrom(page, id)).toBeGreaterThan(0);
    }
  });
});
