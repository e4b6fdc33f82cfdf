/**
 * One measured utterance of the pipeline bench, put together from the gateway's timing line
 * (marks from end of speech to the first translated packet sent) and the pages' probes
 * (the speaker's microphone, the listener's received translated audio).
 */
import { arrivalAfter, speechEndBefore, type Arrival } from './probes.js';
import type { UtteranceLine } from './logs.js';

/** Per-stage spans, ms; a stage whose marks are missing is absent. */
export type Stages = Partial<Record<(typeof STAGE_ORDER)[number], number>>;

/** The stages in path order, as reported (see bench/README.md for where each starts and stops). */
export const STAGE_ORDER = ['vad', 'queue_stt', 'stt', 'translate', 'tts', 'hops', 'playout', 'network'] as const;

export type UtteranceSample = {
  utteranceId: string;
  language: string;
  /** Wall-clock marks, ms since the epoch. */
  micEnd: number | null;
  speechEnd: number;
  sttDone: number | null;
  firstRtpOut: number;
  received: number | null;
  /** Width of the poll interval the arrival fell into (its measurement resolution), ms. */
  receivedResolutionMs: number | null;
  stages: Stages;
  /** End of speech (VAD) -> first translated packet received by the listener. */
  e2eMs: number | null;
  /** End of speech at the speaker's microphone -> first translated packet received. */
  e2eFromMicMs: number | null;
  /** Final transcript -> first translated packet received by the listener. */
  processingMs: number | null;
  /** Final transcript -> first translated packet sent by the gateway (the gateway's own figure). */
  processingSentMs: number | null;
  /** Time inside the engines (stt + translate + tts to first audio). */
  enginesMs: number | null;
  /** e2e minus the engines: queues, hops, decode/encode, RTP, the listener's receive. */
  overheadMs: number | null;
};

const sum = (xs: Array<number | undefined>) => (xs.every((x) => x !== undefined) ? (xs as number[]).reduce((a, b) => a + b, 0) : undefined);

/**
 * Builds a sample. `line.time` is the gateway's log time of the line, written when the first translated
 * frame left (within a millisecond of the `firstRtpOut` mark), so the other marks are placed from it.
 */
export function buildSample(line: UtteranceLine, mic: ReadonlyArray<readonly [number, number]> | null, arrivals: readonly Arrival[], vadWindowMs: number): UtteranceSample {
  const ms = line.ms;
  const firstRtpOut = line.time;
  const speechEnd = firstRtpOut - (ms.endToEnd ?? NaN);
  const sttDone = ms.processing !== undefined ? firstRtpOut - ms.processing : null;
  const arrival = arrivalAfter(arrivals, firstRtpOut);
  const received = arrival?.at ?? null;
  const micEnd = mic ? speechEndBefore(mic, speechEnd, vadWindowMs) : null;
  const engineSum = sum([ms.stt, ms.translate, ms.tts]);
  const marked = sum([ms.queue_stt, ms.stt, ms.translate, ms.tts, ms.playout]);
  const stages: Stages = {};
  if (micEnd !== null) stages.vad = speechEnd - micEnd;
  for (const k of ['queue_stt', 'stt', 'translate', 'tts', 'playout'] as const) if (ms[k] !== undefined) stages[k] = ms[k];
  if (marked !== undefined && ms.endToEnd !== undefined) stages.hops = ms.endToEnd - marked;
  if (received !== null) stages.network = received - firstRtpOut;
  const e2eMs = received !== null && Number.isFinite(speechEnd) ? received - speechEnd : null;
  return {
    utteranceId: line.utteranceId,
    language: line.language,
    micEnd,
    speechEnd,
    sttDone,
    firstRtpOut,
    received,
    receivedResolutionMs: arrival ? arrival.at - Math.max(arrival.prevAt, firstRtpOut) : null,
    stages,
    e2eMs,
    e2eFromMicMs: received !== null && micEnd !== null ? received - micEnd : null,
    processingMs: received !== null && sttDone !== null ? received - sttDone : null,
    processingSentMs: ms.processing ?? null,
    enginesMs: engineSum ?? null,
    overheadMs: e2eMs !== null && engineSum !== undefined ? e2eMs - engineSum : null,
  };
}
