import { describe, expect, it } from 'vitest';
import { PAUSE_RMS_RATIO, cutsAtPause, isPause, meanRms, pauseCutAfterMs } from './pauseCut.js';

describe('pause cut rule', () => {
  it('allows a pause cut 2 s before the cap, but never before 60 % of it', () => {
    expect(pauseCutAfterMs(15_000)).toBe(13_000);
    expect(pauseCutAfterMs(5000)).toBe(3000);
    expect(pauseCutAfterMs(3000)).toBe(1800);
    expect(pauseCutAfterMs(1000)).toBe(600);
  });

  it('calls a window a pause when its RMS is well below the mean window RMS', () => {
    expect(PAUSE_RMS_RATIO).toBe(0.3);
    expect(isPause(100, 1000)).toBe(true);
    expect(isPause(299, 1000)).toBe(true);
    expect(isPause(300, 1000)).toBe(false);
    expect(isPause(2000, 1000)).toBe(false);
    // No level yet (or digital silence all along): nothing is a pause.
    expect(isPause(0, 0)).toBe(false);
  });

  it('averages window RMS values', () => {
    expect(meanRms({ sum: 0, windows: 0 })).toBe(0);
    expect(meanRms({ sum: 3000, windows: 3 })).toBe(1000);
  });

  it('cuts only past the soft bound and only at a pause', () => {
    const level = { sum: 10_000, windows: 10 }; // mean 1000
    expect(cutsAtPause(13_500, 15_000, 100, level)).toBe(true);
    expect(cutsAtPause(13_000, 15_000, 100, level)).toBe(false); // not past the bound yet
    expect(cutsAtPause(12_000, 15_000, 100, level)).toBe(false);
    expect(cutsAtPause(14_900, 15_000, 800, level)).toBe(false); // still speech
    expect(cutsAtPause(14_900, 15_000, 100, { sum: 0, windows: 0 })).toBe(false);
  });
});
