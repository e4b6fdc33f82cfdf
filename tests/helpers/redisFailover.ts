/**
 * The Redis-primary-killed scenario both Redis modes are held to (Sentinel and
 * Cluster): three gateway replicas and an AI worker on the mode's connection
 * string, Chromium pages in one room (Ann speaks English, everyone listens in
 * Spanish), the primary killed with SIGKILL mid-call. Then: the pages keep
 * hearing each other, a new page joins, the room and the replicas are
 * re-asserted, translation resumes, and a gateway replica killed afterwards is
 * still failed over with no key of it left.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, onTestFailed } from 'vitest';
import type { Page } from 'playwright-core';
import { Keys } from '../../src/state/keys.js';
import { RedisStore } from '../../src/state/RedisStore.js';
import { joinCall, launchBrowser, type ParleyBrowser } from '../../src/devkit/browser.js';
import { backWithAudio, describeGap, everyoneHearsEveryone, keysMentioning, startReplicas, watchGap } from '../../src/devkit/cluster.js';
import { spawnAiWorker, type AiWorkerProcess, type GatewayProcess } from '../../src/devkit/gateway.js';
import { speechWithPauses, waitFor } from '../../src/devkit/media.js';

type Caption = { speakerPeerId: string; language: string; text: string; original: boolean; receivedAt: number };

export type PrimaryKill = { promotedAfterMs: number; killedPort: number; promotedPort: number };

export type FailoverRun = {
  /** Started here; the caller stops them (afterAll). */
  replicas: GatewayProcess[];
  worker: AiWorkerProcess | null;
  pages: Page[];
};

export type FailoverFigures = { promotedAfterMs: number; joinMs: number; joinAfterKillMs: number; waitsMs: number[]; lostMs: number[]; captionAfterKillMs: number };

/** How long the calls are watched after the promotion, before anything else happens. */
const SETTLE_MS = 3000;

export type FailoverSetup<S> = { set: S; store: RedisStore; browser: ParleyBrowser; run: FailoverRun };

/**
 * Starts the Redis of a mode (`start`), a store on it and a browser whose pages speak with pauses before
 * the tests, and stops everything after them (pages, gateways, AI worker, browser, store, Redis).
 */
export function redisFailoverSetup<S extends { url: string; stop(): Promise<void> }>(start: () => Promise<S>): FailoverSetup<S> {
  const setup = { run: { replicas: [], worker: null, pages: [] } } as unknown as FailoverSetup<S>;
  beforeAll(async () => {
    setup.set = await start();
    setup.store = await RedisStore.create({ url: setup.set.url });
    setup.browser = await launchBrowser({ fakeAudioWav: speechWithPauses() });
  }, 60_000);
  afterAll(async () => {
    const { run } = setup;
    await Promise.all(run.pages.splice(0).map((p) => p.close().catch(() => undefined)));
    await Promise.all([...run.replicas, ...(run.worker ? [run.worker] : [])].map((p) => p.kill()));
    await setup.browser?.close();
    await setup.store?.close();
    await setup.set?.stop();
  });
  return setup;
}

/** Log lines that tell a Redis, pipe or signaling fault apart (level info and up, without the expected noise). */
function telling(logs: string): string {
  const noise = /ECONNREFUSED|sentinels are unreachable|MaxRetries|saturated|RetransmissionBuffer|no suitable Producer|engine ready|serves|CLUSTERDOWN|ClusterAllFailed/;
  return logs
    .split('\n')
    .filter((l) => /"level":(30|40|50|60)/.test(l) && !noise.test(l))
    .slice(-60)
    .join('\n');
}

