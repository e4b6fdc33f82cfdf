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

/**
 * A recognition session: one utterance, recognized while it is spoken. Added by the gateway when the VAD
 * hears speech start; its audio arrives on the Redis stream `stream` (see audioStream.ts) until an end
 * entry. `deadline` here bounds how long the session may take as a whole (start + longest utterance +
 * maxAgeMs); the jobs after it carry speechEnd + maxAgeMs.
 */
export type SttJob = UtteranceRef & {
  /** Language the speaker talks, e.g. 'en'. */
  language: string;
  /** Languages listeners want; the speaker's own is skipped. */
  targets: string[];
  /** Key of the audio stream (Keys.audioStream). */
  stream: string;
  sampleRate: 16000;
  /** Wall clock when the speech started (the session was opened). */
  startedAt: number;
  /**
   * 'simultaneous': committed segments are translated and spoken while the speaker talks
   * (simultaneousSession.ts); 'consecutive' (or absent): the final transcript goes to a translate job.
   */
  translation?: TranslationMode;
};

export type TranslationMode = 'simultaneous' | 'consecutive';

/** Where a segment of simultaneous translation sits: its index among the segments spoken in its language, and whether it ends the utterance. */
export type SegmentRef = { index: number; last: boolean };

export type TranslateJob = UtteranceRef & { from: string; to: string; text: string; marks: TimingMarks };

/** Text to speak; `segment` when it is one segment of a simultaneous translation (absent: the whole utterance's translation). */
export type TtsJob = UtteranceRef & { language: string; text: string; marks: TimingMarks; segment?: SegmentRef };

type ResultRef = { utteranceId: string; roomId: string; speakerPeerId: string; language: string };

/**
 * Text of an utterance: the transcript (original) or a translation; `final: false` for the speech so far
 * (a hypothesis of the recognition session, numbered by `seq` within the utterance; the final replaces it).
 */
export type CaptionResult = ResultRef & {
  kind: 'caption';
  text: string;
  original: boolean;
  final: boolean;
  seq?: number;
  /** Simultaneous translation: the prefix of `text` that is committed (will not change); the rest is tentative. */
  committed?: string;
  /** Simultaneous translation, final translated caption: how many segments were spoken in `language`. */
  segments?: number;
  marks: TimingMarks;
};

/**
 * One synthesized sentence of a translation, to be played into the room. The tts stage splits a
 * translation into `parts` sentences and publishes each as soon as it is synthesized, part i only after
 * part i-1; but the results consumer handles results concurrently, so they may still arrive out of
 * order, and the gateway must play an utterance's parts (per language) in `part` order, holding an
 * early one until those before it are played or dropped. Every part 0..parts-1 gets exactly one
 * result: this, or a DroppedResult with the same `part` (unless the whole tts job is dropped: a
 * DroppedResult without `part` then ends the utterance's remaining parts).
 */
export type AudioResult = ResultRef & {
  kind: 'audio';
  /** This sentence's text. */
  text: string;
  audio: string;
  sampleRate: number;
  /** Index of this sentence in the translation, from 0. */
  part: number;
  /** Number of sentences in the translation. */
  parts: number;
  /** The same on every part: ttsFirstAudio is when part 0 (the first part that had audio) was ready. */
  marks: TimingMarks;
  /** Simultaneous translation: the segment these parts speak (segments play in index order, per language). */
  segment?: SegmentRef;
};

/** An utterance (or one of its target languages) that will produce nothing more. */
export type DroppedResult = ResultRef & {
  kind: 'dropped';
  /** Where it was dropped; 'queue' = refused before STT. */
  stage: PipelineStage | 'queue';
  /** ERR_UTTERANCE_DROPPED, ERR_ENGINE_FAILED, ERR_UNSUPPORTED_LANGUAGE, ERR_MODEL_MISSING, ERR_AI_SATURATED, ERR_STREAM_STALLED. */
  code: string;
  reason: string;
  /** Set when only one sentence of a tts job was dropped: its index; the other parts still come. */
  part?: number;
  /** With `part`: number of sentences in the translation. */
  parts?: number;
  /** Simultaneous translation: the segment dropped (with `part`: one sentence of it). */
  segment?: SegmentRef;
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

/** PcmAudio from an audio result. */
export function audioOf(payload: { audio: string; sampleRate: number }): PcmAudio {
  return { samples: decodePcm(payload.audio), sampleRate: payload.sampleRate };
}

/** The ids every job and result of an utterance repeats. */
export function refOf(job: UtteranceRef): UtteranceRef {
  const { utteranceId, roomId, speakerPeerId, replicaId, deadline } = job;
  return { utteranceId, roomId, speakerPeerId, replicaId, deadline };
}
