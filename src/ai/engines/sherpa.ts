/**
 * Production speech engines on sherpa-onnx-node: speech recognition (streaming zipformer transducer,
 * non-streaming zipformer transducer, Whisper) and speech synthesis (VITS / piper voices).
 *
 * UNTESTED WITH REAL MODELS: none can be downloaded on the machines this was written on. What the tests
 * cover is the fail-fast path (a missing model gives ERR_MODEL_MISSING naming the download command).
 * The loading and decoding code follows the sherpa-onnx-node 1.13 API (its JSDoc types.js and examples);
 * expect to adjust option names the first time a real model is loaded.
 *
 * The native addon is loaded only when a model exists, so machines without models never load it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createError, Errors, InvalidStateError } from '../../errors.js';
import type { CatalogEntry } from '../models/catalog.js';
import { requireModelFiles } from '../models/download.js';
import type { PcmAudio, SttEngine, SttSession, TtsEngine } from '../types.js';
import { WholeUtteranceSession } from './wholeUtterance.js';

/** The part of sherpa-onnx-node this module uses (the package ships no TypeScript types). */
type Waveform = { samples: Float32Array; sampleRate: number };
type SherpaStream = { acceptWaveform(w: Waveform): void; inputFinished?(): void };
type OnlineRecognizer = {
  createStream(): SherpaStream;
  isReady(s: SherpaStream): boolean;
  decode(s: SherpaStream): void;
  getResult(s: SherpaStream): { text: string };
};
type OfflineRecognizer = {
  createStream(): SherpaStream;
  decode(s: SherpaStream): void;
  decodeAsync?(s: SherpaStream): Promise<unknown>;
  getResult(s: SherpaStream): { text: string };
};
type OfflineTts = {
  sampleRate: number;
  generate(req: { text: string; sid: number; speed: number }): Waveform;
  generateAsync?(req: { text: string; sid: number; speed: number }): Promise<Waveform>;
};
type SherpaModule = {
  OnlineRecognizer: new (config: object) => OnlineRecognizer;
  OfflineRecognizer: { new (config: object): OfflineRecognizer; createAsync?(config: object): Promise<OfflineRecognizer> };
  OfflineTts: { new (config: object): OfflineTts; createAsync?(config: object): Promise<OfflineTts> };
};

const STT_RATE = 16_000;
/** Silence appended before `inputFinished()` so a streaming model flushes its last frames (as sherpa's examples do). */
const TAIL_PADDING_S = 0.66;

function loadSherpa(): SherpaModule {
  try {
    return createRequire(import.meta.url)('sherpa-onnx-node') as SherpaModule;
  } catch (err) {
    throw createError(Errors.MODEL_MISSING, `npm package sherpa-onnx-node failed to load: ${(err as Error).message}`);
  }
}

function toFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767)));
  return out;
}

export type SherpaOptions = { modelsDir: string; numThreads?: number };

/**
 * Speech recognition on sherpa-onnx. A streaming (online) model decodes each chunk as it arrives and has a
 * hypothesis after every one; an offline model (Whisper, offline transducer) is fed the VAD-cut utterance
 * and decodes it whole at its end (WholeUtteranceSession), as before streaming.
 */
export class SherpaStt implements SttEngine {
  readonly id: string;
  readonly languages: readonly string[];
  readonly streaming: boolean;
  private closed = false;

  private constructor(
    entry: CatalogEntry,
    private readonly recognizer: { online: OnlineRecognizer } | { offline: OfflineRecognizer },
  ) {
    this.id = `sherpa-onnx:${entry.name}`;
    this.languages = entry.languages;
    this.streaming = 'online' in recognizer;
  }

  /** Loads a catalog STT model from `<modelsDir>/<name>`; ERR_MODEL_MISSING at once when its files are absent. */
  static async create(entry: CatalogEntry, options: SherpaOptions): Promise<SherpaStt> {
    const dir = requireModelFiles(entry, options.modelsDir);
    const layout = entry.layout;
    const base = { tokens: join(dir, 'tokens' in layout ? layout.tokens : ''), numThreads: options.numThreads ?? 2, provider: 'cpu', debug: 0 };
    const featConfig = { sampleRate: STT_RATE, featureDim: 80 };
    const sherpa = loadSherpa();
    if (layout.engine === 'sherpa-online-transducer') {
      const transducer = { encoder: join(dir, layout.encoder), decoder: join(dir, layout.decoder), joiner: join(dir, layout.joiner) };
      const recognizer = new sherpa.OnlineRecognizer({ featConfig, modelConfig: { ...base, transducer }, decodingMethod: 'greedy_search' });
      return new SherpaStt(entry, { online: recognizer });
    }
    let modelConfig: object;
    if (layout.engine === 'sherpa-offline-transducer') {
      modelConfig = { ...base, transducer: { encoder: join(dir, layout.encoder), decoder: join(dir, layout.decoder), joiner: join(dir, layout.joiner) } };
    } else if (layout.engine === 'sherpa-whisper') {
      // language '' lets multilingual Whisper detect the language per utterance.
      modelConfig = { ...base, whisper: { encoder: join(dir, layout.encoder), decoder: join(dir, layout.decoder), language: '', task: 'transcribe' } };
    } else {
      throw new TypeError(`${entry.name} is not a speech recognition model (${layout.engine})`);
    }
    const config = { featConfig, modelConfig, decodingMethod: 'greedy_search' };
    const offline = sherpa.OfflineRecognizer.createAsync ? await sherpa.OfflineRecognizer.createAsync(config) : new sherpa.OfflineRecognizer(config);
    return new SherpaStt(entry, { offline });
  }

