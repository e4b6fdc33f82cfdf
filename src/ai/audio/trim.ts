/**
 * Trailing silence of synthesized speech. Speech synthesizers pad each call with silence (espeak-ng: about
 * 300 ms after the last word): natural at the end of a sentence, but between the segments of a sentence
 * spoken while the speaker goes on it is a pause the speaker never made, and time the voice falls behind.
 * Pure.
 */

/** `samples` without the silence after the last sound louder than `threshold`, keeping `keepMs` of it. */
export function trimTrailingSilence(samples: Int16Array, sampleRate: number, keepMs = 60, threshold = 330): Int16Array {
  let last = samples.length - 1;
  while (last >= 0 && Math.abs(samples[last]!) <= threshold) last--;
  if (last < 0) return samples.subarray(0, 0);
  const end = Math.min(samples.length, last + 1 + Math.round((keepMs * sampleRate) / 1000));
  return samples.subarray(0, end);
}
