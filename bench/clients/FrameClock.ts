/**
 * The drift-free frame clock the load clients' pacers share: it ticks every half frame and hands on
 * every frame index that came due since the last tick, so a late event loop catches up instead of
 * drifting, and counts the ticks that came more than a frame late (the process was saturated).
 */
export class FrameClock {
  readonly #frameMs: number;
  readonly #onFrame: (index: number) => void;
  #timer: NodeJS.Timeout | null = null;
  #start = 0;
  #sent = 0;
  /** Ticks that fired more than one frame late. */
  lateTicks = 0;

  constructor(frameMs: number, onFrame: (index: number) => void) {
    this.#frameMs = frameMs;
    this.#onFrame = onFrame;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  /** Starts from frame 0 (no-op when running). */
  start(): void {
    if (this.#timer) return;
    this.#start = performance.now();
    this.#sent = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor((performance.now() - this.#start) / this.#frameMs);
      if (due - this.#sent > 1) this.lateTicks += 1;
      while (this.#sent < due) this.#onFrame(this.#sent++);
    }, this.#frameMs / 2);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

/**
 * A FrameClock shared by sinks (the publishers of a load process): it runs while it has any and hands
 * each due frame index to `frame`, which serves the sinks. The audio and the video pacer are this.
 */
export abstract class SinkPacer<S> {
  protected readonly sinks = new Set<S>();
  readonly #clock: FrameClock;

  constructor(frameMs: number) {
    this.#clock = new FrameClock(frameMs, (index) => this.frame(index));
  }

  /** Frame `index` is due: serve every sink. */
  protected abstract frame(index: number): void;

  /** Runs when the first sink arrives, before the clock starts. */
  protected starting(): void {}

  /** Ticks that fired more than one frame late (the sending process was saturated). */
  get lateTicks(): number {
    return this.#clock.lateTicks;
  }

  set lateTicks(n: number) {
    this.#clock.lateTicks = n;
  }

  add(sink: S): () => void {
    this.sinks.add(sink);
    if (!this.#clock.running) {
      this.starting();
      this.#clock.start();
    }
    return () => {
      this.sinks.delete(sink);
      if (this.sinks.size === 0) this.stop();
    };
  }

  stop(): void {
    this.#clock.stop();
  }
}
