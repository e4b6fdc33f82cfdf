/**
 * Speaks faster without raising the pitch: WSOLA (waveform-similarity overlap-add), streaming. The output
 * is built from Hann windows overlapping by half (a periodic Hann: two halves sum to exactly 1); each
 * window is read from the input near where the rate puts it, shifted by up to ±`toleranceMs` to where it
 * best continues the previous window (highest normalized cross-correlation over the overlap), so pitch
 * periods line up and nothing phases. The rate may change at every hop (a window's half, 15 ms by
 * default): a voice can speed up in the middle of a sentence when its backlog grows.
 */

export type TimeStretchOptions = {
  /** Window length (ms, default 30; two pitch periods of a low voice). */
  windowMs?: number;
  /** How far a window may move to match its neighbour (ms, default 8). */
  toleranceMs?: number;
};

/** Streaming WSOLA over one piece of audio: push it (all at once or in parts), end(), then pull output at any rate. */
export class TimeStretcher {
  readonly sampleRate: number;
  readonly #window: number;
  readonly #hop: number;
  readonly #tolerance: number;
  readonly #hann: Float32Array;
  #input = new Int16Array(0);
  #ended = false;
  /** Where the next window is read, nominally (input samples, fractional). */
  #position = 0;
  /** Start of the previous window in the input (-1 before the first). */
  #previous = -1;
  /** The previous window's second half, weighted, waiting for the next window's first half. */
  #tail: Float32Array;
  /** Output samples ready to be pulled. */
  #ready: number[] = [];
  #flushed = false;

  constructor(sampleRate: number, options: TimeStretchOptions = {}) {
    this.sampleRate = sampleRate;
    this.#window = 2 * Math.max(8, Math.round(((options.windowMs ?? 30) * sampleRate) / 2000));
    this.#hop = this.#window / 2;
    this.#tolerance = Math.max(1, Math.round(((options.toleranceMs ?? 8) * sampleRate) / 1000));
    this.#hann = Float32Array.from({ length: this.#window }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / this.#window));
    this.#tail = new Float32Array(this.#hop);
  }

  push(samples: Int16Array): void {
    const next = new Int16Array(this.#input.length + samples.length);
    next.set(this.#input);
    next.set(samples, this.#input.length);
    this.#input = next;
  }

  /** No more input: what is left is pulled out as it is. */
  end(): void {
    this.#ended = true;
  }

  /** Input not yet consumed, ms at normal speed. */
  get remainingMs(): number {
    return (Math.max(0, this.#input.length - this.#position) * 1000) / this.sampleRate + (this.#ready.length * 1000) / this.sampleRate;
  }

  /** True once every sample has been pulled (after end()). */
  get done(): boolean {
    return this.#flushed && this.#ready.length === 0;
  }

  /** Up to `count` output samples, the input consumed `rate` times as fast as it plays (rate > 1 shortens). */
  pull(rate: number, count: number): Int16Array {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new TypeError(`rate must be a positive number, got ${rate}`);
    while (this.#ready.length < count && !this.#flushed) {
      if (!this.#step(rate)) break;
    }
    const out = Int16Array.from(this.#ready.splice(0, count), (v) => Math.max(-32768, Math.min(32767, Math.round(v))));
    return out;
  }

  /** One hop of output; false when more input is needed. */
  #step(rate: number): boolean {
    const w = this.#window;
    const h = this.#hop;
    const last = this.#input.length - w;
    const nominal = Math.round(this.#position);
    if (nominal + this.#tolerance > last && !this.#ended) return false;
    if (nominal > last) {
      this.#flush();
      return true;
    }
    // At normal speed the window that continues the previous one is the nominal one itself: no search.
    const start = this.#previous < 0 || nominal === this.#previous + h ? nominal : this.#bestMatch(this.#previous + h, nominal, Math.max(0, last));
    const x = this.#input;
    for (let i = 0; i < h; i++) this.#ready.push(this.#tail[i]! + this.#hann[i]! * x[start + i]!);
    for (let i = 0; i < h; i++) this.#tail[i] = this.#hann[h + i]! * x[start + h + i]!;
    this.#previous = start;
    this.#position += h * rate;
    return true;
  }

  /** The end of the input: the last window's tail, then whatever follows it, unstretched. */
  #flush(): void {
    const h = this.#hop;
    const from = this.#previous < 0 ? 0 : this.#previous + h;
    const x = this.#input;
    if (this.#previous < 0) for (let i = from; i < x.length; i++) this.#ready.push(x[i]!);
    else {
      // The tail holds x[from..from+h) faded out: fade the same samples back in, then the rest as is.
      for (let i = 0; i < h && from + i < x.length; i++) this.#ready.push(this.#tail[i]! + this.#hann[i]! * x[from + i]!);
      for (let i = from + h; i < x.length; i++) this.#ready.push(x[i]!);
    }
    this.#flushed = true;
  }

  /** The start in [nominal ± tolerance] whose first half looks most like the input at `natural`. */
  #bestMatch(natural: number, nominal: number, last: number): number {
    const x = this.#input;
    const h = this.#hop;
    const lo = Math.max(0, nominal - this.#tolerance);
    const hi = Math.min(last, nominal + this.#tolerance);
    if (natural + h > x.length) return Math.max(lo, Math.min(hi, nominal));
    let best = Math.max(lo, Math.min(hi, nominal));
    let bestScore = -Infinity;
    for (let start = lo; start <= hi; start++) {
      let dot = 0;
      let energy = 1;
      for (let i = 0; i < h; i += 2) {
        const s = x[start + i]!;
        dot += s * x[natural + i]!;
        energy += s * s;
      }
      const score = dot / Math.sqrt(energy);
      if (score > bestScore) {
        bestScore = score;
        best = start;
      }
    }
    return best;
  }
}

/** `samples` played `rate` times as fast (rate > 1 shortens): about samples.length / rate samples. */
export function timeStretch(samples: Int16Array, sampleRate: number, rate: number, options: TimeStretchOptions = {}): Int16Array {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new TypeError(`rate must be a positive number, got ${rate}`);
  if (Math.abs(rate - 1) < 1e-3) return samples;
  const stretcher = new TimeStretcher(sampleRate, options);
  stretcher.push(samples);
  stretcher.end();
  const parts: Int16Array[] = [];
  let total = 0;
  while (!stretcher.done) {
    const part = stretcher.pull(rate, 4096);
    if (part.length === 0) break;
    parts.push(part);
    total += part.length;
  }
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
