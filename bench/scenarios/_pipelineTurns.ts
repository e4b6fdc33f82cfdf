/**
 * The pipeline bench's clocks from outside a deployment (--target), where the gateway's per-utterance
 * marks are not available: each speaker turn is found in the speaker's own microphone probe (voiced
 * samples with no long silence between them), and the listener's records inside the turn's window
 * (from its voice onset to the next turn's) are timed from the end of its voice: the last
 * original-language final caption, and the first and last translated audio that arrived.
 */
import type { Arrival } from '../lib/probes.js';
import { partialIntervals, type CaptionRecord } from '../lib/utterances.js';

/** A turn of the speaker at the microphone: from its first to its last voiced sample (wall ms). */
export type VoiceRun = { start: number; end: number };

export type TurnSample = {
  room: number;
  /** The turn's index in its room (the first ones are warm-up). */
  turn: number;
  warmup: boolean;
  voiceStart: number;
  voiceEnd: number;
  /** Utterances the deployment made of the turn: original-language final captions the listener got in its window. */
  utterances: number;
  /** End of voice -> the turn's last original-language final caption at the listener. */
  finalCaptionFromMicMs: number | null;
  /** End of voice -> first translated audio at the listener (negative: it started while the speaker talked). */
  firstAudioFromMicMs: number | null;
  /** End of voice -> last translated audio at the listener: when the listener has heard the whole turn translated. */
  finishFromMicMs: number | null;
  /** Intervals between successive original-language partial captions of the turn's utterances. */
  partialIntervalsMs: number[];
};

/**
 * The speaker's turns: samples with mean power above `threshold`, split where the voice paused
 * `gapMs` or longer (a turn's own pauses between words and sentences are shorter).
 */
export function voiceRuns(mic: ReadonlyArray<readonly [number, number]>, threshold: number, gapMs: number): VoiceRun[] {
  const runs: VoiceRun[] = [];
  for (const [at, power] of mic) {
    if (!(power > threshold)) continue;
    const last = runs[runs.length - 1];
    if (last && at - last.end < gapMs) last.end = at;
    else runs.push({ start: at, end: at });
  }
  return runs;
}

/**
 * One sample per closed turn (a turn after which another one started: its window is complete), the
 * first `warmup` of them flagged. A translation still playing when the next turn starts is cut at it,
 * so turns must be far enough apart (the scenario's --pause) for the figures to hold.
 */
export function turnSamples(room: number, runs: readonly VoiceRun[], captions: readonly CaptionRecord[], arrivals: readonly Arrival[], warmup: number): TurnSample[] {
  const out: TurnSample[] = [];
  for (let k = 0; k + 1 < runs.length; k++) {
    const { start, end } = runs[k]!;
    const next = runs[k + 1]!.start;
    const inWindow = (at: number) => at > start && at <= next;
    const finals = captions.filter((c) => c.original && c.final && inWindow(c.receivedAt)).sort((a, b) => a.receivedAt - b.receivedAt);
    const heard = arrivals.filter((a) => inWindow(a.at));
    const ids = [...new Set(finals.map((c) => c.utteranceId))];
    out.push({
      room,
      turn: k,
      warmup: k < warmup,
      voiceStart: start,
      voiceEnd: end,
      utterances: ids.length,
      finalCaptionFromMicMs: finals.length ? finals[finals.length - 1]!.receivedAt - end : null,
      firstAudioFromMicMs: heard.length ? heard[0]!.at - end : null,
      finishFromMicMs: heard.length ? heard[heard.length - 1]!.at - end : null,
      partialIntervalsMs: ids.flatMap((id) => partialIntervals(captions, id)),
    });
  }
  return out;
}
