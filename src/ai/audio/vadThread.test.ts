import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOpusFrames } from './opus.js';
import { concatPcm, float32ToInt16, resample, rms } from './resample.js';
import { RtpPacketizer, parseRtpPacket } from './rtp.js';
import { VadThread, type AudioChunk, type AudioSpeechEnd, type AudioSpeechStart, type AudioTap, type AudioUtterance } from './vadThread.js';

const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as {
  readWave(path: string): { samples: Float32Array; sampleRate: number };
};
const DIR = '/usr/share/pocketsphinx/test/data/librivox';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A clip as 48 kHz Opus frames followed by `silenceMs` of encoded silence. */
function clipFrames(name: string, silenceMs: number): Buffer[] {
  const pcm = resample(float32ToInt16(sherpa.readWave(`${DIR}/${name}`).samples), 16000, 48000);
  const padded = new Int16Array(pcm.length + 48 * silenceMs);
  padded.set(pcm);
  return encodeOpusFrames(padded);
}

/** Sends frames as RTP every 20 ms of wall time (absolute schedule, no drift) and hands each payload on. */
async function paced(frames: Buffer[], onPayload: (payload: Buffer, arrivalMs: number) => void): Promise<void> {
  const pz = new RtpPacketizer({ payloadType: 100 });
  const start = performance.now();
  for (let i = 0; i < frames.length; i++) {
    const wait = start + i * 20 - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const rtp = parseRtpPacket(pz.packetize(frames[i]!))!;
    onPayload(rtp.payload, Date.now());
  }
}

type TapEvent = ['speechstart', AudioSpeechStart] | ['chunk', AudioChunk] | ['speechend', AudioSpeechEnd] | ['utterance', AudioUtterance];

/** Everything a tap emits, in order. */
function record(tap: AudioTap): TapEvent[] {
  const events: TapEvent[] = [];
  tap.on('speechstart', (e) => events.push(['speechstart', e]));
  tap.on('chunk', (e) => events.push(['chunk', e]));
  tap.on('speechend', (e) => events.push(['speechend', e]));
  tap.on('utterance', (e) => events.push(['utterance', e]));
  return events;
}

type Segment = { start: AudioSpeechStart; chunks: AudioChunk[]; end: AudioSpeechEnd; samples: Int16Array };

/** Checks the order and continuity of streamed segments and returns them: speechstart, contiguous chunks (at least chunkMs but the last), speechend. */
function segments(events: TapEvent[], chunkMs: number): Segment[] {
  const out: Segment[] = [];
  let open: { start: AudioSpeechStart; chunks: AudioChunk[]; at: number } | null = null;
  for (const [type, e] of events) {
    expect(type).not.toBe('utterance');
    if (type === 'speechstart') {
      expect(open).toBeNull();
      open = { start: e, chunks: [], at: e.startMs };
    } else if (type === 'chunk') {
      expect(e.segment).toBe(open!.start.segment);
      expect(e.sampleRate).toBe(16000);
      expect(e.startMs).toBe(open!.at);
      if (open!.chunks.length > 0) expect(open!.chunks.at(-1)!.samples.length).toBeGreaterThanOrEqual(chunkMs * 16);
      open!.chunks.push(e);
      open!.at += e.samples.length / 16;
    } else if (type === 'speechend') {
      expect(e.segment).toBe(open!.start.segment);
      expect(e.endMs).toBe(open!.at);
      expect(e.lastVoicedMs).toBeLessThanOrEqual(e.endMs);
      // The wall clock of the last voiced sample is estimated back from the decision (the stream may be ahead of endMs after a cut).
      expect(e.lastVoicedAt).toBeLessThanOrEqual(e.speechEndAt - (e.endMs - e.lastVoicedMs));
      out.push({ start: open!.start, chunks: open!.chunks, end: e, samples: concatPcm(open!.chunks.map((c) => c.samples)) });
      open = null;
    }
  }
  expect(open, 'every speechstart gets its speechend').toBeNull();
  return out;
}

