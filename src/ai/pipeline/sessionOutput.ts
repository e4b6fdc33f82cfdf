/**
 * What a recognition session does with its hypotheses and its final, per translation mode:
 * - consecutive: every new hypothesis is a partial caption (translated with one translation in flight);
 *   the final is the final caption plus one translate job per target;
 * - simultaneous: hypotheses go through the commit policy (simultaneousSession.ts); each committed segment
 *   is translated at once and handed to a tts job of its own.
 * The AI worker picks one per stt job (SttJob.translation) and feeds it from recognize.ts.
 */
import type { CommitOptions } from '../simultaneous/commitPolicy.js';
import type { TimingMarks } from '../types.js';
import { HypothesisCaptions } from './hypothesisCaptions.js';
import { refOf, type CaptionResult, type SttJob, type TranslateJob, type TtsJob } from './jobs.js';
import { SimultaneousSession } from './simultaneousSession.js';

export type SessionOutput = {
  /** The hypothesis after every chunk (see recognize.ts). */
  hypothesis: (text: string, audioMs: number, at: number) => void;
  /** Resolves with the transcript as published ('' = nothing heard). */
  finish: (transcript: string, audioMs: number, marks: TimingMarks) => Promise<string>;
};

/** A caption of the session's utterance (the ids are added by the worker). */
export type SessionCaption = Omit<CaptionResult, 'kind' | 'utteranceId' | 'roomId' | 'speakerPeerId'>;

export type SessionOutputDeps = {
  publishCaption: (caption: SessionCaption) => Promise<void>;
  /** Translated text ('' = nothing), from the cache or the engine. */
  translate: (to: string, text: string) => Promise<string>;
  addTranslations: (jobs: TranslateJob[]) => Promise<void>;
  addTts: (job: TtsJob) => Promise<void>;
  /** Jobs after the session drop the utterance past speechEnd + maxAgeMs. */
  maxAgeMs: number;
  commit: CommitOptions;
  onError: (err: unknown) => void;
};

export function sessionOutput(data: SttJob, targets: string[], deps: SessionOutputDeps): SessionOutput {
  return data.translation === 'simultaneous' ? simultaneous(data, targets, deps) : consecutive(data, targets, deps);
}

function consecutive(data: SttJob, targets: string[], d: SessionOutputDeps): SessionOutput {
  // A partial is fresh when it is published (the gateway skips results whose speechEnd is too old).
  const partial = () => ({ final: false, marks: { speechEnd: Date.now() } });
  const partials = new HypothesisCaptions({
    targets,
    publishOriginal: (text, seq) => d.publishCaption({ ...partial(), language: data.language, text, original: true, seq }),
    translate: (to, text) => d.translate(to, text).catch(() => ''),
    publishTranslation: (to, text, seq) => d.publishCaption({ ...partial(), language: to, text, original: false, seq }),
    onError: d.onError,
  });
  return {
    hypothesis: (text) => partials.offer(text),
    finish: async (transcript, _audioMs, marks) => {
      // The final must not wait for a partial's translation still in flight: it finishes on its own.
      void partials.stop();
      if (!transcript) return '';
      const ref = { ...refOf(data), deadline: marks.speechEnd + d.maxAgeMs };
      await Promise.all([
        d.addTranslations(targets.map((to) => ({ ...ref, from: data.language, to, text: transcript, marks }))),
        d.publishCaption({ language: data.language, text: transcript, original: true, final: true, marks }),
      ]);
      return transcript;
    },
  };
}

function simultaneous(data: SttJob, targets: string[], d: SessionOutputDeps): SessionOutput {
  const session = new SimultaneousSession({
    language: data.language,
    targets,
    commit: d.commit,
    translate: (to, text) => d.translate(to, text),
    publishCaption: ({ marks, segments, ...c }) => d.publishCaption({ ...c, marks: marks ?? { speechEnd: Date.now() }, ...(segments !== undefined ? { segments } : {}) }),
    speak: (s) => d.addTts({ ...refOf(data), deadline: s.marks.speechEnd + d.maxAgeMs, language: s.to, text: s.text, marks: s.marks, segment: { index: s.index, last: s.last } }),
    onError: d.onError,
  });
  return { hypothesis: (text, audioMs, at) => session.hypothesis(text, audioMs, at), finish: (text, audioMs, marks) => session.finish(text, audioMs, marks) };
}
