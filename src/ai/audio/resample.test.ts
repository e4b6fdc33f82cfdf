import { describe, expect, it } from 'vitest';
import { Resampler, float32ToInt16, int16ToFloat32, resample, rms, toMono } from './resample.js';

function tone(freq: number, rate: number, seconds: number, amp = 10_000): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Amplitude of `freq` in `x` (single-bin DFT), so the test checks the frequency, not just energy. */
function amplitudeAt(x: Int16Array, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * freq * i) / rate);
    im -= x[i]! * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

/** The middle of a signal (skips filter edges). */
const middle = (x: Int16Array) => x.subarray(Math.floor(x.length * 0.1), Math.floor(x.length * 0.9));
const db = (ratio: number) => 20 * Math.log10(ratio);

describe('resample', () => {
  it('keeps a 1 kHz tone at its frequency and energy going 48k -> 16k', () => {
    const x = tone(1000, 48000, 1);
    const y = resample(x, 48000, 16000);
    expect(y.length).toBe(16000);
    expect(amplitudeAt(middle(y), 1000, 16000)).toBeGreaterThan(9_800);
    expect(amplitudeAt(middle(y), 1000, 16000)).toBeLessThan(10_200);
    expect(Math.abs(rms(middle(y)) - rms(middle(x))) / rms(middle(x))).toBeLessThan(0.02);
    // Nothing leaks to other frequencies.
    expect(amplitudeAt(middle(y), 3000, 16000)).toBeLessThan(20);
  });

  it('attenuates a 7 kHz tone and removes a 10 kHz tone instead of aliasing it to 6 kHz', () => {
    const y7 = resample(tone(7000, 48000, 1), 48000, 16000);
    const g7 = rms(middle(y7)) / rms(middle(tone(7000, 48000, 1)));
    expect(db(g7)).toBeLessThan(-20);
    const y10 = resample(tone(10_000, 48000, 1), 48000, 16000);
    expect(db(rms(middle(y10)) / 7071)).toBeLessThan(-60);
    // Plain decimation (every 3rd sample) would fold 10 kHz to 6 kHz at full amplitude.
    expect(amplitudeAt(middle(y10), 6000, 16000)).toBeLessThan(10);
    console.log(`[resample] 7 kHz: ${db(g7).toFixed(1)} dB; 10 kHz: ${db(rms(middle(y10)) / 7071).toFixed(1)} dB`);
  });

  it('keeps a 1 kHz tone going 16k -> 48k and does not create images', () => {
    const y = resample(tone(1000, 16000, 1), 16000, 48000);
    expect(y.length).toBe(48000);
    expect(amplitudeAt(middle(y), 1000, 48000)).toBeGreaterThan(9_800);
    // The first image of 1 kHz at 16k sits at 15 kHz.
    expect(amplitudeAt(middle(y), 15_000, 48000)).toBeLessThan(10);
  });

  it('handles a general ratio (44.1k -> 16k) and keeps time alignment', () => {
    const y = resample(tone(440, 44100, 0.5), 44100, 16000);
    expect(y.length).toBe(8000);
    expect(amplitudeAt(middle(y), 440, 16000)).toBeGreaterThan(9_800);
    // Phase is preserved: the output follows sin(2*pi*440*t) sample by sample.
    const expected = tone(440, 16000, 0.5);
    let maxErr = 0;
    for (let i = 1000; i < 7000; i++) maxErr = Math.max(maxErr, Math.abs(y[i]! - expected[i]!));
    expect(maxErr).toBeLessThan(100);
  });

  it('gives the same result streamed in odd chunk sizes as in one call', () => {
    const x = tone(1234, 48000, 0.3);
    const whole = resample(x, 48000, 16000);
    const r = new Resampler({ fromRate: 48000, toRate: 16000 });
    const parts: Int16Array[] = [];
    for (let i = 0; i < x.length; i += 317) parts.push(r.process(x.subarray(i, i + 317)));
    parts.push(r.flush());
    const streamed = Int16Array.from(parts.flatMap((p) => Array.from(p)));
    expect(streamed).toEqual(whole);
  });

  it('clips instead of wrapping around at full scale', () => {
    const y = resample(tone(1000, 48000, 0.2, 32767), 48000, 16000);
    expect(Math.min(...y)).toBeGreaterThanOrEqual(-32768);
    expect(Math.max(...y)).toBeGreaterThan(32000);
  });

  it('rejects bad rates', () => {
    expect(() => new Resampler({ fromRate: 0, toRate: 16000 })).toThrow(TypeError);
    expect(() => new Resampler({ fromRate: 48000.5, toRate: 16000 })).toThrow(TypeError);
  });
});

describe('sample formats', () => {
  it('downmixes interleaved stereo by averaging', () => {
    expect(Array.from(toMono(Int16Array.from([100, 300, -50, 50, 7, 8]), 2))).toEqual([200, 0, 8]);
    expect(() => toMono(new Int16Array(4), 0)).toThrow(TypeError);
  });

  it('converts Int16 <-> Float32 losslessly', () => {
    const x = Int16Array.from([-32768, -1, 0, 1, 32767]);
    expect(float32ToInt16(int16ToFloat32(x))).toEqual(x);
    expect(Array.from(float32ToInt16(Float32Array.from([2, -2])))).toEqual([32767, -32768]);
  });
});
