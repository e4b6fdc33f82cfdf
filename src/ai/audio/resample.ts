/**
 * Sample-format and sample-rate conversion for mono 16-bit PCM: channel
 * downmix, Int16 <-> Float32, and a polyphase windowed-sinc (Kaiser) resampler
 * for any rational ratio (48000 <-> 16000 is 1:3 / 3:1). The low-pass sits at
 * `rolloff` x the lower Nyquist, so downsampling does not alias.
 */

export type ResamplerOptions = {
  /** Input rate in Hz (integer). */
  fromRate: number;
  /** Output rate in Hz (integer). */
  toRate: number;
  /** Cut-off as a fraction of the lower of the two Nyquist frequencies (default 0.8: 6.4 kHz for 16 kHz). */
  rolloff?: number;
  /** Zero crossings of the sinc on each side; more = sharper transition, more CPU (default 16). */
  zeroCrossings?: number;
  /** Kaiser window beta (default 8: about 80 dB stop-band). */
  kaiserBeta?: number;
};

/** Downmixes interleaved PCM of `channels` channels to mono by averaging. */
export function toMono(interleaved: Int16Array, channels: number): Int16Array {
  if (!Number.isInteger(channels) || channels < 1) throw new TypeError(`channels must be a positive integer, got ${channels}`);
  if (channels === 1) return interleaved.slice();
  const frames = Math.floor(interleaved.length / channels);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[f * channels + c]!;
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/** Int16 PCM -> Float32 in [-1, 1). */
export function int16ToFloat32(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/** Float32 in [-1, 1] -> Int16 PCM (rounded, clipped). */
export function float32ToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = clip16(samples[i]! * 32768);
  return out;
}

/** Root mean square of 16-bit samples (0 for an empty array). */
/** Joins PCM chunks into one buffer. */
export function concatPcm(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length);
}

/** Resamples a whole signal (a fresh streaming resampler, flushed at the end). Output length is ceil(n * to / from). */
export function resample(input: Int16Array, fromRate: number, toRate: number, options: Omit<ResamplerOptions, 'fromRate' | 'toRate'> = {}): Int16Array {
  if (fromRate === toRate) return input.slice();
  const r = new Resampler({ ...options, fromRate, toRate });
  const a = r.process(input);
  const b = r.flush();
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Streaming polyphase resampler: feed chunks of any size with `process()`,
 * which returns every output sample computable so far; `flush()` ends the
 * stream (treats the future as silence). Output n is the input at time
 * n * from / to, so the stream keeps its timing (group delay is compensated).
 */
export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** Up factor L and down factor M (to/from = L/M, reduced). */
  readonly #L: number;
  readonly #M: number;
  /** Filter centre, in up-sampled samples. */
  readonly #centre: number;
  /** Taps per phase. */
  readonly #K: number;
  /** #phases[p][k] = L * h[p + k * L]. */
  readonly #phases: Float32Array[];
  /** Input history; #hist[0] is input sample #histStart. */
  #hist = new Float32Array(0);
  #histStart = 0;
  /** Input samples received so far. */
  #inCount = 0;
  /** Next output sample index. */
  #outIndex = 0;
  #flushed = false;

  constructor(options: ResamplerOptions) {
    const { fromRate, toRate } = options;
    for (const [name, v] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new TypeError(`${name} must be a positive integer, got ${v}`);
    }
    const rolloff = options.rolloff ?? 0.8;
    const zeroCrossings = options.zeroCrossings ?? 16;
    const beta = options.kaiserBeta ?? 8;
    if (!(rolloff > 0 && rolloff <= 1)) throw new TypeError(`rolloff must be in (0, 1], got ${rolloff}`);
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    const L = toRate / g;
    const M = fromRate / g;
    this.#L = L;
    this.#M = M;
    // Prototype low-pass at the up-sampled rate fromRate * L; fc in cycles per sample.
    const fc = (0.5 / Math.max(L, M)) * rolloff;
    const half = Math.ceil(zeroCrossings / (2 * fc));
    const n = 2 * half + 1;
    this.#centre = half;
    const h = new Float64Array(n);
    const i0b = besselI0(beta);
    for (let j = 0; j < n; j++) {
      const t = j - half;
      const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
      const r = t / half;
      h[j] = (sinc * besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r)))) / i0b;
    }
    this.#K = Math.ceil(n / L);
    this.#phases = [];
    for (let p = 0; p < L; p++) {
      const taps = new Float32Array(this.#K);
      let sum = 0;
      for (let k = 0; k < this.#K; k++) {
        const j = p + k * L;
        if (j < n) {
          taps[k] = h[j]!;
          sum += h[j]!;
        }
      }
      // Each phase gets unity DC gain (the up-sampling gain L folded in).
      for (let k = 0; k < this.#K; k++) taps[k] = sum === 0 ? 0 : taps[k]! / sum;
      this.#phases.push(taps);
    }
  }

  /** Input samples of delay before an output sample can be produced. */
  get latencySamples(): number {
    return Math.ceil(this.#centre / this.#L);
  }

  /** Feeds input; returns the output samples now computable. */
  process(input: Int16Array): Int16Array {
    if (this.#flushed) throw new Error('Resampler: process() after flush()');
    this.#append(input);
    this.#inCount += input.length;
    return this.#produce(this.#inCount - 1, Number.POSITIVE_INFINITY);
  }

  /** Ends the stream: returns the remaining output (the input padded with silence). */
  flush(): Int16Array {
    if (this.#flushed) return new Int16Array(0);
    this.#flushed = true;
    const total = Math.ceil((this.#inCount * this.#L) / this.#M);
    return this.#produce(Number.POSITIVE_INFINITY, total);
  }

  #append(input: Int16Array): void {
    // Keep only the history still needed by the next output sample.
    const nextI0 = Math.floor((this.#outIndex * this.#M + this.#centre) / this.#L);
    const keepFrom = Math.max(this.#histStart, Math.min(nextI0 - this.#K + 1, this.#histStart + this.#hist.length));
    const kept = this.#hist.subarray(keepFrom - this.#histStart);
    const next = new Float32Array(kept.length + input.length);
    next.set(kept);
    for (let i = 0; i < input.length; i++) next[kept.length + i] = input[i]!;
    this.#hist = next;
    this.#histStart = keepFrom;
  }

  /** Produces outputs while their newest input index is <= maxInput and the output index < maxOut. */
  #produce(maxInput: number, maxOut: number): Int16Array {
    const L = this.#L;
    const M = this.#M;
    const K = this.#K;
    const hist = this.#hist;
    const hs = this.#histStart;
    const histEnd = hs + hist.length;
    const out: number[] = [];
    for (;;) {
      if (this.#outIndex >= maxOut) break;
      const t = this.#outIndex * M + this.#centre;
      const i0 = Math.floor(t / L);
      if (i0 > maxInput) break;
      const taps = this.#phases[t - i0 * L]!;
      let acc = 0;
      const base = i0 - hs;
      if (i0 - K + 1 >= hs && i0 < histEnd) {
        // Common case: the whole window is in the history.
        for (let k = 0; k < K; k++) acc += hist[base - k]! * taps[k]!;
      } else {
        for (let k = 0; k < K; k++) {
          const i = i0 - k;
          if (i < hs) break;
          if (i < histEnd) acc += hist[i - hs]! * taps[k]!;
        }
      }
      out.push(acc);
      this.#outIndex++;
    }
    const res = new Int16Array(out.length);
    for (let i = 0; i < out.length; i++) res[i] = clip16(out[i]!);
    return res;
  }
}

function clip16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}
