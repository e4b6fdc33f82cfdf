/**
 * Video in real Chromium pages (fake camera: a moving 1280x720 test pattern; fake screen capture):
 * simulcast across replicas, the layer each viewer gets following its tile, screen share, the active
 * speaker across replicas, video back after a replica dies, and a capped downlink getting a lower
 * layer without freezing. Frame sizes come from each page's getStats (inbound-rtp).
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/app/gateway.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { joinAs, launchBrowser, waitForState, type ParleyBrowser } from '../src/devkit/browser.js';
import { startReplicas } from '../src/devkit/cluster.js';
import { startTestGateway, type GatewayProcess } from '../src/devkit/gateway.js';
import { SPEECH_WAV, waitFor } from '../src/devkit/media.js';
import { inboundVideo, layout, setVideo, waitForVideo } from './helpers/video.js';

let redis: EmbeddedRedis;
let browser: ParleyBrowser;
let replicas: GatewayProcess[] = [];
let gateway: Gateway | null = null;
const pages: Page[] = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  browser = await launchBrowser({ fakeAudioWav: SPEECH_WAV });
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all(replicas.map((r) => r.kill()));
  replicas = [];
  await gateway?.close();
  gateway = null;
});

afterAll(async () => {
  await browser?.close();
  await redis?.stop();
});

async function join(url: string, roomId: string, name: string): Promise<{ page: Page; peerId: string }> {
  const joined = await joinAs(browser, url, roomId, name);
  pages.push(joined.page);
  return joined;
}

const activeSpeaker = (page: Page) => page.evaluate(() => window.parley!.activeSpeaker);
const mute = (page: Page, muted: boolean) => page.evaluate((m) => (document.querySelector('#mute-button') as HTMLButtonElement).getAttribute('aria-pressed') === String(m) || (document.querySelector('#mute-button') as HTMLButtonElement).click(), muted);

describe('video across replicas', () => {
  it('three pages on two replicas see each other in simulcast; tiles pick layers; screen share; active speaker; back after a replica kill', async () => {
    replicas = await startReplicas(redis.url, 2, 'video');
    const a = await join(replicas[0]!.url, 'video', 'A');
    const b = await join(replicas[1]!.url, 'video', 'B');
    const c = await join(replicas[1]!.url, 'video', 'C');
    const all = [a, b, c];
    for (const p of all) await setVideo(p.page, 'cam', true);

    // Everyone decodes everyone else's camera (A's reaches B and C through a pipe, and theirs reach A).
    for (const viewer of all) {
      for (const sender of all) {
        if (sender === viewer) continue;
        await waitForVideo(viewer.page, sender.peerId, (v) => v.framesDecoded > 10 && v.frameHeight > 0, `${viewer.peerId} decoding ${sender.peerId}`);
      }
    }

    // B's tile of A large, then small: the server moves B to a lower layer of A's simulcast (piped from the other
    // replica). Heights are compared with what A's browser encodes at that moment: on a busy machine it scales
    // its layers down, but the lowest layer stays the lowest.
    const sent = async () => (await a.page.evaluate(() => window.parley!.outboundVideo())).filter((l) => l.source === 'cam' && l.framesEncoded > 0).map((l) => l.frameHeight);
    const bSeesA = async () => (await inboundVideo(b.page)).find((v) => v.peerId === a.peerId && v.source === 'cam');
    await layout(b.page, 1920, 1200);
    // `sent()` is A's layers lowest first (r0, r1, r2).
    await waitFor(async () => {
      const [heights, v] = [await sent(), await bSeesA()];
      return heights.length >= 2 && v && v.frameHeight >= heights[1]! ? v : null;
    }, 30_000, 'B receiving layer 1 or 2 of A in a large tile');
    await layout(b.page, 360, 640);
    await waitFor(async () => {
      const [heights, v] = [await sent(), await bSeesA()];
      return heights.length >= 2 && v && v.frameHeight === heights[0] && heights[0]! < heights[1]! ? v : null;
    }, 30_000, 'B receiving the lowest layer of A in a small tile');
    await layout(b.page, 1280, 800);

    // A shares its screen: one full-size layer, shown as a tile of its own.
    await setVideo(a.page, 'screen', true);
    const screen = await waitForVideo(c.page, a.peerId, (v) => v.framesDecoded > 5, 'C decoding A\'s screen', 30_000, 'screen');
    expect(screen.frameWidth).toBeGreaterThanOrEqual(640);
    await waitFor(async () => ((await c.page.locator('.tile.screen video').count()) === 1 ? true : null), 10_000, 'a screen tile on C');
    await setVideo(a.page, 'screen', false);

    // The active speaker follows who talks, across replicas: first only A talks, then only C.
    await mute(b.page, true);
    await mute(c.page, true);
    await waitFor(async () => ((await activeSpeaker(b.page)) === a.peerId && (await activeSpeaker(c.page)) === a.peerId ? true : null), 20_000, 'A active for B and C');
    await mute(a.page, true);
    await mute(c.page, false);
    await waitFor(async () => ((await activeSpeaker(a.page)) === c.peerId && (await activeSpeaker(b.page)) === c.peerId ? true : null), 20_000, 'C active for A and B');
    expect(await b.page.locator('.tile.active-speaker').count()).toBe(1);

    // A's replica dies: A comes back on the other one, and video flows both ways again.
    const old = (await inboundVideo(b.page)).find((v) => v.peerId === a.peerId && v.source === 'cam')!.producerId;
    await replicas[0]!.kill();
    await waitForState(a.page, ['reconnecting'], 15_000).catch(() => undefined);
    await waitForState(a.page, ['connected'], 45_000);
    // A's camera is a new producer now, on the surviving replica.
    await waitForVideo(b.page, a.peerId, (v) => v.producerId !== old && v.framesDecoded > 10, 'B decoding A after the failover');
    await waitForVideo(a.page, c.peerId, (v) => v.framesDecoded > 10, 'A decoding C after the failover');
  }, 240_000);
});

describe('video on a weak downlink', () => {
  it('a viewer whose downlink is capped gets a lower layer and keeps decoding', async () => {
    gateway = await startTestGateway(redis.url);
    const sender = await join(gateway.url, 'weak', 'Sender');
    const viewer = await join(gateway.url, 'weak', 'Viewer');
    await layout(viewer.page, 1920, 1200);
    await setVideo(sender.page, 'cam', true);
    await waitForVideo(viewer.page, sender.peerId, (v) => v.framesDecoded > 10, 'the viewer decoding the camera');
    const media = gateway.services.sessions.get('weak', viewer.peerId)!.media!;
    const consumer = () => media.video.consumers()[0]!;
    const rank = () => {
      const l = consumer().currentLayers;
      return l ? l.spatialLayer * 10 + (l.temporalLayer ?? 0) : -1;
    };
    const top = await waitFor(async () => (rank() >= 10 ? rank() : null), 30_000, 'the viewer receiving layer 1 or higher');
    await media.limitDownlink(150_000);
    await waitFor(async () => (rank() >= 0 && rank() < top ? true : null), 20_000, `a layer below ${top} under the cap`);
    // Not frozen: frames keep being decoded on the lower layer.
    const decoded = (await inboundVideo(viewer.page))[0]!.framesDecoded;
    await waitFor(async () => ((await inboundVideo(viewer.page))[0]!.framesDecoded >= decoded + 10 ? true : null), 15_000, 'frames decoded under the cap');
    // The metrics see it: one camera, its layers, the viewer's consumer on a layer, bitrate in the room, keyframes asked for.
    const text = await gateway.services.metrics.text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('parley_video_producers')).toBe(1);
    expect(value('parley_video_layers_sent')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^parley_video_consumers\{layer="\d"[^}]*\} 1$/m);
    expect(text).toMatch(/^parley_room_video_bitrate_bps\{room="weak"[^}]*\} [1-9]/m);
    // The layer switch asked the sender for a keyframe (mediasoup counts it once the request went out).
    await waitFor(async () => (Number(/^parley_video_keyframe_requests_total\S* (\S+)$/m.exec(await gateway!.services.metrics.text())?.[1]) > 0 ? true : null), 10_000, 'a keyframe request counted');
  }, 120_000);
});

describe('video after a media worker restart', () => {
  it('a killed mediasoup worker is replaced and both cameras come back', async () => {
    gateway = await startTestGateway(redis.url);
    const a = await join(gateway.url, 'restart', 'A');
    const b = await join(gateway.url, 'restart', 'B');
    for (const p of [a, b]) await setVideo(p.page, 'cam', true);
    const old = await waitForVideo(b.page, a.peerId, (v) => v.framesDecoded > 10, 'B decoding A');
    await waitForVideo(a.page, b.peerId, (v) => v.framesDecoded > 10, 'A decoding B');
    const pool = gateway.services.pool;
    const oldPid = pool.slots[0]!.worker.pid;
    process.kill(oldPid, 'SIGKILL');
    await waitFor(async () => (pool.slots[0] && pool.slots[0].worker.pid !== oldPid ? true : null), 15_000, 'a new mediasoup worker');
    // The pages reconnect onto the new worker and send their cameras again (new producers).
    await waitForVideo(b.page, a.peerId, (v) => v.producerId !== old.producerId && v.framesDecoded > 10, 'B decoding A after the restart', 45_000);
    await waitForVideo(a.page, b.peerId, (v) => v.framesDecoded > 10, 'A decoding B after the restart', 45_000);
  }, 120_000);
});
