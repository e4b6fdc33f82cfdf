import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concatPcm, float32ToInt16 } from './resample.js';
import { VadSegmenter, type VadPartial, type VadSegmenterOptions, type VadUtterance } from './vad.js';

const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as {
  readWave(path: string): { samples: Float32Array; sampleRate: number };
};
const DIR = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = readdirSync(DIR)
  .filter((f) => f.endsWith('.wav'))
  .sort()
  .map((f) => {
    const w = sherpa.readWave(join(DIR, f));
    if (w.sampleRate !== 16000) throw new Error(`${f}: expected 16 kHz, got ${w.sampleRate}`);
    return { name: f, pcm: float32ToInt16(w.samples) };
  });


/** Pushes `pcm` in 20 ms chunks (as it would arrive from the network), then flushes. */
async function segment(pcm: Int16Array, options: VadSegmenterOptions = {}, chunk = 320, cost?: { ms: number }): Promise<VadUtterance[]> {
  const vad = await VadSegmenter.create(options);
  const out: VadUtterance[] = [];
  const t0 = performance.now();
  for (let i = 0; i < pcm.length; i += chunk) out.push(...vad.push(pcm.subarray(i, i + chunk)));
  out.push(...vad.flush());
  if (cost) cost.ms += performance.now() - t0;
  vad.close();
  return out;
}

const ms = (u: VadUtterance) => u.endMs - u.startMs;

