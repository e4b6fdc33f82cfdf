/**
 * Redis under Sentinel, with real processes: a primary, its replica and three
 * sentinels (RedisSentinelSet), three gateway replicas and an AI worker on the
 * redis-sentinel:// connection string, Chromium pages in one room. The primary
 * is killed with SIGKILL mid-call; the sentinels promote the replica and every
 * client follows it.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Page } from 'playwright-core';
import { RedisSentinelSet } from '../src/state/RedisSentinelSet.js';
import { RedisStore } from '../src/state/RedisStore.js';
import { Keys } from '../src/state/keys.js';
import { joinCall, launchBrowser, type ParleyBrowser } from './helpers/browser.js';
import { backWithAudio, everyoneHearsEveryone, keysMentioning, startReplicas, watchGap } from './helpers/cluster.js';
import { spawnAiWorker, type AiWorkerProcess, type GatewayProcess } from './helpers/gateway.js';
import { speechWithPauses, waitFor } from './helpers/media.js';

let set: RedisSentinelSet;
let store: RedisStore;
let browser: ParleyBrowser;
let replicas: GatewayProcess[] = [];
let worker: AiWorkerProcess | null = null;
const pages: Page[] = [];

beforeAll(async () => {
  // A primary silent for 1 s is down (production: 5 s; see docs/operations.md).
  set = await RedisSentinelSet.start({ downAfterMs: 1000, failoverTimeoutMs: 5000 });
  store = await RedisStore.create({ url: set.url });
  browser = await launchBrowser({ fakeAudioWav: speechWithPauses() });
}, 60_000);

afterAll(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all([...replicas, ...(worker ? [worker] : [])].map((p) => p.kill()));
  await browser?.close();
  await store?.close();
  await set?.stop();
});

type Caption = { speakerPeerId: string; language: string; text: string; original: boolean; receivedAt: number };

async function spanishCaptionAfter(page: Page, speaker: string, since: number, timeoutMs: number): Promise<Caption> {
  return waitFor(async () => {
    const all = (await page.evaluate(() => window.parley!.captions())) as Caption[];
    return all.find((c) => c.speakerPeerId === speaker && !c.original && c.language === 'es' && c.text.trim() !== '' && c.receivedAt > since) ?? null;
  }, timeoutMs, 'a Spanish caption');
}

/** A page on `url` in `roomId`; only Ann speaks English, everyone listens in Spanish (one translated speaker). */
async function join(url: string, roomId: string, name: string, spoken: 'en' | 'es'): Promise<{ page: Page; peerId: string; at: number }> {
  const page = await browser.newPage();
  pages.push(page);
  await joinCall(page, url, { roomId, displayName: name, spokenLanguage: spoken, listeningLanguage: 'es' });
  return { page, peerId: await page.evaluate(() => window.parley!.peerId!), at: Date.now() };
}

async function roomPeers(roomId: string): Promise<string[]> {
  const rec = await store.get(Keys.room(roomId));
  if (!rec) return [];
  return Object.keys((JSON.parse(rec.doc) as { snapshot: { context: { peers: Record<string, unknown> } } }).snapshot.context.peers);
}

describe('the Redis primary killed under Sentinel', () => {
  it('calls go on, the room and the replicas are re-asserted on the promoted replica, joins, translation and replica failover work after it', async () => {
    replicas = await startReplicas(set.url, 3, 'sent');
    worker = await spawnAiWorker(set.url);
    onTestFailed(() => {
      // What the gateways said above info, to tell a Redis, pipe or signaling fault apart.
      for (const r of replicas) console.log(`--- ${r.replicaId}\n${r.logs().split('\n').filter((l) => /"level":(30|40|50|60)/.test(l) && !/ECONNREFUSED|sentinels are unreachable|MaxRetries|saturated|RetransmissionBuffer|no suitable Producer|engine ready|serves/.test(l)).slice(-60).join('\n')}`);
    });
    const roomId = 'sentinel-room';
    const ann = await join(replicas[0]!.url, roomId, 'Ann', 'en');
    const ben = await join(replicas[1]!.url, roomId, 'Ben', 'es');
    const cy = await join(replicas[2]!.url, roomId, 'Cy', 'es');
    const ps = [ann.page, ben.page, cy.page];
    const ids = [ann.peerId, ben.peerId, cy.peerId];
    await everyoneHearsEveryone(ps, ids);
    await spanishCaptionAfter(ben.page, ann.peerId, 0, 90_000);

    const watches = [watchGap(ben.page, ann.peerId), watchGap(ann.page, cy.peerId)];
    const { killed, promoted, promotedAfterMs } = await set.killPrimary();
    const killedAt = Math.round(Date.now() - promotedAfterMs);
    expect(promoted.port).not.toBe(killed.port);

    // A new page joins as soon as it can: the bound is measured from the kill.
    const dee = await join(replicas[0]!.url, roomId, 'Dee', 'es');
    const joinAfterKillMs = dee.at - killedAt;
    await everyoneHearsEveryone([...ps, dee.page], [...ids, dee.peerId]);

    // Whatever the promoted replica lacked is written again by the gateways: the whole room, every replica.
    await waitFor(async () => ((await roomPeers(roomId)).length === 4 ? true : null), 30_000, 'the room whole on the promoted primary');
    await waitFor(async () => (Object.keys(await store.hashGetAll(Keys.replicas())).length === 3 ? true : null), 30_000, 'every replica registered');
    const gaps = await Promise.all(watches.map((w) => w.stop()));
    console.log(`[sentinel] longest gaps ${gaps.map((g) => `${g.longestGapMs} ms from ${g.longestGapFrom - killedAt} ms after the kill (${g.consumers} consumer(s), ${g.samples} samples)`).join(', ')}; Dee joined ${dee.at - killedAt} ms after it`);
    for (const g of gaps) expect(g.longestGapMs).toBeLessThan(1000);
    for (const page of ps) expect(await page.evaluate(() => window.parley!.state)).toBe('connected');

    // Translation (BullMQ queues and workers, result queues) resumes on the promoted primary.
    const caption = await spanishCaptionAfter(ben.page, ann.peerId, killedAt + promotedAfterMs, 90_000);
    const captionAfterKillMs = caption.receivedAt - killedAt;

    // Replica failover still works: Cy's replica is killed, Cy comes back through another.
    const before = await cy.page.evaluate(() => window.parley!.reconnects);
    await replicas[2]!.kill();
    await backWithAudio(cy.page, [ann.peerId, ben.peerId], before, 30_000);
    await waitFor(async () => ((await keysMentioning(store, 'sent-2')).length === 0 ? true : null), 60_000, 'no key mentioning the dead replica');
    const after = await roomPeers(roomId);
    expect(after).toHaveLength(4);
    expect(after).toEqual(expect.arrayContaining([ann.peerId, ben.peerId, dee.peerId]));

    console.log(
      `[sentinel] primary killed: promoted after ${Math.round(promotedAfterMs)} ms; a new page joined ${joinAfterKillMs} ms after the kill; ` +
        `longest audio gaps ${gaps.map((g) => g.longestGapMs).join(' ms, ')} ms; next Spanish caption ${captionAfterKillMs} ms after the kill`,
    );
    // A replica stalled past the shortened staleness is reported, not reaped while its port answers.
    const late = replicas.flatMap((r) => r.logs().split('\n').filter((l) => /heartbeat late|not gone yet/.test(l)));
    if (late.length > 0) console.log(`[sentinel] late heartbeats:\n${late.join('\n')}`);
  }, 300_000);
});
