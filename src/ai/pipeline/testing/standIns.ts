/**
 * Stand-in engines for the pipeline tests: deterministic text and audio, call
 * counters, and switches to make a stage hang or throw. Not for production.
 */
import { Errors, createError } from '../../../errors.js';
import type { EngineSet, PcmAudio, SttEngine, SttSession, TranslateEngine, TtsEngine } from '../../types.js';

export type StandInBehavior = 'ok' | 'hang' | 'throw';

export type StandIns = EngineSet & {
  /** Engine calls per stage (lookups that failed are not counted). */
  calls: { stt: number; translate: number; tts: number };
  /** Lookups per stage, including those refused as unsupported. */
  lookups: { stt: number; translate: number; tts: number };
  behavior: { stt: StandInBehavior; translate: StandInBehavior; tts: StandInBehavior };
  /** What STT "hears" (default 'hello world'): a session's hypothesis reveals one word per 300 ms of audio. */
  transcript: string;
  /** Recognition sessions open now, and the bound past which open() is refused with ERR_AI_SATURATED. */
  sessions: { open: number; max: number };
  /** Called when an engine call starts (the child-process test prints it). */
  onCall?: (stage: 'stt' | 'translate' | 'tts') => void;
};

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** Engines for 'en', 'es' and 'fr' (every pair among them). */
export function createStandIns(languages: readonly string[] = ['en', 'es', 'fr']): StandIns {
  const unsupported = (what: string) => createError(Errors.UNSUPPORTED_LANGUAGE, what);
  const run = async <T>(stage: 'stt' | 'translate' | 'tts', result: () => T): Promise<T> => {
    set.calls[stage]++;
    set.onCall?.(stage);
    if (set.behavior[stage] === 'hang') return never<T>();
    if (set.behavior[stage] === 'throw') throw new Error(`stand-in ${stage} engine failed`);
    await new Promise((resolve) => setTimeout(resolve, 2));
    return result();
  };
  const openSession = async (): Promise<SttSession> => {
    if (set.sessions.open >= set.sessions.max) throw createError(Errors.AI_SATURATED, `stand-in runs ${set.sessions.max} sessions`);
    set.sessions.open++;
    let audioMs = 0;
    let open = true;
    const release = () => {
      if (open) set.sessions.open--;
      open = false;
    };
    const heard = () => set.transcript.split(' ').slice(0, Math.floor(audioMs / 300)).join(' ');
    return {
      push: (samples) => run('stt', () => ((audioMs += samples.length / 16), { text: heard() })),
      finish: () => run('stt', () => (release(), { text: audioMs > 0 ? set.transcript : '' })),
      close: release,
    };
  };
  const stt: SttEngine = {
    id: 'standin-stt',
    languages,
    streaming: true,
    transcribe: (_audio, _language) => run('stt', () => ({ text: set.transcript })),
    open: openSession,
    close: async () => undefined,
  };
  const translate: TranslateEngine = {
    id: 'standin-mt',
    pairs: languages.flatMap((from) => languages.filter((to) => to !== from).map((to) => [from, to] as const)),
    translate: (text, _from, to) => run('translate', () => ({ text: `[${to}] ${text}` })),
    close: async () => undefined,
  };
  const tts: TtsEngine = {
    id: 'standin-tts',
    languages,
    synthesize: (text, _language) => run('tts', (): PcmAudio => ({ samples: Int16Array.from({ length: text.length * 160 }, (_, i) => (i % 200) - 100), sampleRate: 16_000 })),
    close: async () => undefined,
  };
  const set: StandIns = {
    calls: { stt: 0, translate: 0, tts: 0 },
    lookups: { stt: 0, translate: 0, tts: 0 },
    behavior: { stt: 'ok', translate: 'ok', tts: 'ok' },
    transcript: 'hello world',
    sessions: { open: 0, max: Infinity },
    stt(language) {
      set.lookups.stt++;
      if (!languages.includes(language)) throw unsupported(`stt ${language}`);
      return stt;
    },
    translate(from, to) {
      set.lookups.translate++;
      if (!languages.includes(from) || !languages.includes(to)) throw unsupported(`translate ${from}-${to}`);
      return translate;
    },
    tts(language) {
      set.lookups.tts++;
      if (!languages.includes(language)) throw unsupported(`tts ${language}`);
      return tts;
    },
    describe: () => [
      ...languages.map((language) => ({ stage: 'stt' as const, language, engine: stt.id })),
      ...translate.pairs.map(([from, to]) => ({ stage: 'translate' as const, language: `${from}-${to}`, engine: translate.id })),
      ...languages.map((language) => ({ stage: 'tts' as const, language, engine: tts.id })),
    ],
    close: async () => undefined,
  };
  return set;
}
