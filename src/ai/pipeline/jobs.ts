/**
 * Payloads of the AI pipeline's BullMQ jobs. Everything is JSON: audio travels
 * as base64 of little-endian Int16 PCM.
 */
import type { PcmAudio, TimingMarks } from '../types.js';
import type { PipelineStage } from './names.js';

/** Who an utterance belongs to and where its results go; carried by every job. */
export type UtteranceRef = {
  utteranceId: string;
  roomId: string;
  speakerPeerId: string;
  /** Gateway replica that injects the results into the room (its results queue). */
  replicaId: string;
  /** Absolute time (ms since epoch) after which any stage drops the utterance: marks.speechEnd + maxAgeMs. */
  deadline: number;
};

export type SttJob = UtteranceRef & {
  /** Language the speaker talks, e.g. 'en'. */
  language: string;
  /** Languages listeners want; the speaker's own is skipped. */
  targets: string[];
  /** base64 of Int16 PCM (16 kHz expected). */
  audio: string;
  sampleRate: number;
  marks: TimingMarks;
};

export type TranslateJob = UtteranceRef & { from: string; to: string; text: string; marks: TimingMarks };

export type TtsJob = UtteranceRef & { language: string; text: string; marks: TimingMarks };

type ResultRef = { utteranceId: string; roomId: string; speakerPeerId: string; language: string };

/** Text of an utterance: the transcript (original) or a translation. */
export type CaptionResult = ResultRef & { kind: 'caption'; text: string; original: boolean; final: true; marks: TimingMarks };

/** Synthesized translation, to be played into the room. */
export type AudioResult = ResultRef & { kind: 'audio'; text: string; audio: string; sampleRate: number; marks: TimingMarks };

/** An utterance (or one of its target languages) that will produce nothing more. */
export type DroppedResult = ResultRef & {
  kind: 'dropped';
  /** Where it was dropped; 'queue' = refused before STT. */
  stage: PipelineStage | 'queue';
  /** ERR_UTTERANCE_DROPPED, ERR_ENGINE_FAILED, ERR_UNSUPPORTED_LANGUAGE, ERR_MODEL_MISSING. */
  code: string;
  reason: string;
};

export type ResultJob = CaptionResult | AudioResult | DroppedResult;

/** base64 of the samples as little-endian Int16 (the byte order of every platform Node supports). */
export function encodePcm(samples: Int16Array): string {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
}

/** Inverse of encodePcm; copies, so the result is aligned whatever Buffer's pool offset. */
export function decodePcm(base64: string): Int16Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.byteLength % 2 !== 0) throw new TypeError('PCM payload has an odd number of bytes');
  const out = new Int16Array(bytes.byteLength / 2);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** PcmAudio from an stt job or audio result. */
export function audioOf(payload: { audio: string; sampleRate: number }): PcmAudio {
  return { samples: decodePcm(payload.audio), sampleRate: payload.sampleRate };
}

/** The ids every job and result of an utterance repeats. */
export function refOf(job: UtteranceRef): UtteranceRef {
  const { utteranceId, roomId, speakerPeerId, replicaId, deadline } = job;
  return { utteranceId, roomId, speakerPeerId, replicaId, deadline };
}
