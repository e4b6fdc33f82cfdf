/**
 * One measured utterance of the pipeline bench, put together from the gateway's timing line
 * (marks from the last voiced audio to the first translated packet sent), the pages' probes
 * (the speaker's microphone, the listener's received translated audio) and the captions the
 * listener page received (the partial captions' cadence while the speaker talks).
 */
import { arrivalAfter, speechEndBefore, type Arrival } from './probes.js';
import type { UtteranceLine } from './logs.js';

/** Per-stage spans, ms; a stage whose marks are missing is absent. */
export type Stages = Partial<Record<(typeof STAGE_ORDER)[number], number>>;

/**
 * The stages in path order, from the end of speech at the microphone to the first translated bytes at the
 * listener (they add up to e2e_from_mic when every mark is there; see bench/README.md for each one):
 * uplink (microphone -> the gateway's last voiced audio), endpoint (the silence the VAD waited for),
 * stt (the final's own time after the endpoint), translate, tts, hops (queue hops between them),
 * playout (first synthesized audio -> first packet sent), network (-> the listener page).
 */
export const STAGE_ORDER = ['uplink', 'endpoint', 'stt', 'translate', 'tts', 'hops', 'playout', 'network'] as const;

/** A caption as the listener page recorded it (`window.parley.captions()`). */
export type CaptionRecord = { utteranceId: string; speakerPeerId: string; language: string; text: string; original: boolean; final: boolean; receivedAt: number };

export type UtteranceSample = {
  utteranceId: string;
  language: string;
  /** Wall-clock marks, ms since the epoch. */
  micEnd: number | null;
  lastVoiced: number | null;
  speechEnd: number;
  sttDone: number | null;
  firstRtpOut: number;
  received: number | null;
  /** Width of the poll interval the arrival fell into (its measurement resolution), ms. */
  receivedResolutionMs: number | null;
  stages: Stages;
  /** End of speech at the speaker's microphone -> first translated packet received (the headline). */
  e2eFromMicMs: number | null;
  /**
   * End of speech at the microphone -> the end of the utterance's translated voice (its last frame sent,
   * plus this sample's network time): when the listener has heard all of it, whatever the mode.
   */
  finishFromMicMs?: number | null;
  /** End of speech (VAD endpoint) -> first translated packet received by the listener. */
  e2eMs: number | null;
  /** Final transcript -> first translated packet received by the listener. */
  processingMs: number | null;
  /** Final transcript -> first translated packet sent by the gateway (the gateway's own figure). */
  processingSentMs: number | null;
  /** Time inside the engines (stt + translate + tts to first audio). */
  enginesMs: number | null;
  /** e2e minus the engines: queues, hops, decode/encode, RTP, the listener's receive. */
  overheadMs: number | null;
  /** Original-language partial captions of the utterance the listener received. */
  partials: number;
  /** Intervals between successive original-language partial captions at the listener, ms. */
  partialIntervalsMs: number[];
  /** When each of those partials reached the listener, ms after the endpoint (negative: while the speaker talked). */
  partialTimesMs: number[];
  /** When the original-language final caption reached the listener, ms after the endpoint. */
  finalCaptionMs: number | null;
};

const sum = (xs: Array<number | undefined>) => (xs.every((x) => x !== undefined) ? (xs as number[]).reduce((a, b) => a + b, 0) : undefined);

/**
 * The original-language partial captions (`final: false`) of `utteranceId` in arrival order, up to its
 * final caption when one came (a late partial after the final is not an update anyone sees).
 */
export function partialCaptions(records: readonly CaptionRecord[], utteranceId: string): CaptionRecord[] {
  const mine = records.filter((r) => r.utteranceId === utteranceId && r.original);
  const final = mine.find((r) => r.final);
  return mine.filter((r) => !r.final && (final === undefined || r.receivedAt <= final.receivedAt)).sort((a, b) => a.receivedAt - b.receivedAt);
}

/** Intervals between successive partial captions of one utterance, ms. */
export function partialIntervals(records: readonly CaptionRecord[], utteranceId: string): number[] {
  const at = partialCaptions(records, utteranceId).map((r) => r.receivedAt);
  return at.slice(1).map((t, i) => t - at[i]!);
}

/**
 * Builds a sample. `line.time` is when the first translated frame (of the last words) left, the
 * `firstRtpOut` mark (see utteranceLines), so the other marks are placed from it.
 * `vadWindowMs` bounds how far before the endpoint the microphone's end of speech is looked for, and
 * `micThreshold` is the mean power above which a microphone sample counts as voice.
 */
export function buildSample(
  line: UtteranceLine,
  mic: ReadonlyArray<readonly [number, number]> | null,
  arrivals: readonly Arrival[],
  vadWindowMs: number,
  captions: readonly CaptionRecord[] = [],
  micThreshold = 1e-4,
  playedEnd: number | null = null,
): UtteranceSample {
  const ms = line.ms;
  const firstRtpOut = line.time;
  const speechEnd = firstRtpOut - (ms.endToEnd ?? NaN);
  const lastVoiced = ms.endpoint !== undefined && Number.isFinite(speechEnd) ? speechEnd - ms.endpoint : null;
  const sttDone = ms.processing !== undefined ? firstRtpOut - ms.processing : null;
  const arrival = arrivalAfter(arrivals, firstRtpOut);
  const received = arrival?.at ?? null;
  const micEnd = mic && Number.isFinite(speechEnd) ? speechEndBefore(mic, speechEnd, vadWindowMs, micThreshold) : null;
  const engineSum = sum([ms.stt, ms.translate, ms.tts]);
  const marked = sum([ms.stt, ms.translate, ms.tts, ms.playout]);
  const stages: Stages = {};
  if (micEnd !== null && lastVoiced !== null) stages.uplink = lastVoiced - micEnd;
  for (const k of ['endpoint', 'stt', 'translate', 'tts', 'playout'] as const) if (ms[k] !== undefined) stages[k] = ms[k];
  if (marked !== undefined && ms.endToEnd !== undefined) stages.hops = ms.endToEnd - marked;
  if (received !== null) stages.network = received - firstRtpOut;
  const e2eMs = received !== null && Number.isFinite(speechEnd) ? received - speechEnd : null;
  const partials = partialCaptions(captions, line.utteranceId);
  const finalCaption = captions.find((r) => r.utteranceId === line.utteranceId && r.original && r.final);
  const afterEndpoint = (at: number) => (Number.isFinite(speechEnd) ? at - speechEnd : NaN);
  return {
    utteranceId: line.utteranceId,
    language: line.language,
    micEnd,
    lastVoiced,
    speechEnd,
    sttDone,
    firstRtpOut,
    received,
    receivedResolutionMs: arrival ? arrival.at - Math.max(arrival.prevAt, firstRtpOut) : null,
    stages,
    e2eFromMicMs: received !== null && micEnd !== null ? received - micEnd : null,
    finishFromMicMs: playedEnd !== null && micEnd !== null ? playedEnd + (stages.network ?? 0) - micEnd : null,
    e2eMs,
    processingMs: received !== null && sttDone !== null ? received - sttDone : null,
    processingSentMs: ms.processing ?? null,
    enginesMs: engineSum ?? null,
    overheadMs: e2eMs !== null && engineSum !== undefined ? e2eMs - engineSum : null,
    partials: partials.length,
    partialIntervalsMs: partialIntervals(captions, line.utteranceId),
    partialTimesMs: partials.map((r) => afterEndpoint(r.receivedAt)).filter(Number.isFinite),
    finalCaptionMs: finalCaption && Number.isFinite(speechEnd) ? finalCaption.receivedAt - speechEnd : null,
  };
}
