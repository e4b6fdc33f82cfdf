/**
 * The streaming half of the VAD (see VadSegmenter's `chunkMs`): while a speech segment is open, its audio
 * is handed out in chunks of at least `chunkSamples`, contiguous from the segment's start, between a
 * 'start' and an 'end' event. Positions are absolute sample indexes on the segmenter's timeline; the audio
 * is read back from the segmenter's history. Nothing is handed out twice: a segment never starts before
 * the end of what earlier segments streamed.
 */
import type { UtteranceEnd } from './vad.js';

/** Why a streamed segment ended: as its utterance did, or 'discarded' when the speech never became one. */
export type SegmentEnd = UtteranceEnd | 'discarded';

/** What the segmenter streams; times are ms since the first sample pushed. */
export type SpeechStreamEvent =
  /** Speech detected: a segment opens, its audio starts at `startMs` (pre-roll included). */
  | { type: 'start'; segment: number; startMs: number }
  /** The next stretch of the segment's audio, right after the previous one. */
  | { type: 'chunk'; segment: number; samples: Int16Array; startMs: number }
  /** The segment is over: `endMs` is the end of its streamed audio, `lastVoicedMs` the end of its speech. */
  | { type: 'end'; segment: number; endedBy: SegmentEnd; endMs: number; lastVoicedMs: number };

export type SegmentStreamerOptions = {
  /** Smallest chunk, in samples (the last chunk of a segment may be shorter). */
  chunkSamples: number;
  /** Copy of the timeline's audio [from, to). */
  read: (from: number, to: number) => Int16Array;
  /** Timeline index -> ms. */
  toMs: (index: number) => number;
};

type Open = { segment: number; start: number; sent: number };

export class SegmentStreamer {
  readonly #o: SegmentStreamerOptions;
  #open: Open | null = null;
  #streamedTo = 0;
  #events: SpeechStreamEvent[] = [];

  constructor(options: SegmentStreamerOptions) {
    if (!(options.chunkSamples > 0)) throw new TypeError(`chunkSamples must be > 0, got ${options.chunkSamples}`);
    this.#o = options;
  }

  /** End of the audio streamed so far (timeline index). */
  get streamedTo(): number {
    return this.#streamedTo;
  }

  /** The open segment's id, or null. */
  get segment(): number | null {
    return this.#open?.segment ?? null;
  }

  /** Opens `segment` at `from`, moved up to the end of what was already streamed; returns where it starts. */
  start(segment: number, from: number): number {
    if (this.#open) throw new Error(`segment ${this.#open.segment} is still streaming`);
    const at = Math.max(from, this.#streamedTo);
    this.#open = { segment, start: at, sent: at };
    this.#streamedTo = at;
    this.#events.push({ type: 'start', segment, startMs: this.#o.toMs(at) });
    return at;
  }

  /** Streams the open segment's audio up to `pos` once at least a chunk of it is new. */
  advance(pos: number): void {
    const s = this.#open;
    if (s && pos - s.sent >= this.#o.chunkSamples) this.#send(s, pos);
  }

  /**
   * Ends the open segment (no-op if none): the rest of its audio up to `to`, then 'end'. `lastVoiced` is
   * where its speech ended (kept within the streamed audio).
   */
  end(to: number, endedBy: SegmentEnd, lastVoiced: number): void {
    const s = this.#open;
    if (!s) return;
    if (to > s.sent) this.#send(s, to);
    this.#events.push({ type: 'end', segment: s.segment, endedBy, endMs: this.#o.toMs(s.sent), lastVoicedMs: this.#o.toMs(Math.min(Math.max(lastVoiced, s.start), s.sent)) });
    this.#open = null;
  }

  /** The events queued since the last call, in order. */
  take(): SpeechStreamEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  #send(s: Open, to: number): void {
    const samples = this.#o.read(s.sent, to);
    if (samples.length !== to - s.sent) throw new Error(`audio ${s.sent}-${to} is no longer kept (segment ${s.segment})`);
    this.#events.push({ type: 'chunk', segment: s.segment, samples, startMs: this.#o.toMs(s.sent) });
    s.sent = to;
    this.#streamedTo = to;
  }
}
