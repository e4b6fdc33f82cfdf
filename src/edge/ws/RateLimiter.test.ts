import { describe, expect, it } from 'vitest';
import { RateLimiter } from './RateLimiter.js';

const T0 = 1_700_000_000_000;

/** How many of `count` takes at the same instant succeed. */
function takeMany(limiter: RateLimiter, count: number, now: number): number {
  let allowed = 0;
  for (let i = 0; i < count; i++) if (limiter.take(now)) allowed++;
  return allowed;
}

describe('RateLimiter', () => {
  it('allows a full burst at once, then refuses', () => {
    const limiter = new RateLimiter(4, 10, T0);
    expect(takeMany(limiter, 10, T0)).toBe(10);
    expect(limiter.take(T0)).toBe(false);
  });

  it('refills at the sustained rate', () => {
    const limiter = new RateLimiter(4, 10, T0);
    takeMany(limiter, 10, T0);
    // 4 per second = one token every 250 ms.
    expect(limiter.take(T0 + 100)).toBe(false);
    expect(limiter.take(T0 + 250)).toBe(true);
    expect(limiter.take(T0 + 250)).toBe(false);
    expect(takeMany(limiter, 10, T0 + 1_250)).toBe(4);
  });

  it('keeps partial credit across refused takes', () => {
    const limiter = new RateLimiter(4, 1, T0);
    expect(limiter.take(T0)).toBe(true);
    expect(limiter.take(T0 + 125)).toBe(false); // half a token so far
    expect(limiter.take(T0 + 250)).toBe(true); // the other half arrived
  });

  it('never refills above the burst after a long idle time', () => {
    const limiter = new RateLimiter(4, 10, T0);
    takeMany(limiter, 10, T0);
    expect(takeMany(limiter, 100, T0 + 3_600_000)).toBe(10);
  });

  it('sustains exactly the configured rate over time', () => {
    const limiter = new RateLimiter(50, 100, T0);
    takeMany(limiter, 100, T0);
    let allowed = 0;
    // One attempt every 5 ms for 10 s: twice the allowed rate.
    for (let t = 5; t <= 10_000; t += 5) if (limiter.take(T0 + t)) allowed++;
    expect(allowed).toBe(500);
  });
});
