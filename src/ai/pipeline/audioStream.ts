/**
 * The audio of one utterance on a Redis Stream (Keys.audioStream): the gateway appends 16 kHz PCM chunks
 * while the speaker talks and an end entry at the endpoint; the AI worker holding the utterance's stt job
 * reads them with blocking reads, and a worker that takes the job over after a crash reads them again from
 * the start, so no word is lost. Entries:
 *   t=a  pcm=<Int16 LE bytes>  at=<wall clock of the chunk's last sample, ms>
 *   t=e  end=<JSON AudioStreamEnd>
 * The stream is capped (MAXLEN) and every write renews its TTL, so a stream nobody ends or deletes (its
 * gateway died, its job was refused) disappears by itself.
 */
import type { RedisClient } from '../../state/redisConnection.js';
import type { TimingMarks } from '../types.js';

/** Why the speech ended, as the VAD said; 'stalled' is the worker's own (no audio for too long). */
export type AudioStreamEnd = {
  endedBy: string;
  marks: Pick<TimingMarks, 'speechEnd' | 'lastVoiced'>;
};

export type AudioStreamEntry = { id: string; type: 'audio'; samples: Int16Array; at: number } | { id: string; type: 'end'; end: AudioStreamEnd };

export type AudioStreamLimits = {
  /** Entries kept (approximate trim): enough for the longest utterance, so a takeover can replay it all. */
  maxLen: number;
  /** TTL renewed by every write (ms). */
  ttlMs: number;
};

/** Appends one chunk (fire and forget is fine: commands on one connection stay in order). */
export function appendChunk(redis: RedisClient, key: string, samples: Int16Array, at: number, limits: AudioStreamLimits): Promise<unknown> {
  const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  return redis.multi().xadd(key, 'MAXLEN', '~', String(limits.maxLen), '*', 't', 'a', 'pcm', pcm, 'at', String(Math.round(at))).pexpire(key, limits.ttlMs).exec();
}

/** Appends the end entry. */
export function appendEnd(redis: RedisClient, key: string, end: AudioStreamEnd, limits: AudioStreamLimits): Promise<unknown> {
  return redis.multi().xadd(key, 'MAXLEN', '~', String(limits.maxLen), '*', 't', 'e', 'end', JSON.stringify(end)).pexpire(key, limits.ttlMs).exec();
}

/**
 * Entries after `afterId` ('0' = from the start), waiting up to `blockMs` for the first; [] when none came.
 * `redis` must be a connection of its own: a blocking read holds it.
 */
export async function readEntries(redis: RedisClient, key: string, afterId: string, blockMs: number, count = 64): Promise<AudioStreamEntry[]> {
  const reply = (await redis.xreadBuffer('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, afterId)) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
  if (!reply) return [];
  const out: AudioStreamEntry[] = [];
  for (const [, entries] of reply) {
    for (const [rawId, fields] of entries) {
      const id = rawId.toString();
      const f = new Map<string, Buffer>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!.toString(), fields[i + 1]!);
      const type = f.get('t')?.toString();
      if (type === 'a') out.push({ id, type: 'audio', samples: toInt16(f.get('pcm') ?? Buffer.alloc(0)), at: Number(f.get('at')?.toString() ?? 0) });
      else if (type === 'e') out.push({ id, type: 'end', end: JSON.parse(f.get('end')?.toString() ?? '{}') as AudioStreamEnd });
    }
  }
  return out;
}

/** Copies into an aligned Int16Array (a Buffer from the socket may start at an odd offset). */
function toInt16(bytes: Buffer): Int16Array {
  const out = new Int16Array(bytes.byteLength >> 1);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.byteLength));
  return out;
}
