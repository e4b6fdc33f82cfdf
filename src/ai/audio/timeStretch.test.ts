import { describe, expect, it } from 'vitest';
import { TimeStretcher, timeStretch } from './timeStretch.js';

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
      // The last window's worth plays unstretched.
      expect(Math.abs(out.length - input.length / rate)).toBeLessThan(0.04 * RATE);
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
    expect(timeStretch(short, RATE, 1.5)).toEqual(short);
    expect(() => timeStretch(input, RATE, 0)).toThrow(TypeError);
    expect(() => timeStretch(input, RATE, Number.NaN)).toThrow(TypeError);
  });

  it('streams: the rate may change between pulls, and the output plays for input / rate in each stretch', () => {
    const input = tone(200, 2);
    const stretcher = new TimeStretcher(RATE);
    stretcher.push(input.subarray(0, RATE));
    stretcher.push(input.subarray(RATE));
    stretcher.end();
    expect(stretcher.remainingMs).toBeCloseTo(2000, 0);
    const first = stretcher.pull(1, RATE / 2); // 0.5 s at normal speed
    expect(first.length).toBe(RATE / 2);
    expect(stretcher.remainingMs).toBeGreaterThan(1400);
    expect(stretcher.remainingMs).toBeLessThan(1600);
    const rest: number[] = [];
    while (!stretcher.done) rest.push(...stretcher.pull(1.5, 2048));
    // 1.5 s of input at 1.5x: about 1 s.
    expect(Math.abs(rest.length - RATE)).toBeLessThan(0.04 * RATE);
    expect(pitch(Int16Array.from(rest))).toBeGreaterThan(195);
    expect(pitch(Int16Array.from(rest))).toBeLessThan(205);
    expect(() => stretcher.pull(-1, 10)).toThrow(TypeError);
  });

  it('waits for more input before the end, and passes a piece shorter than a window through', () => {
    const s = new TimeStretcher(RATE);
    s.push(tone(200, 0.01));
    expect(s.pull(1.2, 100).length).toBe(0);
    s.end();
    expect(s.pull(1.2, 1000).length).toBe(Math.round(0.01 * RATE));
    expect(s.done).toBe(true);
  });
});