describe('VadSegmenter on real speech', () => {
  it('finds the speech in each LibriVox clip, and measures its speed', async () => {
    expect(CLIPS).toHaveLength(5);
    let audioMs = 0;
    const cost = { ms: 0 };
    const t0 = performance.now();
    (await VadSegmenter.create()).close();
    const loadMs = performance.now() - t0;
    for (const clip of CLIPS) {
      const clipMs = (clip.pcm.length / 16000) * 1000;
      const utts = await segment(clip.pcm, {}, 320, cost);
      audioMs += clipMs;
      const speech = utts.reduce((n, u) => n + ms(u), 0);
      console.log(`[vad] ${clip.name}: ${(clipMs / 1000).toFixed(2)} s, ${utts.length} utterance(s) ${utts.map((u) => `${u.startMs}-${u.endMs}/${u.endedBy}`).join(' ')}`);
      expect(utts.length).toBeGreaterThanOrEqual(1);
      expect(speech / clipMs).toBeGreaterThan(0.5);
      expect(speech / clipMs).toBeLessThanOrEqual(1);
      for (const u of utts) {
        expect(u.samples.length).toBe(Math.round(((u.endMs - u.startMs) * 16000) / 1000));
        expect(u.startMs).toBeGreaterThanOrEqual(0);
        expect(u.endMs).toBeLessThanOrEqual(clipMs + 1);
        // The samples are the clip's own audio at that place.
        const at = Math.round(u.startMs * 16);
        expect(u.samples.subarray(0, 100)).toEqual(clip.pcm.subarray(at, at + 100));
      }
    }
    console.log(`[vad] model load ${loadMs.toFixed(0)} ms; ${(cost.ms / (audioMs / 1000)).toFixed(1)} ms per second of audio (real-time factor ${(cost.ms / audioMs).toFixed(4)})`);
  });

  it('yields nothing for digital silence or low white noise', async () => {
    expect(await segment(new Int16Array(16000 * 5))).toEqual([]);
    let seed = 1;
    const noise = new Int16Array(16000 * 5).map(() => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.round(((seed / 0x7fffffff) * 2 - 1) * 300);
    });
    expect(await segment(noise)).toEqual([]);
  });

  it('splits speech at a pause and places both parts in time', async () => {
    const [a, b] = [CLIPS[0]!.pcm, CLIPS[1]!.pcm];
    const gapMs = 1500;
    const utts = await segment(concatPcm([a, new Int16Array(16 * gapMs), b]), { minSilenceMs: 400 });
    const aEnd = (a.length / 16000) * 1000;
    expect(utts.length).toBeGreaterThanOrEqual(2);
    expect(utts.some((u) => u.endMs <= aEnd + 450)).toBe(true);
    expect(utts.some((u) => u.startMs >= aEnd + gapMs - 600)).toBe(true);
    expect(utts.every((u) => u.endMs <= aEnd + 450 || u.startMs >= aEnd + 400)).toBe(true);
    expect(utts.find((u) => u.endMs <= aEnd + 450)!.endedBy).toBe('silence');
  });

  it('cuts a speaker who never stops at maxUtteranceMs, without losing or repeating audio', async () => {
    const all = concatPcm(CLIPS.map((c) => c.pcm));
    const maxUtteranceMs = 3000;
    const utts = await segment(all, { maxUtteranceMs });
    const totalMs = (all.length / 16000) * 1000;
    console.log(`[vad] ${(totalMs / 1000).toFixed(1)} s joined: ${utts.map((u) => `${u.startMs}-${u.endMs}/${u.endedBy}`).join(' ')}`);
    expect(utts.every((u) => ms(u) <= maxUtteranceMs)).toBe(true);
    expect(utts.filter((u) => u.endedBy === 'maxLength').length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < utts.length; i++) expect(utts[i]!.startMs).toBeGreaterThanOrEqual(utts[i - 1]!.endMs);
    // A cut continues exactly where the previous part stopped.
    const cut = utts.findIndex((u) => u.endedBy === 'maxLength');
    if (utts[cut + 1] && utts[cut + 1]!.startMs === utts[cut]!.endMs) {
      const at = Math.round(utts[cut + 1]!.startMs * 16);
      expect(utts[cut + 1]!.samples.subarray(0, 50)).toEqual(all.subarray(at, at + 50));
    }
    expect(utts.reduce((n, u) => n + ms(u), 0) / totalMs).toBeGreaterThan(0.5);
  });

  it('gives the same utterances whatever the chunk size', async () => {
    const pcm = concatPcm([CLIPS[2]!.pcm, new Int16Array(16000), CLIPS[3]!.pcm]);
    const a = await segment(pcm, {}, 320);
    const b = await segment(pcm, {}, 7777);
    expect(b.map((u) => [u.startMs, u.endMs])).toEqual(a.map((u) => [u.startMs, u.endMs]));
  });

  it('offers the speech so far every partialEveryMs, as prefixes of the utterance that ends the segment', async () => {
    const pcm = concatPcm([CLIPS[0]!.pcm, new Int16Array(16000), CLIPS[1]!.pcm]);
    const vad = await VadSegmenter.create({ partialEveryMs: 1000 });
    const utts: VadUtterance[] = [];
    const partials: VadPartial[] = [];
    for (let i = 0; i < pcm.length; i += 320) {
      utts.push(...vad.push(pcm.subarray(i, i + 320)));
      const p = vad.partial();
      if (p) partials.push(p);
    }
    utts.push(...vad.flush());
    expect(vad.partial()).toBeNull();
    vad.close();
    console.log(`[vad] partials ${partials.map((p) => `#${p.segment}:${p.startMs}-${p.endMs}`).join(' ')}; finals ${utts.map((u) => `#${u.segment}:${u.startMs}-${u.endMs}`).join(' ')}`);
    expect(partials.length).toBeGreaterThanOrEqual(2);
    expect(new Set(utts.map((u) => u.segment)).size).toBe(utts.length);
    for (const p of partials) {
      const final = utts.find((u) => u.segment === p.segment);
      expect(final, `segment ${p.segment} ends in an utterance`).toBeDefined();
      // Partials of a segment start about where its utterance starts (our estimate vs Silero's), grow
      // by about a second each, and never run past its end.
      expect(Math.abs(p.startMs - final!.startMs)).toBeLessThan(400);
      expect(p.endMs).toBeLessThanOrEqual(final!.endMs + 32);
      const at = Math.round(p.startMs * 16);
      expect(p.samples.subarray(0, 100)).toEqual(pcm.subarray(at, at + 100));
    }
    for (let i = 1; i < partials.length; i++) {
      if (partials[i]!.segment !== partials[i - 1]!.segment) continue;
      expect(partials[i]!.endMs - partials[i - 1]!.endMs).toBeGreaterThanOrEqual(1000);
      expect(partials[i]!.endMs - partials[i - 1]!.endMs).toBeLessThan(1100);
    }
  });

  it('offers no partials unless asked, and none in silence', async () => {
    const off = await VadSegmenter.create();
    for (let i = 0; i < CLIPS[0]!.pcm.length; i += 320) {
      off.push(CLIPS[0]!.pcm.subarray(i, i + 320));
      expect(off.partial()).toBeNull();
    }
    off.close();
    const on = await VadSegmenter.create({ partialEveryMs: 500 });
    on.push(new Int16Array(16000 * 3));
    expect(on.partial()).toBeNull();
    on.close();
    await expect(VadSegmenter.create({ partialEveryMs: -1 })).rejects.toThrow(TypeError);
  });

  it('fails clearly on a missing model and on bad options', async () => {
    await expect(VadSegmenter.create({ modelPath: '/nonexistent/silero.onnx' })).rejects.toThrow(/not found/);
    await expect(VadSegmenter.create({ maxUtteranceMs: 10 })).rejects.toThrow(TypeError);
  });
});
