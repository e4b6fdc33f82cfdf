/**
 * The translated voice's playout scheduler against a real mediasoup router: parts of an utterance's
 * segments play in order; with pacing, a growing backlog is spoken faster (bounded) and past the hard bound
 * the oldest waiting segments are dropped and reported, never the newest; unpaced, everything plays in
 * full at its own speed.
 */
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlainInject } from '../src/ai/audio/plainInject.js';
import { TranslatedVoice, type PartStarted } from '../src/ai/gateway/TranslatedVoice.js';
import { UNPACED, type PaceOptions } from '../src/ai/simultaneous/pacer.js';
import { ROUTER_MEDIA_CODECS } from '../src/media/codecs.js';

/** A voiced stand-in for synthesized speech: `ms` of a 180 Hz tone at 16 kHz, ending in sound (nothing to trim). */
const speech = (ms: number) => ({ samples: Int16Array.from({ length: 16 * ms }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 180 * i) / 16000))), sampleRate: 16000 });

describe('TranslatedVoice (playout scheduler)', () => {
  let worker: types.Worker;
  let router: types.Router;

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
  });
  afterAll(() => worker?.close());

  async function voice(pace: PaceOptions) {
    const inject = await PlainInject.create({ router });
    const started: PartStarted[] = [];
    const behind: Array<{ segment: number; backlogMs: number }> = [];
    const finished = new Promise<void>((resolve) => inject.on('idle', resolve));
    const v = new TranslatedVoice({
      inject,
      roomId: 'r',
      speakerPeerId: 'p',
      language: 'es',
      pace,
      onStarted: (s) => started.push(s),
      onBehind: (d) => behind.push({ segment: d.segment?.index ?? -1, backlogMs: d.backlogMs }),
    });
    return { v, inject, started, behind, finished };
  }

  const offerSegments = (v: TranslatedVoice, count: number, ms: number) => {
    for (let index = 0; index < count; index++) {
      v.offer('u1', { part: 0, parts: 1, segment: { index, last: index === count - 1 }, text: `s${index}`, audio: speech(ms), marks: { speechEnd: Date.now() } }, 15_000);
    }
  };

  it('paced: speaks faster as the backlog grows, never past maxRate, and drops the oldest waiting segments past the bound', async () => {
    const { v, started, behind } = await voice({ relaxedBacklogMs: 200, fullBacklogMs: 1000, maxRate: 1.5, dropBacklogMs: 2500 });
    offerSegments(v, 5, 1000);
    const deadline = Date.now() + 10_000;
    while (started.length + behind.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 900)); // the last segment plays out
    // Segment 0 started alone; when it ended 4 s were waiting: the two oldest went, the newest two played.
    expect(started.map((s) => s.segment?.index)).toEqual([0, 3, 4]);
    expect(behind.map((b) => b.segment)).toEqual([1, 2]);
    expect(behind.every((b) => b.backlogMs <= 2500)).toBe(true);
    for (const s of started) {
      expect(s.rate).toBeGreaterThan(1);
      expect(s.rate).toBeLessThanOrEqual(1.5);
    }
    expect(started[1]!.backlogMs).toBeGreaterThan(1000); // segment 3 arrived behind segments 0, 1, 2
    expect(started[0]!.firstOfUtterance).toBe(true);
    v.close();
  });

  it('unpaced (consecutive): every part in full, in order, at its own speed', async () => {
    const { v, inject, started, behind, finished } = await voice(UNPACED);
    const before = inject.packetsSent;
    offerSegments(v, 3, 400);
    await finished;
    await new Promise((r) => setTimeout(r, 100));
    expect(started.map((s) => [s.segment?.index, s.rate])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    expect(behind).toEqual([]);
    // 1.2 s of speech in 20 ms packets (each part's last 200 ms chunk padded to a whole frame).
    const sent = inject.packetsSent - before;
    expect(sent).toBeGreaterThanOrEqual(60);
    expect(sent).toBeLessThanOrEqual(63);
    v.close();
  });
});
