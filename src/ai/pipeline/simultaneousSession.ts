/**
 * Simultaneous translation of one recognition session: every hypothesis goes through the commit policy
 * (src/ai/simultaneous/commitPolicy.ts); each committed segment is translated at once (in order, with
 * what was committed before as context) and handed to speech synthesis, while the uncommitted rest is
 * shown as tentative captions. At the endpoint the rest of the final transcript is the last segment.
 *
 * Captions carry `committed`, the prefix of `text` that will not change: the original's committed words,
 * and per language the concatenation of the committed segments' translations. The final caption of each
 * language is exactly that concatenation, so a page never sees a translation go backwards.
 */
import { INITIAL_COMMIT_STATE, commitEndpoint, heardTimes, commitHypothesis, tentativeWords, words, type Commit, type CommitOptions, type CommitState } from '../simultaneous/commitPolicy.js';
import type { TimingMarks } from '../types.js';

export type SegmentCaption = {
  language: string;
  original: boolean;
  text: string;
  committed: string;
  final: boolean;
  seq: number;
  /** Final captions: the utterance's marks (from the endpoint). */
  marks?: TimingMarks;
  /** Final translated captions: segments spoken in that language (the last one says the last words). */
  segments?: number;
};

/** A committed segment, translated, to be spoken (index counts the segments spoken in that language, from 0). */
export type SpokenSegment = { to: string; index: number; last: boolean; source: string; text: string; marks: TimingMarks };

export type SimultaneousSessionOptions = {
  language: string;
  targets: readonly string[];
  commit: CommitOptions;
  /** Translated text ('' = nothing); `context` is the source committed before, for engines that use it. */
  translate: (to: string, text: string, context: string) => Promise<string>;
  publishCaption: (caption: SegmentCaption) => Promise<void>;
  /** Hands a segment to speech synthesis (a tts job). */
  speak: (segment: SpokenSegment) => Promise<void>;
  onError: (err: unknown) => void;
  /** Wall clock (default Date.now). */
  now?: () => number;
};

export class SimultaneousSession {
  readonly #o: SimultaneousSessionOptions;
  readonly #now: () => number;
  #state: CommitState = INITIAL_COMMIT_STATE;
  /** Wall clock at which the word at each position of the newest hypothesis was first heard as it is now. */
  #heardAt: number[] = [];
  #seq = 0;
  readonly #translated = new Map<string, string>();
  readonly #spoken = new Map<string, number>();
  /** Segments are translated and spoken strictly in order. */
  #segments: Promise<void> = Promise.resolve();
  #tentative: { tail: string; committed: number } | null = null;
  #tentativeRunning: Promise<void> | null = null;
  #ended = false;

  constructor(options: SimultaneousSessionOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    for (const to of options.targets) this.#translated.set(to, '');
  }

