/**
 * Results reach the gateway concurrently, so the partial captions of an utterance (numbered by `seq`)
 * can arrive out of order, and a partial can arrive after its final. This keeps, per (utterance,
 * language), what was shown last and says whether a caption is newer: a page then never sees the words
 * so far go backwards, nor a partial replace the final. Bounded: the oldest utterances are forgotten.
 */
export class CaptionOrder {
  /** key -> highest seq shown, or Infinity once the final was shown; in insertion order. */
  readonly #shown = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity = 2000) {
    this.#capacity = capacity;
  }

  /** True when the caption should be shown (and records it), false when it is stale. */
  admit(caption: { utteranceId: string; language: string; original: boolean; final: boolean; seq?: number }): boolean {
    const key = `${caption.utteranceId}|${caption.language}|${caption.original ? 'o' : 't'}`;
    const shown = this.#shown.get(key) ?? -1;
    const rank = caption.final ? Infinity : (caption.seq ?? 0);
    if (rank <= shown && !(caption.final && shown !== Infinity)) return false;
    this.#shown.delete(key);
    this.#shown.set(key, rank);
    if (this.#shown.size > this.#capacity) this.#shown.delete(this.#shown.keys().next().value!);
    return true;
  }
}
