/**
 * Where to cut a monologue that runs toward the maximum utterance length: once the segment is longer than
 * a soft bound, the first window much quieter than the segment's speech so far (a breath, a pause between
 * words) ends it, so the cut rarely falls mid-word. Pure: the segmenter feeds it window energies.
 */

/** A window is a pause when its RMS is below this share of the segment's mean window RMS. */
export const PAUSE_RMS_RATIO = 0.3;

/** How long before the cap a pause may end the segment (ms); see `pauseCutAfterMs`. */
export const PAUSE_CUT_LEAD_MS = 2000;

/** Segment length (ms) past which a pause ends it: PAUSE_CUT_LEAD_MS before the cap, but at least 60 % of the cap. */
export function pauseCutAfterMs(maxUtteranceMs: number): number {
  return Math.max(maxUtteranceMs - PAUSE_CUT_LEAD_MS, Math.round(0.6 * maxUtteranceMs));
}

/** True when a window of RMS `windowRms` looks like a pause in speech whose windows average `meanRms` (0: no level yet, never a pause). */
export function isPause(windowRms: number, meanRms: number): boolean {
  return meanRms > 0 && windowRms < PAUSE_RMS_RATIO * meanRms;
}

/** Running mean of a segment's window RMS values. */
export type SpeechLevel = { sum: number; windows: number };

/** The mean window RMS of a level (0 before any window). */
export function meanRms(level: SpeechLevel): number {
  return level.windows > 0 ? level.sum / level.windows : 0;
}

/**
 * Whether the segment, `openMs` long with this window included, ends at this window: it is past the soft
 * bound and the window is a pause against the level of the windows before it.
 */
export function cutsAtPause(openMs: number, maxUtteranceMs: number, windowRms: number, level: SpeechLevel): boolean {
  return openMs > pauseCutAfterMs(maxUtteranceMs) && isPause(windowRms, meanRms(level));
}
