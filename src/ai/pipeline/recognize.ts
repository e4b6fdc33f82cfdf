/**
 * One recognition session on an AI worker: reads the utterance's audio stream from its start (a takeover
 * after a crash replays it), feeds each chunk to the engine's session as it arrives, reports every new
 * hypothesis, and asks for the final at the end entry. A stream that sends nothing for `stallMs` (its
 * gateway died, Redis lost it) ends the session with what was heard so far.
 */
import type { RedisClient } from '../../state/redisConnection.js';
import type { SttSession } from '../types.js';
import { readEntries, type AudioStreamEnd } from './audioStream.js';

export type RecognizeOptions = {
  /** A connection of its own (blocking reads hold it). */
  reader: RedisClient;
  key: string;
  session: SttSession;
  /** No entry for this long ends the session as stalled (ms). */
  stallMs: number;
  /** Longest single blocking read (ms); bounds how late a stall is noticed. */
  blockMs?: number;
  /** Wraps every engine call (timeouts, error mapping). */
  call: <T>(run: () => Promise<T>) => Promise<T>;
  /**
   * The hypothesis after every chunk (trimmed; may repeat the previous one, or be empty before any word):
   * `audioMs` of speech fed so far, `at` the wall clock of the chunk's last sample at the gateway.
   */
  onHypothesis: (text: string, audioMs: number, at: number) => void;
};

export type RecognizeOutcome = {
  text: string;
  /** The end entry, or null when the stream stalled. */
  end: AudioStreamEnd | null;
  /** Wall clock of the last entry read (the stall's start). */
  lastEntryAt: number;
  /** Audio fed to the engine (ms of speech). */
  audioMs: number;
  /** Time spent inside the engine's push calls (ms): audioMs / decodeMs is its speed. */
  decodeMs: number;
  /** Worst lag of the decoder behind the live audio: when a chunk was decoded minus when its last sample arrived (ms). */
  maxLagMs: number;
  /** The final's own time after the end entry was read (ms). */
  finalMs: number;
};

export async function recognize(o: RecognizeOptions): Promise<RecognizeOutcome> {
  const blockMs = o.blockMs ?? 500;
  let lastId = '0';
  let lastEntryAt = Date.now();
  let end: AudioStreamEnd | null = null;
  const out = { audioMs: 0, decodeMs: 0, maxLagMs: 0 };
  while (!end) {
    const waited = Date.now() - lastEntryAt;
    if (waited >= o.stallMs) break;
    const entries = await readEntries(o.reader, o.key, lastId, Math.max(1, Math.min(blockMs, o.stallMs - waited)));
    for (const entry of entries) {
      lastId = entry.id;
      lastEntryAt = Date.now();
      if (entry.type === 'end') {
        end = entry.end;
        break;
      }
      const started = performance.now();
      const { text } = await o.call(() => o.session.push(entry.samples));
      out.decodeMs += performance.now() - started;
      out.audioMs += entry.samples.length / 16;
      out.maxLagMs = Math.max(out.maxLagMs, Date.now() - entry.at);
      o.onHypothesis(text.trim(), out.audioMs, entry.at);
    }
  }
  const finalStarted = performance.now();
  const { text } = await o.call(() => o.session.finish());
  return { text: text.trim(), end, lastEntryAt, ...out, finalMs: performance.now() - finalStarted };
}
