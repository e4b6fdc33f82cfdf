/**
 * Partial captions of one recognition session: every new hypothesis goes out as an original caption
 * marked `final: false` at once, and is translated for the listeners' languages with at most one
 * translation in flight (a hypothesis that arrives meanwhile replaces the one waiting; only the newest is
 * worth translating). `seq` numbers the hypotheses so a page can tell newer from older.
 */
export type HypothesisCaptionsOptions = {
  targets: readonly string[];
  publishOriginal: (text: string, seq: number) => Promise<void>;
  /** Translated text ('' = nothing to show). */
  translate: (to: string, text: string) => Promise<string>;
  publishTranslation: (to: string, text: string, seq: number) => Promise<void>;
  onError: (err: unknown) => void;
};

export class HypothesisCaptions {
  readonly #o: HypothesisCaptionsOptions;
  #seq = 0;
  #last = '';
  #waiting: { text: string; seq: number } | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(options: HypothesisCaptionsOptions) {
    this.#o = options;
  }

  /** The hypothesis after a chunk: shown when it is not empty and differs from the last one shown. */
  offer(text: string): void {
    if (this.#stopped || !text || text === this.#last) return;
    this.#last = text;
    const seq = ++this.#seq;
    this.#o.publishOriginal(text, seq).catch(this.#o.onError);
    if (this.#o.targets.length === 0) return;
    this.#waiting = { text, seq };
    this.#running ??= this.#pump();
  }

  /** No more partials (the final is coming); resolves when the translation in flight is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiting = null;
    await this.#running;
  }

  async #pump(): Promise<void> {
    while (this.#waiting && !this.#stopped) {
      const { text, seq } = this.#waiting;
      this.#waiting = null;
      await Promise.all(
        this.#o.targets.map(async (to) => {
          const translated = await this.#o.translate(to, text);
          if (translated && !this.#stopped) await this.#o.publishTranslation(to, translated, seq);
        }),
      ).catch(this.#o.onError);
    }
    this.#running = null;
  }
}
