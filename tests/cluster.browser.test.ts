import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { Channels } from '../src/state/keys.js';
import { RedisStore } from '../src/state/RedisStore.js';
import { inboundAudio, joinAs, launchBrowser, type ParleyBrowser } from '../src/devkit/browser.js';
import { ADMIN_TOKEN, backWithAudio, bytesFrom, describeGap, everyoneHearsEveryone, keysMentioning, startReplicas, watchGap } from '../src/devkit/cluster.js';
import type { GatewayProcess } from '../src/devkit/gateway.js';
import { SPEECH_WAV, waitFor } from '../src/devkit/media.js';

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
    const { page, peerId } = await joinAs(browser, r.url, roomId, `P${i}`);
    pages.push(page);
    ps.push(page);
    ids.push(peerId);
    // Each page really is on its own replica.
    expect((await page.evaluate(() => window.parley!.url)).replace(/\/$/, '')).toBe(r.url);
  }
  return { pages: ps, ids };
}

describe('one room across three replicas', () => {
  it('three pages on three replicas each hear both others (pipes encrypted with SRTP)', async () => {
    replicas = await startReplicas(redis.url, 3, 'span', { PARLEY_MEDIA_PIPE_SRTP: 'true' });
    const { pages: ps, ids } = await spread('span');
    await everyoneHearsEveryone(ps, ids);
    for (const [i, page] of ps.entries()) {
      const others = ids.filter((_, j) => j !== i);
      for (const id of others) expect(await bytesFrom(page, id)).toBeGreaterThan(0);
    }

    // The piped copy of P0's microphone on span-1 is dropped while P0 stays in the room (as after a fault: a
    // notice from span-0 that its producer closed). P1's consumer closes; the page consumes it again at once.
    const [before] = (await inboundAudio(ps[1]!)).filter((s) => s.peerId === ids[0]);
    const notice = { kind: 'notify', id: 'test-notice', from: 'span-0', method: 'pipe.producerClosed', params: { roomId: 'span', producerId: before!.producerId }, sentAt: Date.now() };
    await store.publish(Channels.replica('span-1'), JSON.stringify(notice));
    const again = await waitFor(async () => {
      const now = (await inboundAudio(ps[1]!)).find((s) => s.producerId === before!.producerId && s.consumerId !== before!.consumerId && s.bytesReceived > 0);
      return now ?? null;
    }, 10_000, 'P1 hearing P0 through a new consumer');
    expect(again.peerId).toBe(ids[0]);
    expect(await ps[1]!.evaluate(() => window.parley!.lastError)).toBeNull();
  });
});

describe('a replica killed mid-call (kill -9)', () => {
  it('keeps the others talking, brings its page back through a live replica, and leaves no trace in Redis', async () => {
    replicas = await startReplicas(redis.url, 3, 'kill');
    const { pages: ps, ids } = await spread('kill');
    await everyoneHearsEveryone(ps, ids);
    const watches = [watchGap(ps[0]!, ids[1]!), watchGap(ps[1]!, ids[0]!)];
    const before = await ps[2]!.evaluate(() => window.parley!.reconnects);
    const killedAt = Date.now();
    await replicas[2]!.kill();

    await backWithAudio(ps[2]!, [ids[0]!, ids[1]!], before, 30_000);
    const recoveryMs = Date.now() - killedAt;
    await everyoneHearsEveryone(ps, ids);
    const gaps = await Promise.all(watches.map((w) => w.stop()));
    console.log(`[failover] killed replica's page back with audio after ${recoveryMs} ms; survivors' audio: ${gaps.map(describeGap).join(', ')}`);
    for (const g of gaps) expect(g.lostMs).toBeLessThan(1000);
    const url = await ps[2]!.evaluate(() => window.parley!.url);
    expect([replicas[0]!.url, replicas[1]!.url]).toContain(url.replace(/\/$/, ''));

    await waitFor(async () => ((await keysMentioning(store, 'kill-2')).length === 0 ? true : null), 60_000, 'no key mentioning the dead replica');
  }, 120_000);
});

describe('draining a replica', () => {
  it('moves its page to another replica, keeps everyone talking, and the replica exits', async () => {
    replicas = await startReplicas(redis.url, 3, 'drain');
    const { pages: ps, ids } = await spread('drain');
    await everyoneHearsEveryone(ps, ids);
    const before = await ps[1]!.evaluate(() => window.parley!.reconnects);
    const res = await fetch(`${replicas[1]!.url}/admin/drain`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(202);
    // A new peer is refused with a coded redirect while it drains.
    const refused = await fetch(`${replicas[1]!.url}/admin/drain`, { method: 'POST', headers: { authorization: 'Bearer wrong' } });
    expect(refused.status).toBe(401);

    await backWithAudio(ps[1]!, [ids[0]!, ids[2]!], before, 30_000);
    await everyoneHearsEveryone(ps, ids);
    expect(await replicas[1]!.exited).toBe(0);
    for (const page of ps) expect(await page.evaluate(() => window.parley!.state)).toBe('connected');
    const moved = await ps[1]!.evaluate(() => window.parley!.url);
    expect(moved.replace(/\/$/, '')).not.toBe(replicas[1]!.url);
  });
});

describe('Redis restarted mid-call', () => {
  it('keeps the audio flowing and rebuilds the room state from the replicas', async () => {
    const port = (await import('../src/util/ports.js')).freeTcpPort;
    const own = await EmbeddedRedis.start({ port: await port() });
    let ownRedis = own;
    const ownStore = await RedisStore.create({ url: own.url });
    try {
      replicas = await startReplicas(own.url, 2, 'redis');
      const { pages: ps, ids } = await spread('redisroom');
      await everyoneHearsEveryone(ps, ids);
      const watches = [watchGap(ps[0]!, ids[1]!), watchGap(ps[1]!, ids[0]!)];
      await own.kill();
      await new Promise((r) => setTimeout(r, 1500));
      ownRedis = await EmbeddedRedis.start({ port: own.port }); // empty: no persistence
      // The replicas reconnect and write their peers back; the room is whole again.
      await waitFor(async () => {
        const rec = await ownStore.get('parley:{room:redisroom}:room');
        if (!rec) return null;
        const peers = (JSON.parse(rec.doc) as { snapshot: { context: { peers: Record<string, { producers: object }> } } }).snapshot.context.peers;
        return ids.every((id) => peers[id] && Object.keys(peers[id]!.producers).length === 1) ? true : null;
      }, 20_000, 'the room rebuilt in the new Redis');
      await waitFor(async () => ((await ownStore.hashGetAll('parley:replicas'))['redis-1'] ? true : null), 10_000, 'replicas registered again');
      const gaps = await Promise.all(watches.map((w) => w.stop()));
      console.log(`[redis-restart] audio during the Redis restart: ${gaps.map(describeGap).join(', ')}`);
      for (const g of gaps) expect(g.lostMs).toBeLessThan(1000);
      for (const page of ps) expect(await page.evaluate(() => window.parley!.state)).toBe('connected');
    } finally {
      await Promise.all(replicas.map((r) => r.kill()));
      replicas = [];
      await ownStore.close();
      await ownRedis.stop();
    }
  });
});
