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
