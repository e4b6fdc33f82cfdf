import { describe, expect, it } from 'vitest';
import { trimTrailingSilence } from './trim.js';

describe('trimTrailingSilence', () => {
  const sound = (n: number) => Int16Array.from({ length: n }, (_, i) => (i % 2 ? 8000 : -8000));

  it('cuts the silence after the last sound, keeping keepMs of it', () => {
    const audio = new Int16Array(1000 + 3000);
    audio.set(sound(1000));
    for (let i = 1000; i < audio.length; i++) audio[i] = i % 2 ? 20 : -20; // noise floor
    expect(trimTrailingSilence(audio, 10_000, 60).length).toBe(1000 + 600);
  });

  it('leaves audio that ends in sound alone, and empties pure silence', () => {
    const audio = sound(500);
    expect(trimTrailingSilence(audio, 16_000).length).toBe(500);
    expect(trimTrailingSilence(new Int16Array(800), 16_000).length).toBe(0);
  });
});
