/**
 * Simultaneous translation: when did the translated voice start saying an utterance's last words? The
 * last segment is known either from its audio (a segment committed at the endpoint is marked `last`) or,
 * when everything was committed before the endpoint, from the final caption (the number of segments
 * spoken); its start may come before or after that. Whichever of the two comes second completes the
 * utterance's timing: the utterance's own marks (from the endpoint) with the last segment's first packet.
 * Bounded: the oldest entries are forgotten.
 */
import type { TimingMarks } from '../types.js';

type Entry = { starts: Map<number, number>; last?: { index: number; marks: TimingMarks } };

export class LastWords {
  readonly #entries = new Map<string, Entry>();
  readonly #capacity: number;
  readonly #onComplete: (utteranceId: string, language: string, marks: TimingMarks) => void;

  constructor(onComplete: (utteranceId: string, language: string, marks: TimingMarks) => void, capacity = 1000) {
    this.#onComplete = onComplete;
    this.#capacity = capacity;
  }

  /** Segment `index` of the utterance started playing in `language`; `last` when its audio said it ends the utterance. */
  started(utteranceId: string, language: string, index: number, sentAt: number, last: { marks: TimingMarks } | null): void {
    const entry = this.#entry(utteranceId, language);
    entry.starts.set(index, sentAt);
    if (last) entry.last = { index, marks: last.marks };
    this.#check(utteranceId, language, entry);
  }

  /** The utterance ended with `segments` spoken segments in `language` (its final caption). */
  ended(utteranceId: string, language: string, segments: number, marks: TimingMarks): void {
    if (segments <= 0) return;
    const entry = this.#entry(utteranceId, language);
    entry.last ??= { index: segments - 1, marks };
    this.#check(utteranceId, language, entry);
  }

  #check(utteranceId: string, language: string, entry: Entry): void {
    const at = entry.last ? entry.starts.get(entry.last.index) : undefined;
    if (at === undefined || !entry.last) return;
    this.#entries.delete(`${utteranceId}|${language}`);
    this.#onComplete(utteranceId, language, { ...entry.last.marks, firstRtpOut: at });
  }

  #entry(utteranceId: string, language: string): Entry {
    const key = `${utteranceId}|${language}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { starts: new Map() };
      this.#entries.set(key, entry);
      if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry;
  }
}
