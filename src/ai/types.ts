/**
 * Contracts of the speech-translation pipeline, shared by the gateway (tap,
 * VAD, playback), the AI workers (engines) and the queues between them.
 * Audio inside the pipeline is mono signed 16-bit PCM.
 */

/** Mono 16-bit PCM with its rate. */
export type PcmAudio = { samples: Int16Array; sampleRate: number };

/** Speech to text, one language or several. */
export interface SttEngine {
  /** e.g. 'pocketsphinx:en-us'. */
  readonly id: string;
  /** Languages it transcribes, as codes like 'en'. */
  readonly languages: readonly string[];
  /** Transcribes one utterance (16 kHz expected). */
  transcribe(audio: PcmAudio, language: string, options?: TranscribeOptions): Promise<{ text: string }>;
  close(): Promise<void>;
}

export type TranscribeOptions = {
  /**
   * The speech so far of an utterance still going on (for a partial caption). An engine that decodes one
   * request at a time should serve these apart from finals (e.g. on a second decoder), so a partial never
   * delays a final.
   */
  partial?: boolean;
};

/** Text to text between language pairs. */
export interface TranslateEngine {
  /** e.g. 'apertium'. */
  readonly id: string;
  /** Pairs it translates, as [from, to]. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  translate(text: string, from: string, to: string): Promise<{ text: string }>;
  close(): Promise<void>;
}

/** Text to speech. */
export interface TtsEngine {
  /** e.g. 'espeak-ng'. */
  readonly id: string;
  readonly languages: readonly string[];
  synthesize(text: string, language: string): Promise<PcmAudio>;
  close(): Promise<void>;
}

/**
 * Wall-clock marks (ms since epoch) an utterance collects on its way; every
 * stage adds its own. Exported as histograms and logged per utterance.
 */
export type TimingMarks = {
  /** VAD decided the speaker stopped. */
  speechEnd: number;
  /** Job taken by an AI worker for STT. */
  sttStart?: number;
  sttDone?: number;
  translateStart?: number;
  translateDone?: number;
  ttsStart?: number;
  /** First synthesized audio available. */
  ttsFirstAudio?: number;
  /** First translated RTP packet sent into the room. */
  firstRtpOut?: number;
};

/** The engines an AI worker serves, chosen per language (src/ai/engines/registry.ts builds it). */
export interface EngineSet {
  /** The engine for a language, or a coded error (ERR_UNSUPPORTED_LANGUAGE). */
  stt(language: string): SttEngine;
  translate(from: string, to: string): TranslateEngine;
  tts(language: string): TtsEngine;
  /** Which engine serves which language, for /health and the UI. */
  describe(): Array<{ stage: 'stt' | 'translate' | 'tts'; language: string; engine: string }>;
  close(): Promise<void>;
}