  async open(language: string): Promise<SttSession> {
    this.assertServes(language);
    if ('offline' in this.recognizer) return new WholeUtteranceSession((audio) => this.transcribe(audio, language));
    return new OnlineSession(this.recognizer.online);
  }

  async transcribe(audio: PcmAudio, language: string): Promise<{ text: string }> {
    this.assertServes(language);
    const wave = { samples: toFloat(audio.samples), sampleRate: audio.sampleRate };
    if ('online' in this.recognizer) {
      const rec = this.recognizer.online;
      const stream = rec.createStream();
      stream.acceptWaveform(wave);
      stream.acceptWaveform({ samples: new Float32Array(Math.round(TAIL_PADDING_S * audio.sampleRate)), sampleRate: audio.sampleRate });
      stream.inputFinished?.();
      while (rec.isReady(stream)) rec.decode(stream);
      return { text: rec.getResult(stream).text.trim() };
    }
    const rec = this.recognizer.offline;
    const stream = rec.createStream();
    stream.acceptWaveform(wave);
    if (rec.decodeAsync) await rec.decodeAsync(stream);
    else rec.decode(stream);
    return { text: rec.getResult(stream).text.trim() };
  }

  async close(): Promise<void> {
    // The native recognizer is freed by the garbage collector; sherpa-onnx-node has no explicit free.
    this.closed = true;
  }

  private assertServes(language: string): void {
    if (this.closed) throw new InvalidStateError(`${this.id} is closed`);
    if (!this.languages.includes(language)) throw createError(Errors.UNSUPPORTED_LANGUAGE, `${this.id} does not transcribe "${language}"`);
  }
}

/** One utterance on a streaming model: decode what each chunk makes ready; the final after tail padding. */
class OnlineSession implements SttSession {
  private readonly stream: SherpaStream;
  private done = false;

  constructor(private readonly rec: OnlineRecognizer) {
    this.stream = rec.createStream();
  }

  async push(samples: Int16Array): Promise<{ text: string }> {
    if (this.done) throw new InvalidStateError('recognition session is closed');
    this.stream.acceptWaveform({ samples: toFloat(samples), sampleRate: STT_RATE });
    while (this.rec.isReady(this.stream)) this.rec.decode(this.stream);
    return { text: this.rec.getResult(this.stream).text.trim() };
  }

  async finish(): Promise<{ text: string }> {
    if (this.done) throw new InvalidStateError('recognition session is closed');
    this.done = true;
    this.stream.acceptWaveform({ samples: new Float32Array(Math.round(TAIL_PADDING_S * STT_RATE)), sampleRate: STT_RATE });
    this.stream.inputFinished?.();
    while (this.rec.isReady(this.stream)) this.rec.decode(this.stream);
    return { text: this.rec.getResult(this.stream).text.trim() };
  }

  close(): void {
    this.done = true;
  }
}

export class SherpaTts implements TtsEngine {
  readonly id: string;
  readonly languages: readonly string[];
  private closed = false;

  private constructor(entry: CatalogEntry, private readonly tts: OfflineTts) {
    this.id = `sherpa-onnx:${entry.name}`;
    this.languages = entry.languages;
  }

  /** Loads a catalog VITS/piper voice; ERR_MODEL_MISSING at once when its files are absent. */
  static async create(entry: CatalogEntry, options: SherpaOptions): Promise<SherpaTts> {
    const dir = requireModelFiles(entry, options.modelsDir);
    const layout = entry.layout;
    if (layout.engine !== 'sherpa-vits') throw new TypeError(`${entry.name} is not a VITS voice (${layout.engine})`);
    const config = {
      model: { vits: { model: join(dir, layout.model), tokens: join(dir, layout.tokens), dataDir: join(dir, layout.dataDir) }, numThreads: options.numThreads ?? 2, provider: 'cpu', debug: 0 },
      maxNumSentences: 1,
    };
    const sherpa = loadSherpa();
    const tts = sherpa.OfflineTts.createAsync ? await sherpa.OfflineTts.createAsync(config) : new sherpa.OfflineTts(config);
    return new SherpaTts(entry, tts);
  }

  async synthesize(text: string, language: string): Promise<PcmAudio> {
    if (this.closed) throw new InvalidStateError(`${this.id} is closed`);
    if (!this.languages.includes(language)) throw createError(Errors.UNSUPPORTED_LANGUAGE, `${this.id} does not speak "${language}"`);
    if (text.trim() === '') return { samples: new Int16Array(0), sampleRate: this.tts.sampleRate };
    const req = { text, sid: 0, speed: 1.0 };
    const audio = this.tts.generateAsync ? await this.tts.generateAsync(req) : this.tts.generate(req);
    return { samples: toInt16(audio.samples), sampleRate: audio.sampleRate };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
