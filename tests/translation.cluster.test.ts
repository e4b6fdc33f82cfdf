import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Queue } from 'bullmq';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { bullName, QueueNames } from '../src/state/keys.js';
import { joinCall, launchBrowser, type ParleyBrowser } from '../src/devkit/browser.js';
import { startReplicas } from '../src/devkit/cluster.js';
import { spawnAiWorker, type AiWorkerProcess, type GatewayProcess } from '../src/devkit/gateway.js';
import { speechWithPauses, waitFor } from '../src/devkit/media.js';

let redis: EmbeddedRedis;
let browser: ParleyBrowser;
let replicas: GatewayProcess[] = [];
let workers: AiWorkerProcess[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  browser = await launchBrowser({ fakeAudioWav: speechWithPauses() });
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all([...replicas, ...workers].map((p) => p.kill()));
  replicas = [];
  workers = [];
});

afterAll(async () => {
  await browser?.close();
  await redis?.stop();
});

type Caption = { utteranceId: string; speakerPeerId: string; language: string; text: string; original: boolean; final: boolean; receivedAt: number };

async function captionsAt(page: Page): Promise<Caption[]> {
  return page.evaluate(() => window.parley!.captions()) as Promise<Caption[]>;
}

/** A Spanish caption from `speaker` received after `since`. */
async function spanishCaptionAfter(page: Page, speaker: string, since: number, timeoutMs: number): Promise<Caption> {
  return waitFor(async () => {
    const c = (await captionsAt(page)).find((x) => x.speakerPeerId === speaker && !x.original && x.language === 'es' && x.text.trim() !== '' && x.receivedAt > since);
    return c ?? null;
  }, timeoutMs, 'a Spanish caption');
}

async function speakerAndListener(speakerUrl: string, listenerUrl: string, roomId: string): Promise<{ listener: Page; speakerId: string }> {
  const a = await browser.newPage();
  const b = await browser.newPage();
  pages.push(a, b);
  await joinCall(a, speakerUrl, { roomId, displayName: 'Ann', spokenLanguage: 'en', listeningLanguage: 'en' });
  await joinCall(b, listenerUrl, { roomId, displayName: 'Ben', spokenLanguage: 'es', listeningLanguage: 'es' });
  return { listener: b, speakerId: await a.evaluate(() => window.parley!.peerId!) };
}

describe('speech translation across replicas', () => {
  it('a speaker on one replica is captioned and heard in Spanish by a listener on another', async () => {
    replicas = await startReplicas(redis.url, 2, 'tx');
    workers = [await spawnAiWorker(redis.url)];
    const { listener, speakerId } = await speakerAndListener(replicas[0]!.url, replicas[1]!.url, 'tx-room');
    expect((await listener.evaluate(() => window.parley!.url)).replace(/\/$/, '')).toBe(replicas[1]!.url);
    const caption = await spanishCaptionAfter(listener, speakerId, 0, 90_000);
    console.log(`[translation/cross-replica] "${caption.text}"`);
    // Recognition streams from replica 0's tap: the words so far reach the listener on replica 1 while Ann
    // still speaks (partial captions before the final of the same utterance).
    const partial = await waitFor(async () => {
      const fromAnn = (await captionsAt(listener)).filter((c) => c.speakerPeerId === speakerId && c.original);
      const final = fromAnn.find((f) => f.final && fromAnn.some((p) => p.utteranceId === f.utteranceId && !p.final && p.text.trim() && p.receivedAt < f.receivedAt));
      return final ? { final, first: fromAnn.find((p) => p.utteranceId === final.utteranceId && !p.final)! } : null;
    }, 60_000, 'partial captions before a final across replicas');
    console.log(`[translation/cross-replica] partial "${partial.first.text}" ${partial.final.receivedAt - partial.first.receivedAt} ms before the final "${partial.final.text}"`);
    // The translated voice is a producer of the speaker on replica 0, piped to replica 1.
    await waitFor(async () => {
      const peer = (await listener.evaluate(() => window.parley!.peers())).find((p) => p.peerId === speakerId);
      const voice = peer?.producers.find((p) => p.source === 'translation:es');
      if (!voice) return null;
      const s = (await listener.evaluate(() => window.parley!.inboundAudio())).find((x) => x.producerId === voice.producerId);
      return s && s.bytesReceived > 0 && s.totalAudioEnergy > 0 ? true : null;
    }, 60_000, 'the Spanish voice across replicas');
  }, 180_000);
});

describe('an AI worker killed mid-utterance', () => {
  it('the utterance is retried or dropped within seconds and the next one is translated', async () => {
    replicas = await startReplicas(redis.url, 1, 'aik');
    workers = [await spawnAiWorker(redis.url)];
    const { listener, speakerId } = await speakerAndListener(replicas[0]!.url, replicas[0]!.url, 'aik-room');
    await spanishCaptionAfter(listener, speakerId, 0, 90_000);

    // Kill the worker while it holds a speech-recognition job.
    const stt = new Queue(bullName(QueueNames.stt), { connection: { url: redis.url }, prefix: 'parley' });
    try {
      await waitFor(async () => ((await stt.getActiveCount()) > 0 ? true : null), 60_000, 'an active stt job');
      const killedAt = Date.now();
      await workers[0]!.kill();
      workers.push(await spawnAiWorker(redis.url));
      // The held job leaves the active list (retried by the new worker, or dropped) within a few seconds...
      await waitFor(async () => ((await stt.getActiveCount()) === 0 || (await stt.getCompletedCount()) > 0 ? true : null), 20_000, 'the held job released');
      const releasedMs = Date.now() - killedAt;
      // ...and speech keeps being translated.
      const next = await spanishCaptionAfter(listener, speakerId, killedAt, 90_000);
      console.log(`[translation/ai-worker-kill] held job released ${releasedMs} ms after kill -9; next Spanish caption ${next.receivedAt - killedAt} ms after it`);
    } finally {
      await stt.close();
    }
  }, 240_000);
});