describe('VadThread / AudioTap (worker thread)', () => {
  let thread: VadThread;

  beforeAll(async () => {
    const t0 = performance.now();
    thread = await VadThread.create();
    console.log(`[vadThread] worker ready in ${(performance.now() - t0).toFixed(0)} ms`);
  });

  afterAll(async () => {
    await thread?.close();
  });

  it('turns real-time Opus RTP payloads into utterances off the main thread', async () => {
    const frames = clipFrames('sense_and_sensibility_01_austen_64kb-0870.wav', 1000);
    const tap = await thread.openTap({ minSilenceMs: 500 });
    const utterances: AudioUtterance[] = [];
    tap.on('utterance', (u) => utterances.push(u));
    const sentAt: number[] = [];
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    await paced(frames, (payload, at) => {
      tap.push(payload, at);
      sentAt.push(at);
    });
    lag.disable();
    await new Promise((r) => setTimeout(r, 200));
    const stats = (await tap.close())!;

    expect(utterances.length).toBeGreaterThanOrEqual(1);
    const u = utterances[0]!;
    expect(u.endedBy).toBe('silence');
    expect(u.sampleRate).toBe(16000);
    expect(u.samples.length).toBe(Math.round((u.endMs - u.startMs) * 16));
    expect(u.startMs).toBeLessThan(1000);
    expect(u.endMs).toBeGreaterThan(6000);
    expect(u.endMs).toBeLessThanOrEqual(7100 + 100);
    expect(rms(u.samples)).toBeGreaterThan(1000);
    expect(stats.packets).toBe(frames.length);
    expect(stats.decodeErrors).toBe(0);
    expect(stats.audioMs).toBe(frames.length * 20);

    const ms = (ns: number) => (ns / 1e6).toFixed(2);
    const perSec = (x: number) => ((x / stats.audioMs) * 1000).toFixed(2);
    console.log(
      `[vadThread] utterance ${u.startMs}-${u.endMs} ms; decided ${u.speechEndAt - u.arrivalMs} ms after the packet that ended it arrived, ` +
        `${u.speechEndAt - sentAt[Math.floor(u.endMs / 20)]!} ms after the packet holding the end of speech (VAD min silence 500 ms)`,
    );
    console.log(
      `[vadThread] worker CPU per second of audio: decode ${perSec(stats.decodeMs)} ms, resample ${perSec(stats.resampleMs)} ms, VAD ${perSec(stats.vadMs)} ms`,
    );
    console.log(`[vadThread] main event-loop delay while feeding (1 ms resolution, included): p50 ${ms(lag.percentile(50))} ms, p99 ${ms(lag.percentile(99))} ms, max ${ms(lag.max)} ms`);
  });

  it('streams the speech as it is spoken: speechstart, chunks, speechend', async () => {
    const frames = clipFrames('sense_and_sensibility_01_austen_64kb-0870.wav', 1000);
    const tap = await thread.openTap({ minSilenceMs: 250, chunkMs: 160 });
    const events = record(tap);
    // A synthetic wall clock: packet i arrives at T0 + 20 i.
    const T0 = 1_000_000;
    frames.forEach((f, i) => tap.push(f, T0 + 20 * i));
    const stats = (await tap.close())!;
    const segs = segments(events, 160);
    console.log(`[vadThread] streamed ${segs.map((g) => `#${g.start.segment}:${g.start.startMs}-${g.end.endMs}/${g.end.endedBy} (voice to ${g.end.lastVoicedMs}, ${g.chunks.length} chunks)`).join(' ')}`);
    expect(segs.length).toBeGreaterThanOrEqual(1);
    expect(stats.utterances).toBe(segs.filter((g) => g.end.endedBy !== 'discarded').length);
    const [first, last] = [segs[0]!, segs.at(-1)!];
    expect(first.start.startMs).toBeLessThan(1000);
    expect(last.end.endedBy).toBe('silence');
    expect(last.end.lastVoicedMs).toBeGreaterThan(6000);
    expect(last.end.lastVoicedMs).toBeLessThan(last.end.endMs);
    for (const g of segs) {
      expect(g.chunks.length).toBeGreaterThan(0);
      // Wall clocks follow the packets: a chunk is stamped with the arrival of the packet that completed it,
      // the start with the estimated arrival of its first sample.
      for (const c of g.chunks) expect(Math.abs(c.at - (T0 + c.startMs + c.samples.length / 16))).toBeLessThanOrEqual(60);
      expect(Math.abs(g.start.at - (T0 + g.start.startMs))).toBeLessThanOrEqual(60);
    }
    expect(rms(concatPcm(segs.map((g) => g.samples)))).toBeGreaterThan(1000);
  });

  it('ends an open stream on flush, with its last chunk', async () => {
    const frames = clipFrames('sense_and_sensibility_01_austen_64kb-0870.wav', 0).slice(0, 150); // 3 s, mid-sentence
    const tap = await thread.openTap({ chunkMs: 160 });
    const events = record(tap);
    for (const f of frames) tap.push(f, Date.now());
    tap.flush();
    await tap.close();
    const segs = segments(events, 160);
    expect(segs.at(-1)!.end.endedBy).toBe('flush');
    expect(events.at(-2)![0]).toBe('chunk');
    expect(segs.at(-1)!.end.endMs).toBeGreaterThan(2800);
  });

  it('keeps concurrent streams apart and flushes on demand', async () => {
    const [a, b] = await Promise.all([thread.openTap(), thread.openTap()]);
    expect(thread.size).toBe(2);
    const got = { a: [] as AudioUtterance[], b: [] as AudioUtterance[] };
    a.on('utterance', (u) => got.a.push(u));
    b.on('utterance', (u) => got.b.push(u));
    const fa = clipFrames('sense_and_sensibility_01_austen_64kb-0880.wav', 0);
    const silence = encodeOpusFrames(new Int16Array(48000 * 3));
    for (const f of fa) a.push(f, Date.now());
    for (const f of silence) b.push(f, Date.now());
    a.flush();
    b.flush();
    await Promise.all([a.close(), b.close()]);
    expect(got.a.length).toBeGreaterThanOrEqual(1);
    expect(got.a.at(-1)!.endedBy).toBe('flush');
    expect(got.b).toEqual([]);
    expect(thread.size).toBe(0);
    expect(await a.close()).toBeNull();
  });

  it('counts corrupt payloads and keeps going', async () => {
    const tap = await thread.openTap();
    tap.push(Uint8Array.from([0x03]), Date.now());
    for (const f of encodeOpusFrames(new Int16Array(960 * 5))) tap.push(f, Date.now());
    const stats = (await tap.close())!;
    expect(stats).toMatchObject({ packets: 6, decodeErrors: 1, audioMs: 120 });
  });

  it('rejects a stream whose VAD model is missing', async () => {
    await expect(thread.openTap({ modelPath: '/nonexistent.onnx' })).rejects.toThrow(/not found/);
    expect(thread.size).toBe(0);
  });

  it('also starts under plain `node --import tsx` (no vitest)', async () => {
    const script = [
      "import { VadThread } from './src/ai/audio/vadThread.ts';",
      'const t = await VadThread.create();',
      'const tap = await t.openTap();',
      'const s = await tap.close();',
      'await t.close();',
      'console.log(JSON.stringify(s));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 });
    expect(JSON.parse(stdout.trim())).toMatchObject({ packets: 0, utterances: 0 });
  });
});
