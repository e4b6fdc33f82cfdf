import { describe, expect, it } from 'vitest';
import { timeStretch } from './timeStretch.js';

const RATE = 22050;

/** A tone of `hz` for `seconds`, amplitude 10 000. */
function tone(hz: number, seconds: number): Int16Array {
  return Int16Array.from({ length: Math.round(seconds * RATE) }, (_, i) => Math.round(10_000 * Math.sin((2 * Math.PI * hz * i) / RATE)));
}

/** Dominant frequency by counting upward zero crossings over the middle of the signal. */
function pitch(samples: Int16Array): number {
  const mid = samples.subarray(Math.floor(samples.length * 0.2), Math.floor(samples.length * 0.8));
  let crossings = 0;
  for (let i = 1; i < mid.length; i++) if (mid[i - 1]! < 0 && mid[i]! >= 0) crossings++;
  return (crossings * RATE) / mid.length;
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

describe('timeStretch (WSOLA)', () => {
  it('shortens by the rate and keeps the pitch', () => {
    const input = tone(180, 2);
    for (const rate of [1.2, 1.6]) {
      const out = timeStretch(input, RATE, rate);
      expect(out.length).toBe(Math.round(input.length / rate));
      expect(pitch(out)).toBeGreaterThan(175);
      expect(pitch(out)).toBeLessThan(185);
    }
  });

  it('keeps the loudness (windows that line up add without cancelling)', () => {
    const input = tone(220, 1);
    const out = timeStretch(input, RATE, 1.5);
    expect(rms(out) / rms(input)).toBeGreaterThan(0.9);
    expect(rms(out) / rms(input)).toBeLessThan(1.1);
  });

  it('rate 1 and too-short input come back unchanged; a bad rate is a TypeError', () => {
    const input = tone(200, 1);
    expect(timeStretch(input, RATE, 1)).toBe(input);
    const short = tone(200, 0.01);
    expect(timeStretch(short, RATE, 1.5)).toBe(short);
    expect(() => timeStretch(input, RATE, 0)).toThrow(TypeError);
    expect(() => timeStretch(input, RATE, Number.NaN)).toThrow(TypeError);
  });
});
