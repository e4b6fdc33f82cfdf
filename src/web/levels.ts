/** Live audio levels (0..1) of tracks, read from WebAudio AnalyserNodes sharing one AudioContext. */

type Tap = { source: MediaStreamAudioSourceNode; analyser: AnalyserNode; buffer: Float32Array<ArrayBuffer>; track: MediaStreamTrack };

/** Levels below this many dBFS show as silence. */
const FLOOR_DB = -60;

export class LevelMeters {
  #context: AudioContext | null = null;
  readonly #taps = new Map<string, Tap>();

  /** Creates or resumes the AudioContext; call from a user gesture (the Join click). */
  unlock(): void {
    try {
      this.#context ??= new AudioContext();
      if (this.#context.state === 'suspended') void this.#context.resume();
    } catch (err) {
      console.warn('[parley] no WebAudio; level meters are off', err);
    }
  }

  /** Starts measuring `track` under `key`, replacing what was measured there before. */
  watch(key: string, track: MediaStreamTrack): void {
    if (this.#taps.get(key)?.track === track) return;
    this.unwatch(key);
    const context = this.#context;
    if (!context || track.kind !== 'audio') return;
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    analyser.smoothingTimeConstant = 0.5;
    source.connect(analyser);
    this.#taps.set(key, { source, analyser, buffer: new Float32Array(analyser.fftSize), track });
  }

  unwatch(key: string): void {
    const tap = this.#taps.get(key);
    if (!tap) return;
    this.#taps.delete(key);
    tap.source.disconnect();
    tap.analyser.disconnect();
  }

  /** Current level of `key` in 0..1 (dB-scaled RMS), 0 when not watched. */
  level(key: string): number {
    const tap = this.#taps.get(key);
    if (!tap) return 0;
    tap.analyser.getFloatTimeDomainData(tap.buffer);
    let sum = 0;
    for (const sample of tap.buffer) sum += sample * sample;
    const rms = Math.sqrt(sum / tap.buffer.length);
    if (rms <= 0) return 0;
    const db = 20 * Math.log10(rms);
    return Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB));
  }

  clear(): void {
    for (const key of [...this.#taps.keys()]) this.unwatch(key);
  }
}