export async function primaryKilledMidCall(o: {
  label: string;
  url: string;
  roomId: string;
  browser: ParleyBrowser;
  store: RedisStore;
  run: FailoverRun;
  killPrimary: () => Promise<PrimaryKill>;
}): Promise<FailoverFigures> {
  const { browser, store, run, roomId, label } = o;
  run.replicas.push(...(await startReplicas(o.url, 3, label)));
  run.worker = await spawnAiWorker(o.url);
  onTestFailed(() => {
    for (const r of run.replicas) console.log(`--- ${r.replicaId}\n${telling(r.logs())}`);
  });
  const join = async (url: string, name: string, spoken: 'en' | 'es') => {
    const page = await browser.newPage();
    run.pages.push(page);
    await joinCall(page, url, { roomId, displayName: name, spokenLanguage: spoken, listeningLanguage: 'es' });
    return { page, peerId: await page.evaluate(() => window.parley!.peerId!), at: Date.now() };
  };
  const roomPeers = async (): Promise<string[]> => {
    const rec = await store.get(Keys.room(roomId));
    return rec ? Object.keys((JSON.parse(rec.doc) as { snapshot: { context: { peers: Record<string, unknown> } } }).snapshot.context.peers) : [];
  };
  const spanishCaptionAfter = (page: Page, speaker: string, since: number): Promise<Caption> =>
    waitFor(async () => {
      const all = (await page.evaluate(() => window.parley!.captions())) as Caption[];
      return all.find((c) => c.speakerPeerId === speaker && !c.original && c.language === 'es' && c.text.trim() !== '' && c.receivedAt > since) ?? null;
    }, 90_000, 'a Spanish caption');

  const [r0, r1, r2] = run.replicas;
  const ann = await join(r0!.url, 'Ann', 'en');
  const ben = await join(r1!.url, 'Ben', 'es');
  const cy = await join(r2!.url, 'Cy', 'es');
  const ps = [ann.page, ben.page, cy.page];
  const ids = [ann.peerId, ben.peerId, cy.peerId];
  await everyoneHearsEveryone(ps, ids);
  await spanishCaptionAfter(ben.page, ann.peerId, 0);

  // The calls are watched through the failover and until the clients have settled on the promoted primary
  // (re-subscribed, re-asserted); nothing else happens meanwhile, so a gap is the failover's.
  const watches = [watchGap(ben.page, ann.peerId), watchGap(ann.page, cy.peerId)];
  const kill = await o.killPrimary();
  const killedAt = Math.round(Date.now() - kill.promotedAfterMs);
  expect(kill.promotedPort).not.toBe(kill.killedPort);
  await sleep(SETTLE_MS);
  const gaps = await Promise.all(watches.map((w) => w.stop()));
  console.log(`[${label}] audio: ${gaps.map((g) => `${describeGap(g)} from ${g.longestGapFrom - killedAt} ms after the kill (${g.consumers} consumer(s))`).join(', ')}`);
  // Media does not pass through Redis: no audio is lost (a wait the starved machine causes is reported above).
  for (const g of gaps) expect(g.lostMs).toBeLessThan(1000);
  for (const page of ps) expect(await page.evaluate(() => window.parley!.state)).toBe('connected');

  // A new page joins (a fourth Chromium page: on 2 cores it slows everything while it starts).
  const joinFrom = Date.now();
  const dee = await join(r0!.url, 'Dee', 'es');
  await everyoneHearsEveryone([...ps, dee.page], [...ids, dee.peerId]);

  // Whatever the promoted replica lacked is written again by the gateways: the whole room, every replica.
  await waitFor(async () => ((await roomPeers()).length === 4 ? true : null), 30_000, 'the room whole on the promoted primary');
  await waitFor(async () => (Object.keys(await store.hashGetAll(Keys.replicas())).length === 3 ? true : null), 30_000, 'every replica registered');

  // Translation (BullMQ queues and workers, result queues) resumes on the promoted primary.
  const caption = await spanishCaptionAfter(ben.page, ann.peerId, killedAt + kill.promotedAfterMs);

  // Replica failover still works: Cy's replica is killed, Cy comes back through another.
  const before = await cy.page.evaluate(() => window.parley!.reconnects);
  await r2!.kill();
  await backWithAudio(cy.page, [ann.peerId, ben.peerId], before, 30_000);
  await waitFor(async () => ((await keysMentioning(store, r2!.replicaId)).length === 0 ? true : null), 60_000, 'no key mentioning the dead replica');
  const after = await roomPeers();
  expect(after).toHaveLength(4);
  expect(after).toEqual(expect.arrayContaining([ann.peerId, ben.peerId, dee.peerId]));

  // A replica stalled past the shortened staleness is reported, not reaped while its port answers.
  const late = run.replicas.flatMap((r) => r.logs().split('\n').filter((l) => /heartbeat late|not gone yet/.test(l)));
  if (late.length > 0) console.log(`[${label}] late heartbeats:\n${late.join('\n')}`);
  return {
    promotedAfterMs: Math.round(kill.promotedAfterMs),
    joinMs: dee.at - joinFrom,
    joinAfterKillMs: dee.at - killedAt,
    waitsMs: gaps.map((g) => g.longestGapMs),
    lostMs: gaps.map((g) => g.lostMs),
    captionAfterKillMs: caption.receivedAt - killedAt,
  };
}

export function describeFigures(f: FailoverFigures): string {
  return (
    `promoted after ${f.promotedAfterMs} ms; audio lost ${f.lostMs.join(' ms, ')} ms, longest waits ${f.waitsMs.join(' ms, ')} ms (to ${SETTLE_MS / 1000} s after it); ` +
    `a new page then joined in ${f.joinMs} ms (${f.joinAfterKillMs} ms after the kill); next Spanish caption ${f.captionAfterKillMs} ms after the kill`
  );
}
