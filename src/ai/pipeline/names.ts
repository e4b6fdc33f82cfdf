/**
 * Queue and job naming of the AI pipeline. The queue names and cache keys
 * themselves are spelled in src/state/keys.ts with every other Redis key.
 *
 * BullMQ stores a queue's keys as `<prefix>:<queueName>:<suffix>` and is given
 * `bullName(name)`, the name in a hash tag, so the stt queue lives under
 * `parley:{parley-stt}:*`: each queue's keys share one Redis Cluster slot, as
 * BullMQ's scripts require, and the queues spread over the shards.
 */
import { KEY_PREFIX, QueueNames } from '../../state/keys.js';

export { bullName, CacheKeys, Keys, QueueNames } from '../../state/keys.js';

/** BullMQ prefix of every pipeline queue (tests pass their own). */
export const PIPELINE_PREFIX = KEY_PREFIX;

export type PipelineStage = 'stt' | 'translate' | 'tts';

/** Queue name of a stage. */
export function stageQueue(stage: PipelineStage): string {
  return QueueNames[stage];
}


/** BullMQ job ids (no ":" allowed, never an integer): re-adding the same id while it is kept is a no-op. */
export const JobIds = {
  stt: (utteranceId: string) => `stt-${utteranceId}`,
  translate: (utteranceId: string, to: string) => `tr-${utteranceId}-${to}`,
  /** `segment`: a segment of a simultaneous translation (one job per segment and language). */
  tts: (utteranceId: string, language: string, segment?: number) => `tts-${utteranceId}-${language}${segment === undefined ? '' : `-s${segment}`}`,
  result: (utteranceId: string, kind: string, language: string) => `res-${utteranceId}-${kind}-${language}`,
} as const;
