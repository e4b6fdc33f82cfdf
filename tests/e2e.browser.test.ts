import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Gateway } from '../src/app/gateway.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { Keys } from '../src/state/keys.js';
import { inboundAudio, joinAs, launchBrowser, leaveCall, type ParleyBrowser } from '../src/devkit/browser.js';
import { describeGap, watchGap } from '../src/devkit/cluster.js';
import { startTestGateway } from '../src/devkit/gateway.js';
import { SPEECH_WAV, waitFor } from '../src/devkit/media.js';

let redis: EmbeddedRedis;
let gateway: Gateway;
let browser: ParleyBrowser;

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  gateway = await startTestGateway(redis.url);
  browser = await launchBrowser({ fakeAudioWav: SPEECH_WAV });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await redis?.stop();
});

/** Waits until `page` receives audio with energy from the peer named `fromPeerId`. */
async function hearsPeer(page: Page, fromPeerId: string): Promise<{ bytesReceived: number; totalAudioEnergy: number }> {
  return waitFor(async () => {
    const stats = await inboundAudio(page);
    const s = stats.find((x) => x.peerId === fromPeerId);
    return s && s.bytesReceived > 0 && s.totalAudioEnergy > 0 ? s : null;
  }, 20_000, `audio from ${fromPeerId}`);
}

describe('a real browser call', () => {
  it('two Chromium pages hear each other through the web client, and leaving cleans up', async () => {
    const { page: a, peerId: idA } = await joinAs(browser, gateway.url, 'e2e-call', 'Ann');
    const { page: b, peerId: idB } = await joinAs(browser, gateway.url, 'e2e-call', 'Ben');

    const atA = await hearsPeer(a, idB);
    const atB = await hearsPeer(b, idA);
    expect(atA.bytesReceived).toBeGreaterThan(0);
    expect(atA.totalAudioEnergy).toBeGreaterThan(0);
    expect(atB.bytesReceived).toBeGreaterThan(0);
    expect(atB.totalAudioEnergy).toBeGreaterThan(0);

    const roster = await a.evaluate(() => window.parley!.peers().map((p) => p.displayName));
    expect(roster).toContain('Ben');

    await leaveCall(a);
    await leaveCall(b);
    await waitFor(async () => ((await gateway.services.store.keys(Keys.roomPattern('e2e-call'))).length === 0 ? true : null), 5000, 'room keys gone');
    const server = (await gateway.services.pool.slots[0]!.webRtcServer.dump()) as { webRtcTransportIds: string[] };
    expect(server.webRtcTransportIds).toEqual([]);
    const worker = (await gateway.services.pool.slots[0]!.worker.dump()) as { routerIds: string[] };
    expect(worker.routerIds).toEqual([]);
  });
});

describe('a mediasoup worker that dies', () => {
  it('is recreated without the process exiting, and the peers get their audio back', async () => {
    const { page: a, peerId: idA } = await joinAs(browser, gateway.url, 'e2e-worker', 'Ann');
    const { page: b, peerId: idB } = await joinAs(browser, gateway.url, 'e2e-worker', 'Ben');
    await hearsPeer(a, idB);

    const pool = gateway.services.pool;
    const oldPid = pool.slots[0]!.worker.pid;
    process.kill(oldPid, 'SIGKILL');
    await waitFor(async () => (pool.slots[0] && pool.slots[0].worker.pid !== oldPid ? true : null), 10_000, 'a new worker');
    expect(pool.states()[0]).toMatchObject({ state: 'running', restarts: 1 });

    // The pages were asked to reconnect; they rejoin on the new worker and hear each other again.
    await waitFor(async () => {
      const [atA, atB] = await Promise.all([inboundAudio(a), inboundAudio(b)]);
      const ok = (stats: typeof atA, from: string) => stats.some((s) => s.peerId === from && s.bytesReceived > 0 && s.totalAudioEnergy > 0);
      return ok(atA, idB) && ok(atB, idA) && pool.slots[0]!.load === 2 ? true : null;
    }, 30_000, 'audio after the worker restart');
    await leaveCall(a);
    await leaveCall(b);
  });
});

describe('a room spread over two workers of one replica', () => {
  it('puts the second peer on another worker and pipes media between the routers', async () => {
    const spread = await startTestGateway(redis.url, { media: { workers: 2, maxPeersPerRouter: 1 } });
    try {
      const { page: a, peerId: idA } = await joinAs(browser, spread.url, 'e2e-spread', 'Ann');
      const { page: b, peerId: idB } = await joinAs(browser, spread.url, 'e2e-spread', 'Ben');
      const routers = spread.services.routers.routersOf('e2e-spread');
      expect(routers).toHaveLength(2);
      expect(new Set(routers.map((r) => r.slot.index)).size).toBe(2);
      await hearsPeer(a, idB);
      await hearsPeer(b, idA);
      await leaveCall(a);
      await leaveCall(b);
      expect(spread.services.routers.routersOf('e2e-spread')).toEqual([]);
    } finally {
      await spread.close();
    }
  });
});

describe('the audio watch the failover tests and suites rely on (watchGap)', () => {
  it('counts audio the server drops as lost, and audio it holds up and then delivers as a wait only', async () => {
    const { page: a, peerId: idA } = await joinAs(browser, gateway.url, 'e2e-gap', 'Ann');
    const { page: b } = await joinAs(browser, gateway.url, 'e2e-gap', 'Ben');
    await hearsPeer(b, idA);

    // Held up: the mediasoup worker stopped for 1.5 s; the packets wait in its socket and go out when it runs again.
    const held = watchGap(b, idA);
    await sleep(500);
    const pid = gateway.services.pool.slots[0]!.worker.pid;
    process.kill(pid, 'SIGSTOP');
    await sleep(1500);
    process.kill(pid, 'SIGCONT');
    await sleep(1500);
    const h = await held.stop();
    expect(h.longestGapMs).toBeGreaterThan(1000);
    expect(h.lostMs).toBeLessThan(500);

    // Dropped: Ann mutes for 1.5 s (the server pauses her producer and forwards nothing meanwhile).
    const dropped = watchGap(b, idA);
    await sleep(500);
    const muted = (on: boolean) => waitFor(async () => ((await a.evaluate(() => window.parley!.mic.muted)) === on ? true : null), 5000, `muted ${on}`);
    await a.click('#mute-button');
    await muted(true);
    await sleep(1500);
    await a.click('#mute-button');
    await muted(false);
    await sleep(1500);
    const d = await dropped.stop();
    console.log(`[watchGap] worker stopped 1.5 s: ${describeGap(h)}; speaker muted 1.5 s: ${describeGap(d)}`);
    expect(d.lostMs).toBeGreaterThan(1000);
    expect(d.consumers).toBe(1);
    await leaveCall(a);
    await leaveCall(b);
  });
});
