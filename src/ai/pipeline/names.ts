/**
 * Queue names and Redis key builders of the AI pipeline. To be moved into
 * src/state/keys.ts; until then this is the one place they are spelled.
 *
 * BullMQ stores a queue's keys as `<prefix>:<queueName>:<suffix>`, so with the
 * default prefix the stt queue lives under `parley:parley-stt:*`. None of these
 * keys is per room, so none carries a `{room:<id>}` hash tag; on Redis Cluster
 * pass a prefix with a hash tag (e.g. `{parley-ai}`) so each queue's keys share
 * a slot, as BullMQ requires.
 */
import { KEY_PREFIX } from '../../state/keys.js';

/** BullMQ prefix of every pipeline queue (tests pass their own). */
export const PIPELINE_PREFIX = KEY_PREFIX;

export type PipelineStage = 'stt' | 'translate' | 'tts';

export const QueueNames = {
  /** One job per utterance, added by the gateway replica that heard it. */
  stt: 'parley-stt',
  /** One job per (utterance, target language). */
  translate: 'parley-translate',
  /** One job per (utterance, target language) with translated text. */
  tts: 'parley-tts',
  /** Captions, audio and drops for the gateway replica that asked. */
  results: (replicaId: string): string => {
    if (!replicaId || replicaId.includes(':')) throw new TypeError(`replicaId must be non-empty without ":", got "${replicaId}"`);
    return `parley-results-${replicaId}`;
  },
} as const;

/** Queue name of a stage. */
export function stageQueue(stage: PipelineStage): string {
  return QueueNames[stage];
}

export const CacheKeys = {
  /** String: translated text of one normalized phrase (sha256 hex), expires after the cache TTL. */
  translation: (prefix: string, engineId: string, from: string, to: string, hash: string) =>
    `${prefix}:ai-cache:translate:${engineId}:${from}:${to}:${hash}`,
  /** Sorted set: translation entry key -> time written; caps the number of translation entries. */
  translationIndex: (prefix: string) => `${prefix}:ai-cache:translate:index`,
  /** String (binary): u32 LE sample rate + Int16 LE PCM of one synthesized phrase. */
  audio: (prefix: string, engineId: string, language: string, hash: string) => `${prefix}:ai-cache:tts:${engineId}:${language}:${hash}`,
  /** Sorted set: audio entry key -> time written; caps the number of audio entries. */
  audioIndex: (prefix: string) => `${prefix}:ai-cache:tts:index`,
} as const;

/** BullMQ job ids (no ":" allowed, never an integer): re-adding the same id while it is kept is a no-op. */
export const JobIds = {
  stt: (utteranceId: string) => `stt-${utteranceId}`,
  translate: (utteranceId: string, to: string) => `tr-${utteranceId}-${to}`,
  tts: (utteranceId: string, language: string) => `tts-${utteranceId}-${language}`,
  result: (utteranceId: string, kind: string, language: string) => `res-${utteranceId}-${kind}-${language}`,
} as const;
