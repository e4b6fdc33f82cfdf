import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPause } from './pauseCut.js';
import { concatPcm, rms } from './resample.js';
import { VadSegmenter, type SpeechStreamEvent, type VadSegmenterOptions, type VadUtterance } from './vad.js';
import { parseWav } from './wav.js';

const DIR = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = readdirSync(DIR)
  .filter((f) => f.endsWith('.wav'))
  .sort()
  .map((f) => {
    const w = parseWav(readFileSync(join(DIR, f)));
    if (w.sampleRate !== 16000) throw new Error(`${f}: expected 16 kHz, got ${w.sampleRate}`);
    return { name: f, pcm: w.samples };
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

type Run = { utts: VadUtterance[]; events: SpeechStreamEvent[] };

/** Like segment(), also taking the stream events after every push and after the flush. */
async function stream(pcm: Int16Array, options: VadSegmenterOptions, chunk = 320): Promise<Run> {
  const vad = await VadSegmenter.create(options);
  const run: Run = { utts: [], events: [] };
  for (let i = 0; i < pcm.length; i += chunk) {
    run.utts.push(...vad.push(pcm.subarray(i, i + chunk)));
    run.events.push(...vad.takeStream());
  }
  run.utts.push(...vad.flush());
  run.events.push(...vad.takeStream());
  vad.close();
  return run;
}

type Streamed = { segment: number; startMs: number; endMs: number; samples: Int16Array; end: Extract<SpeechStreamEvent, { type: 'end' }> };

/**
 * Checks the stream events of a run against the audio pushed and returns each segment's stream: segments
 * one after the other, each 'start', 'chunk's, 'end'; chunks contiguous, at least chunkMs except the last,
 * holding the audio at their place; every utterance covered by the stream of its segment, whose 'end' says
 * how and where it ended; no stream without an end, and only 'discarded' ones without an utterance.
 */
function checkStreams({ utts, events }: Run, pcm: Int16Array, chunkMs: number): Streamed[] {
  const out: Streamed[] = [];
  let open: { segment: number; startMs: number; at: number; parts: Int16Array[] } | null = null;
  for (const e of events) {
    if (e.type === 'start') {
      expect(open, `segment ${e.segment} starts while ${open?.segment} is open`).toBeNull();
      expect(e.startMs).toBeGreaterThanOrEqual(out.at(-1)?.endMs ?? 0);
      open = { segment: e.segment, startMs: e.startMs, at: e.startMs * 16, parts: [] };
      continue;
    }
    expect(open?.segment, `${e.type} of segment ${e.segment} outside its stream`).toBe(e.segment);
    if (e.type === 'chunk') {
      const last = open!.parts.at(-1);
      if (last) expect(last.length).toBeGreaterThanOrEqual(chunkMs * 16); // only the last chunk is shorter
      expect(e.startMs * 16).toBe(open!.at);
      expect(e.samples.length).toBeGreaterThan(0);
      expect(e.samples).toEqual(pcm.subarray(open!.at, open!.at + e.samples.length));
      open!.at += e.samples.length;
      open!.parts.push(e.samples);
    } else {
      expect(e.endMs * 16).toBe(open!.at);
      expect(e.lastVoicedMs).toBeGreaterThanOrEqual(open!.startMs);
      expect(e.lastVoicedMs).toBeLessThanOrEqual(e.endMs);
      out.push({ segment: e.segment, startMs: open!.startMs, endMs: e.endMs, samples: concatPcm(open!.parts), end: e });
      open = null;
    }
  }
  expect(open, 'every stream ends').toBeNull();
  for (const u of utts) {
    const s = out.find((x) => x.segment === u.segment);
    expect(s, `utterance of segment ${u.segment} was streamed`).toBeDefined();
    expect(s!.end).toMatchObject({ endedBy: u.endedBy, lastVoicedMs: u.endMs });
    expect(u.startMs).toBeGreaterThanOrEqual(s!.startMs);
    expect(u.endMs).toBeLessThanOrEqual(s!.endMs);
    const at = (u.startMs - s!.startMs) * 16;
    expect(s!.samples.subarray(at, at + u.samples.length)).toEqual(u.samples);
  }
  for (const s of out) expect(s.end.endedBy === 'discarded').toBe(!utts.some((u) => u.segment === s.segment));
  return out;
}

const show = (streams: Streamed[]) => streams.map((s) => `#${s.segment}:${s.startMs}-${s.endMs}/${s.end.endedBy}`).join(' ');

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

  it('ends an utterance on its quiet tail, sooner than Silero alone, and the next one still starts', async () => {
    // Silero keeps calling the LibriVox clips' breath and room tail (-40..-50 dBFS) speech for 150-300 ms.
    const lastLoud = (pcm: Int16Array, ratio: number) => {
      const level = rms(pcm.filter((x) => x !== 0));
      let last = 0;
      for (let i = 0; i + 512 <= pcm.length; i += 512) if (rms(pcm.subarray(i, i + 512)) >= ratio * level) last = i + 512;
      return (last * 1000) / 16000;
    };
    const gap = new Int16Array(16 * 600);
    let earlier = 0;
    for (const clip of CLIPS) {
      const pcm = concatPcm([clip.pcm, gap, clip.pcm, gap]);
      const [quiet, silero] = [await stream(pcm, { chunkMs: 160 }), await stream(pcm, { chunkMs: 160, quietEndRatio: 0 })];
      const [q, s] = [checkStreams(quiet, pcm, 160), checkStreams(silero, pcm, 160)];
      console.log(`[vad] ${clip.name}: quiet end ${show(q)} (voice to ${q.map((x) => x.end.lastVoicedMs)}); Silero alone ${show(s)} (voice to ${s.map((x) => x.end.lastVoicedMs)})`);
      // Both copies of the clip are heard, each as one utterance ended by silence: nothing lost, nothing split.
      expect(quiet.utts.map((u) => u.endedBy)).toEqual(['silence', 'silence']);
      expect(silero.utts.map((u) => u.endedBy)).toEqual(['silence', 'silence']);
      const clipMs = (clip.pcm.length * 1000) / 16000;
      expect(quiet.utts[1]!.startMs).toBeGreaterThan(clipMs);
      quiet.utts.forEach((u, i) => {
        const v = silero.utts[i]!;
        // The same start, give or take the pre-roll (the quiet end cuts from the segment's own start).
        expect(Math.abs(u.startMs - v.startMs)).toBeLessThanOrEqual(64);
        expect(q.find((x) => x.segment === u.segment)!.endMs).toBeLessThanOrEqual(s.find((x) => x.segment === v.segment)!.endMs);
        // The voice is all in: the utterance reaches the clip's last loud window (to a window).
        expect(u.endMs).toBeGreaterThanOrEqual(i * (clipMs + 600) + lastLoud(clip.pcm, 0.3) - 32); // windows fall differently on the copies
      });
      // The stream stops 200 ms into the silence (or where its chunks already were), not where the VAD decided.
      for (const run of [quiet, silero]) {
        for (const e of run.events.filter((x) => x.type === 'end' && x.endedBy === 'silence')) {
          const chunks = run.events.filter((x) => x.type === 'chunk' && x.segment === e.segment) as Array<Extract<SpeechStreamEvent, { type: 'chunk' }>>;
          const last = chunks.at(-1)!;
          const before = last.samples.length < 160 * 16 ? last.startMs : last.startMs + last.samples.length / 16;
          if (e.type === 'end') expect(Math.abs(e.endMs - Math.max(e.lastVoicedMs + 200, before))).toBeLessThanOrEqual(2);
        }
      }
      if (q[0]!.endMs < s[0]!.endMs) earlier++;
    }
    expect(earlier).toBeGreaterThanOrEqual(3);
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

  it('streams each segment while it is spoken: start, chunks of chunkMs covering its utterance, end', async () => {
    const pcm = concatPcm([CLIPS[0]!.pcm, new Int16Array(16000), CLIPS[1]!.pcm]);
    const run = await stream(pcm, { chunkMs: 160 });
    const streams = checkStreams(run, pcm, 160);
    console.log(`[vad] streams ${show(streams)}; utterances ${run.utts.map((u) => `#${u.segment}:${u.startMs}-${u.endMs}/${u.endedBy}`).join(' ')}`);
    expect(run.utts.length).toBeGreaterThanOrEqual(2);
    expect(streams.filter((s) => s.end.endedBy === 'silence').length).toBeGreaterThanOrEqual(1);
    // A silence end streams up to where the VAD decided, past the end of speech.
    for (const s of streams.filter((x) => x.end.endedBy === 'silence')) expect(s.end.lastVoicedMs).toBeLessThan(s.endMs);
    // Streaming changes nothing about the utterances here (pauses longer than the pre-roll).
    const plain = await segment(pcm);
    expect(run.utts.map((u) => [u.startMs, u.endMs, u.endedBy])).toEqual(plain.map((u) => [u.startMs, u.endMs, u.endedBy]));
    // Chunks are cut on the VAD's timeline, not where pushes happen to end.
    const big = await stream(pcm, { chunkMs: 160 }, 7777);
    const layout = (r: Run) => r.events.map((e) => (e.type === 'chunk' ? `c${e.segment}:${e.startMs}+${e.samples.length}` : JSON.stringify(e)));
    expect(layout(big)).toEqual(layout(run));
  });

  it('streams nothing unless asked, and rejects a negative chunkMs', async () => {
    const vad = await VadSegmenter.create();
    expect(vad.options.minSilenceMs).toBe(250);
    for (let i = 0; i < CLIPS[0]!.pcm.length; i += 320) {
      vad.push(CLIPS[0]!.pcm.subarray(i, i + 320));
      expect(vad.takeStream()).toEqual([]);
    }
    vad.flush();
    expect(vad.takeStream()).toEqual([]);
    vad.close();
    const silent = await stream(new Int16Array(16000 * 3), { chunkMs: 160 });
    expect(silent.events).toEqual([]);
    await expect(VadSegmenter.create({ chunkMs: -1 })).rejects.toThrow(TypeError);
  });

  it('ends the open stream on flush with its last chunk', async () => {
    const pcm = CLIPS[0]!.pcm.subarray(0, 16000 * 3); // cut mid-sentence
    const run = await stream(pcm, { chunkMs: 160 });
    const streams = checkStreams(run, pcm, 160);
    expect(streams.at(-1)!.end.endedBy).toBe('flush');
    expect(streams.at(-1)!.endMs).toBe(2976); // whole 32 ms VAD windows: the last 24 ms never reached the VAD
    expect(run.events.at(-2)!.type).toBe('chunk');
  });

  it('ends a stream whose speech never becomes an utterance as discarded', async () => {
    // Right after a cut at the length cap the next segment has only a scrap of audio: flushed then, it is dropped.
    const pcm = CLIPS[0]!.pcm;
    const vad = await VadSegmenter.create({ chunkMs: 160, maxUtteranceMs: 1000 });
    const run: Run = { utts: [], events: [] };
    let at = 0;
    while (at < pcm.length && !run.events.some((e) => e.type === 'end' && e.endedBy === 'maxLength')) {
      run.utts.push(...vad.push(pcm.subarray(at, at + 512)));
      run.events.push(...vad.takeStream());
      at += 512;
    }
    run.utts.push(...vad.flush());
    run.events.push(...vad.takeStream());
    vad.close();
    const streams = checkStreams(run, pcm, 160);
    console.log(`[vad] cut then flushed: ${show(streams)}`);
    expect(streams.at(-2)!.end.endedBy).toBe('maxLength');
    expect(streams.at(-1)!.end.endedBy).toBe('discarded');
    expect(streams.at(-1)!.startMs).toBe(streams.at(-2)!.endMs);
  });

  it('cuts a long monologue at a pause before the cap, and streams across the cuts', async () => {
    const all = concatPcm(CLIPS.map((c) => c.pcm));
    const maxUtteranceMs = 3000;
    const run = await stream(all, { maxUtteranceMs, chunkMs: 160 });
    const streams = checkStreams(run, all, 160);
    expect(run.utts.every((u) => ms(u) <= maxUtteranceMs)).toBe(true);
    // A cut at the cap is exactly maxUtteranceMs long; a shorter maxLength utterance ended at a pause.
    const atPause = run.utts.filter((u) => u.endedBy === 'maxLength' && ms(u) < maxUtteranceMs);
    const atCap = run.utts.filter((u) => u.endedBy === 'maxLength' && ms(u) === maxUtteranceMs);
    const ratios: string[] = [];
    for (const u of atPause) {
      const [start, end] = [u.startMs * 16, u.endMs * 16];
      expect(ms(u)).toBeGreaterThan(1800); // past the soft bound (3000 - 2000, at least 60 %)
      expect(end % 512).toBe(0); // ends with a whole VAD window: the pause
      // The level it was measured against: the segment's whole windows before the pause window.
      const levels: number[] = [];
      for (let w = Math.ceil(start / 512) * 512; w + 512 <= end - 512; w += 512) levels.push(rms(all.subarray(w, w + 512)));
      const mean = levels.reduce((a, b) => a + b, 0) / levels.length;
      const pause = rms(all.subarray(end - 512, end));
      ratios.push((pause / mean).toFixed(2));
      expect(isPause(pause, mean)).toBe(true);
    }
    console.log(`[vad] joined clips, cap ${maxUtteranceMs} ms: ${atPause.length} cut(s) at a pause (window RMS / mean ${ratios.join(' ')}), ${atCap.length} at the cap; streams ${show(streams)}`);
    expect(atPause.length).toBeGreaterThanOrEqual(2);
    expect(atPause.length).toBeGreaterThan(atCap.length);
    // Each cut's stream continues exactly where the previous one ended.
    for (const s of streams.filter((x) => x.end.endedBy === 'maxLength')) {
      const next = streams[streams.indexOf(s) + 1];
      if (next) expect(next.startMs).toBe(s.endMs);
    }
  });

  it('fails clearly on a missing model and on bad options', async () => {
    await expect(VadSegmenter.create({ modelPath: '/nonexistent/silero.onnx' })).rejects.toThrow(/not found/);
    await expect(VadSegmenter.create({ maxUtteranceMs: 10 })).rejects.toThrow(TypeError);
  });
});
