/**
 * Speaks faster without raising the pitch: WSOLA (waveform-similarity overlap-add). The output is cut
 * into Hann windows overlapping by half; each window is read from the input near where the rate puts it,
 * shifted by up to ±`toleranceMs` to where it best continues the previous window (highest
 * cross-correlation over the overlap), so the pitch periods line up and no phasing is heard. Pure.
 */

export type TimeStretchOptions = {
  /** Window length (ms, default 30; two pitch periods of a low voice). */
  windowMs?: number;
  /** How far a window may move to match its neighbour (ms, default 8). */
  toleranceMs?: number;
};

/** `samples` played `rate` times as fast (rate > 1 shortens): about samples.length / rate samples. */
export function timeStretch(samples: Int16Array, sampleRate: number, rate: number, options: TimeStretchOptions = {}): Int16Array {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new TypeError(`rate must be a positive number, got ${rate}`);
  const window = 2 * Math.max(8, Math.round(((options.windowMs ?? 30) * sampleRate) / 2000));
  if (Math.abs(rate - 1) < 1e-3 || samples.length < 2 * window) return samples;
  const hop = window / 2;
  const tolerance = Math.max(1, Math.round(((options.toleranceMs ?? 8) * sampleRate) / 1000));
  const outLength = Math.round(samples.length / rate);
  const out = new Float32Array(outLength + window);
  const weight = new Float32Array(outLength + window);
  const hann = Float32Array.from({ length: window }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / window));
  const last = samples.length - window;
  let previous = 0;
  for (let k = 0, at = 0; at < outLength; k++, at += hop) {
    const nominal = Math.min(last, Math.round(k * hop * rate));
    const from = k === 0 ? 0 : bestMatch(samples, previous + hop, nominal, tolerance, hop, last);
    for (let i = 0; i < window; i++) {
      out[at + i]! += hann[i]! * samples[from + i]!;
      weight[at + i]! += hann[i]!;
    }
    previous = from;
  }
  const result = new Int16Array(outLength);
  for (let i = 0; i < outLength; i++) {
    const v = weight[i]! > 1e-3 ? out[i]! / weight[i]! : 0;
    result[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return result;
}

/**
 * The start in [nominal - tolerance, nominal + tolerance] whose first `overlap` samples look most like
 * those at `natural` (where the previous window's signal goes on).
 */
function bestMatch(samples: Int16Array, natural: number, nominal: number, tolerance: number, overlap: number, last: number): number {
  const lo = Math.max(0, nominal - tolerance);
  const hi = Math.min(last, nominal + tolerance);
  if (natural > last) return Math.max(lo, Math.min(hi, nominal));
  let best = Math.max(lo, Math.min(hi, nominal));
  let bestScore = -Infinity;
  for (let start = lo; start <= hi; start++) {
    let dot = 0;
    let energy = 1;
    for (let i = 0; i < overlap; i += 2) {
      const s = samples[start + i]!;
      dot += s * samples[natural + i]!;
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
