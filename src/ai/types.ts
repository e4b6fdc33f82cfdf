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
  /**
   * True when sessions decode audio as it arrives (a hypothesis after every chunk, a final within tens of
   * ms of the last chunk); false when they only decode the whole utterance at finish (Whisper-class models).
   */
  readonly streaming: boolean;
  /** Transcribes one whole utterance (16 kHz expected). */
  transcribe(audio: PcmAudio, language: string): Promise<{ text: string }>;
  /**
   * Opens a recognition session for one utterance, fed chunk by chunk. Rejects with ERR_AI_SATURATED when
   * the engine runs as many sessions as it can keep in real time, ERR_UNSUPPORTED_LANGUAGE for a language
   * it does not serve.
   */
  open(language: string): Promise<SttSession>;
  close(): Promise<void>;
}

/** One utterance being recognized while it is spoken (see SttEngine.open). */
export interface SttSession {
  /** Feeds the next chunk of 16 kHz mono PCM, in order; resolves with the hypothesis so far (may be empty). */
  push(samples: Int16Array): Promise<{ text: string }>;
  /** The audio ended: resolves with the final transcript. The session is closed afterwards. */
  finish(): Promise<{ text: string }>;
  /** Abandons the session (idempotent); its decoder goes back to the engine. */
  close(): void;
}
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
  /** VAD decided the speaker stopped (the endpoint). */
  speechEnd: number;
  /** Estimated wall time of the last voiced audio (the endpoint minus the trailing silence the VAD waited for). */
  lastVoiced?: number;
  /** Recognition session taken by an AI worker (before the speech ended when streaming). */
  sttStart?: number;
  /** Final transcript issued. */
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