  /** The hypothesis after a chunk: `audioMs` of speech fed so far, `at` the wall clock of the chunk's last sample. */
  hypothesis(text: string, audioMs: number, at: number): void {
    if (this.#ended) return;
    const previous = this.#state.recent.at(-1) ?? [];
    const next = words(text);
    this.#heardAt = heardTimes(previous, this.#heardAt, next, at);
    const step = commitHypothesis(this.#state, text, audioMs, this.#o.commit, this.#o.language);
    this.#state = step.state;
    if (step.commit) this.#enqueue(step.commit, { speechEnd: this.#heardAt[this.#state.committed.length - 1] ?? at }, false);
    const changed = previous.join(' ') !== next.join(' ');
    if (changed || step.commit) this.#showTentative();
  }

  /**
   * The endpoint: commits the rest of `finalText` as the last segment (its marks are the utterance's), waits
   * for every segment's translation, publishes the final captions and returns the transcript as committed.
   */
  async finish(finalText: string, audioMs: number, marks: TimingMarks): Promise<string> {
    this.#ended = true;
    this.#tentative = null;
    const step = commitEndpoint(this.#state, finalText, audioMs);
    this.#state = step.state;
    if (step.commit) this.#enqueue(step.commit, marks, true);
    await this.#segments;
    await this.#tentativeRunning;
    const transcript = this.#state.committed.join(' ');
    const finals: Array<Promise<void>> = [];
    if (transcript) finals.push(this.#caption(this.#o.language, true, transcript, transcript, true, { marks }));
    for (const [to, text] of this.#translated) if (text) finals.push(this.#caption(to, false, text, text, true, { marks, segments: this.#spoken.get(to) ?? 0 }));
    await Promise.all(finals);
    return transcript;
  }

  #enqueue(commit: Commit, marks: TimingMarks, last: boolean): void {
    const context = this.#state.committed.slice(0, this.#state.committed.length - commit.words.length).join(' ');
    const sttDone = this.#now();
    this.#segments = this.#segments.then(() => this.#segment(commit, context, { ...marks, sttDone }, last)).catch(this.#o.onError);
  }

  async #segment(commit: Commit, context: string, marks: TimingMarks, last: boolean): Promise<void> {
    await Promise.all(
      [...this.#translated.keys()].map(async (to) => {
        const translateStart = this.#now();
        const raw = (await this.#o.translate(to, commit.text, context).catch((err: unknown) => (this.#o.onError(err), ''))).trim();
        const text = commit.index > 0 ? continuing(raw, commit.text) : raw;
        const translateDone = this.#now();
        if (!/\p{L}|\p{N}/u.test(text)) return;
        const sofar = join(this.#translated.get(to) ?? '', text);
        this.#translated.set(to, sofar);
        const index = this.#spoken.get(to) ?? 0;
        this.#spoken.set(to, index + 1);
        const spoken = { to, index, last, source: commit.text, text, marks: { ...marks, translateStart, translateDone } };
        await Promise.all([this.#o.speak(spoken), last ? undefined : this.#caption(to, false, sofar, sofar, false)]);
      }),
    );
  }

  /** Shows the committed words and the rest: the original at once, translations with one in flight. */
  #showTentative(): void {
    const committed = this.#state.committed.join(' ');
    const tail = tentativeWords(this.#state).join(' ');
    this.#caption(this.#o.language, true, join(committed, tail), committed, false).catch(this.#o.onError);
    if (this.#translated.size === 0) return;
    this.#tentative = { tail, committed: this.#state.committed.length };
    this.#tentativeRunning ??= this.#pumpTentative();
  }

  async #pumpTentative(): Promise<void> {
    while (this.#tentative && !this.#ended) {
      const { tail, committed } = this.#tentative;
      this.#tentative = null;
      await this.#segments; // the committed part shown with the tail includes the segment being translated
      await Promise.all(
        [...this.#translated.keys()].map(async (to) => {
          const raw = tail ? await this.#o.translate(to, tail, '').catch(() => '') : '';
          const text = committed > 0 ? continuing(raw, tail) : raw;
          // A commit meanwhile makes this tail stale (its words are in the committed part now).
          if (this.#ended || this.#state.committed.length !== committed) return;
          const sofar = this.#translated.get(to) ?? '';
          await this.#caption(to, false, join(sofar, text), sofar, false);
        }),
      ).catch(this.#o.onError);
    }
    this.#tentativeRunning = null;
  }

  #caption(language: string, original: boolean, text: string, committed: string, final: boolean, extra: Pick<SegmentCaption, 'marks' | 'segments'> = {}): Promise<void> {
    if (!text) return Promise.resolve();
    return this.#o.publishCaption({ language, original, text, committed, final, seq: ++this.#seq, ...extra });
  }
}

function join(a: string, b: string): string {
  return a && b ? `${a} ${b}` : a || b;
}

/**
 * A translation of words that continue a sentence: engines translate each input as a sentence of its own
 * and capitalize its first word ("and then" -> "Y entonces"); when the source word was lowercase, so is
 * its translation (a capital followed by lowercase letters; acronyms stay).
 */
export function continuing(translation: string, source: string): string {
  const first = source.trimStart()[0];
  if (!first || first !== first.toLowerCase()) return translation;
  const m = /^(\P{L}*)(\p{Lu})(\p{Ll})/u.exec(translation);
  return m ? `${m[1]}${m[2]!.toLowerCase()}${translation.slice(m[1]!.length + 1)}` : translation;
}
