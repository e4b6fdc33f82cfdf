import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { OpusDecoder, OpusEncoder, encodeOpusFrames } from './opus.js';
import { concatPcm, float32ToInt16, resample, rms, toMono } from './resample.js';

const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as {
  readWave(path: string): { samples: Float32Array; sampleRate: number };
};
const CLIP = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

function speech48k(): Int16Array {
  const wave = sherpa.readWave(CLIP);
  expect(wave.sampleRate).toBe(16000);
  return resample(float32ToInt16(wave.samples), 16000, 48000);
}


/** Best normalized cross-correlation of y against x over lags 0..maxLag (Opus delays its output a little). */
function bestCorrelation(x: Int16Array, y: Int16Array, maxLag: number): { corr: number; lag: number } {
  let best = { corr: -1, lag: 0 };
  const n = Math.min(x.length, y.length) - maxLag;
  for (let lag = 0; lag <= maxLag; lag += 1) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < n; i += 2) {
      const a = x[i]!;
      const b = y[i + lag]!;
      xy += a * b;
      xx += a * a;
      yy += b * b;
    }
    const corr = xy / Math.sqrt(xx * yy);
    if (corr > best.corr) best = { corr, lag };
  }
  return best;
}

describe('Opus round trip on real speech', () => {
  it('keeps the RMS and the waveform of a LibriVox clip (48 kHz mono, 20 ms frames)', () => {
    const input = speech48k();
    const t0 = performance.now();
    const frames = encodeOpusFrames(input, { bitrate: 32_000 });
    const t1 = performance.now();
    expect(frames.length).toBe(Math.ceil(input.length / 960));
    const dec = new OpusDecoder();
    const decoded = concatPcm(frames.map((f) => dec.decode(f)));
    const t2 = performance.now();
    dec.close();

    expect(decoded.length).toBe(frames.length * 960);
    const inRms = rms(input);
    const outRms = rms(decoded);
    const { corr, lag } = bestCorrelation(input, decoded, 600);
    const seconds = input.length / 48000;
    const kbps = (frames.reduce((n, f) => n + f.length, 0) * 8) / seconds / 1000;
    console.log(
      `[opus] ${seconds.toFixed(2)} s: RMS in ${inRms.toFixed(0)} out ${outRms.toFixed(0)}, corr ${corr.toFixed(3)} at lag ${lag}, ` +
        `${kbps.toFixed(1)} kbit/s, encode ${((t1 - t0) / seconds).toFixed(1)} ms/s, decode ${((t2 - t1) / seconds).toFixed(1)} ms/s of audio`,
    );
    expect(inRms).toBeGreaterThan(1000);
    expect(Math.abs(outRms - inRms) / inRms).toBeLessThan(0.15);
    expect(corr).toBeGreaterThan(0.8);
    // Control: the same decoded speech one second off does not correlate, so the check above can fail.
    expect(bestCorrelation(input, decoded.subarray(48000), 600).corr).toBeLessThan(0.3);
  });

  it('decodes a mono stream as stereo (interleaved) and downmixes back', () => {
    const input = speech48k().subarray(0, 48000 * 2);
    const frames = encodeOpusFrames(input);
    const dec = new OpusDecoder({ channels: 2 });
    const stereo = concatPcm(frames.map((f) => dec.decode(f)));
    dec.close();
    expect(stereo.length).toBe(frames.length * 960 * 2);
    const mono = toMono(stereo, 2);
    expect(bestCorrelation(input, mono, 600).corr).toBeGreaterThan(0.8);
  });

  it('handles other frame sizes and decoding at 16 kHz', () => {
    const input = speech48k().subarray(0, 48000);
    for (const frameMs of [10, 40, 60] as const) {
      const frames = encodeOpusFrames(input, { frameMs });
      expect(frames.length).toBe(Math.ceil(1000 / frameMs));
      const dec = new OpusDecoder({ sampleRate: 16000 });
      for (const f of frames) expect(dec.decode(f).length).toBe(16 * frameMs);
      dec.close();
    }
  });

  it('buffers partial frames across encode() calls and pads on flush()', () => {
    const enc = new OpusEncoder();
    expect(enc.encode(new Int16Array(500))).toHaveLength(0);
    expect(enc.pendingSamples).toBe(500);
    expect(enc.encode(new Int16Array(1500))).toHaveLength(2);
    expect(enc.pendingSamples).toBe(80);
    expect(enc.flush()).toHaveLength(1);
    expect(enc.flush()).toHaveLength(0);
    enc.close();
    enc.close();
    expect(() => enc.encode(new Int16Array(960))).toThrow(/closed/);
  });

  it('rejects corrupt packets and use after close', () => {
    const dec = new OpusDecoder();
    expect(() => dec.decode(new Uint8Array(0))).toThrow(TypeError);
    // TOC byte announcing code 3 (arbitrary frame count) with a missing count byte is invalid.
    expect(() => dec.decode(Uint8Array.from([0x03]))).toThrow(/Invalid packet|Decode error/);
    dec.close();
    expect(() => dec.decode(Uint8Array.from([0xf8, 0xff, 0xfe]))).toThrow(/closed/);
    expect(() => new OpusEncoder({ frameMs: 30 as 20 })).toThrow(TypeError);
  });
});
