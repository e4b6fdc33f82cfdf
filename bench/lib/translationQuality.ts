/**
 * What simultaneous translation costs in quality, and what each commit policy buys in lag, measured on the
 * clips without a call: pocketsphinx's streaming session is fed each clip in chunks (its hypotheses kept),
 * the commit policy (src/ai/simultaneous/commitPolicy.ts) replays them under several settings, and each
 * committed segment is translated on its own by the translation engine (apertium), as the AI worker does.
 * The consecutive translation is the final transcript translated whole. Both are scored by chrF against
 * each other (same recognized text: only the segmentation differs) and against Spanish references of the
 * clips' true transcripts (bench/data/librivox-es.json), which also counts recognition errors.
 *
 * Commit delay: per word, from when the recognizer first heard it as it stayed (audio time) to the commit
 * of its segment; words left to the endpoint wait for the end of the clip plus the VAD's silence. It is
 * the part of the lag the policy decides (translation, synthesis and playout come on top).
 */
import { readFileSync } from 'node:fs';
import { parseWav } from '../../src/ai/audio/wav.js';
import { resample } from '../../src/ai/audio/resample.js';
import { ApertiumTranslate } from '../../src/ai/engines/apertium.js';
import { PocketsphinxStt } from '../../src/ai/engines/pocketsphinx.js';
import { COMMIT_DEFAULTS, INITIAL_COMMIT_STATE, commitEndpoint, commitHypothesis, heardTimes, words, type CommitOptions } from '../../src/ai/simultaneous/commitPolicy.js';
import { corpusChrF, normalizeText } from './chrf.js';
import type { SpeechClip } from './inputs.js';
import { chunksOf } from './sttQuality.js';
import { summarize } from './stats.js';

export type CommitPreset = { name: string; options: CommitOptions };

/** The settings compared: the default, eager and patient variants, and everything at the endpoint (consecutive). */
export const COMMIT_PRESETS: CommitPreset[] = [
  { name: 'default', options: COMMIT_DEFAULTS },
  { name: 'eager (maxWords 4, holdBack 0, minWords 2)', options: { ...COMMIT_DEFAULTS, maxWords: 4, holdBack: 0, minWords: 2 } },
  { name: 'maxWords 6', options: { ...COMMIT_DEFAULTS, maxWords: 6 } },
  { name: 'maxWords 5, holdBack 0', options: { ...COMMIT_DEFAULTS, maxWords: 5, holdBack: 0 } },
  { name: 'maxMs 1500', options: { ...COMMIT_DEFAULTS, maxMs: 1500 } },
  { name: 'stable over 3 hypotheses', options: { ...COMMIT_DEFAULTS, stableHypotheses: 3 } },
  { name: 'patient (maxWords 12, maxMs 4000)', options: { ...COMMIT_DEFAULTS, maxWords: 12, maxMs: 4000 } },
  { name: 'no clause boundaries (minWords 99)', options: { ...COMMIT_DEFAULTS, minWords: 99 } },
  { name: 'endpoint only (= consecutive)', options: { ...COMMIT_DEFAULTS, pauseMs: 1e9, minWords: 1e9, maxWords: 1e9, maxMs: 1e9 } },
];

export type PresetQuality = {
  preset: string;
  segmentsPerClip: number;
  wordsPerSegment: number;
  /** Commit delay of the words, p50 / p95 (ms). */
  delayP50Ms: number;
  delayP95Ms: number;
  /** Share of the words committed before the endpoint. */
  earlyShare: number;
  chrfVsConsecutive: number;
  chrfVsReference: number;
};

export type QualityRun = { engine: string; translator: string; clips: number; chrfConsecutiveVsReference: number; presets: PresetQuality[] };

type Trace = { clip: string; audioMs: number; hypotheses: Array<[number, string]>; final: string };

/** References of the clips by id (bench/data/librivox-es.json). */
export function spanishReferences(): Map<string, string> {
  const data = JSON.parse(readFileSync(new URL('../data/librivox-es.json', import.meta.url), 'utf8')) as { references: Record<string, string> };
  return new Map(Object.entries(data.references));
}

async function traces(clips: readonly SpeechClip[], chunkMs: number, pythonBin: string): Promise<{ engine: string; traces: Trace[] }> {
  const stt = await PocketsphinxStt.create({ pythonBin, mode: 'streaming', sessions: 1 });
  try {
    const out: Trace[] = [];
    for (const clip of clips) {
      const audio = parseWav(readFileSync(clip.source));
      const samples = audio.sampleRate === 16_000 ? audio.samples : resample(audio.samples, audio.sampleRate, 16_000);
      const session = await stt.open('en');
      const hypotheses: Array<[number, string]> = [];
      let fed = 0;
      try {
        for (const chunk of chunksOf(samples, chunkMs)) {
          fed += chunk.length;
          hypotheses.push([(fed / 16_000) * 1000, (await session.push(chunk)).text.trim()]);
        }
        out.push({ clip: clip.id, audioMs: (fed / 16_000) * 1000, hypotheses, final: (await session.finish()).text.trim() });
      } finally {
        session.close();
      }
    }
    return { engine: stt.id, traces: out };
  } finally {
    await stt.close();
  }
}

type Segment = { text: string; early: boolean; words: number; delaysMs: number[] };

/** Segments of one trace under `options`, with the commit delay of each of their words (ms). */
function segment(trace: Trace, options: CommitOptions, endpointWaitMs: number): Segment[] {
  let state = INITIAL_COMMIT_STATE;
  let heard: number[] = [];
  const out: Segment[] = [];
  const delays = (from: number, to: number, at: number) => heard.slice(from, to).map((h) => at - h);
  for (const [audioMs, text] of trace.hypotheses) {
    heard = heardTimes(state.recent.at(-1) ?? [], heard, words(text), audioMs);
    const before = state.committed.length;
    const step = commitHypothesis(state, text, audioMs, options, 'en');
    state = step.state;
    if (step.commit) out.push({ text: step.commit.text, early: true, words: step.commit.words.length, delaysMs: delays(before, state.committed.length, audioMs) });
  }
  heard = heardTimes(state.recent.at(-1) ?? [], heard, words(trace.final), trace.audioMs);
  const end = commitEndpoint(state, trace.final, trace.audioMs);
  if (end.commit) out.push({ text: end.commit.text, early: false, words: end.commit.words.length, delaysMs: delays(state.committed.length, end.state.committed.length, trace.audioMs + endpointWaitMs) });
  return out;
}

export async function measureTranslationQuality(
  clips: readonly SpeechClip[],
  o: { chunkMs: number; endpointWaitMs: number; pythonBin: string; presets?: CommitPreset[] },
): Promise<QualityRun> {
  const refs = spanishReferences();
  const scored = clips.filter((c) => refs.has(c.id));
  const { engine, traces: recorded } = await traces(scored, o.chunkMs, o.pythonBin);
  const mt = await ApertiumTranslate.create({ warm: true });
  const cache = new Map<string, string>();
  const translate = async (text: string) => {
    if (!cache.has(text)) cache.set(text, text ? (await mt.translate(text, 'en', 'es')).text : '');
    return cache.get(text)!;
  };
  try {
    const consecutive = new Map<string, string>();
    for (const t of recorded) consecutive.set(t.clip, normalizeText(await translate(t.final)));
    const presets: PresetQuality[] = [];
    for (const preset of o.presets ?? COMMIT_PRESETS) {
      const pairsCons: Array<[string, string]> = [];
      const pairsRef: Array<[string, string]> = [];
      const delays: number[] = [];
      let segments = 0;
      let allWords = 0;
      let earlyWords = 0;
      for (const t of recorded) {
        const segs = segment(t, preset.options, o.endpointWaitMs);
        const translated = normalizeText((await Promise.all(segs.map((s) => translate(s.text)))).join(' '));
        pairsCons.push([translated, consecutive.get(t.clip)!]);
        pairsRef.push([translated, refs.get(t.clip)!]);
        for (const s of segs) {
          delays.push(...s.delaysMs);
          allWords += s.words;
          if (s.early) earlyWords += s.words;
        }
        segments += segs.length;
      }
      const d = summarize(delays);
      presets.push({
        preset: preset.name,
        segmentsPerClip: round(segments / Math.max(1, recorded.length), 2),
        wordsPerSegment: round(allWords / Math.max(1, segments), 1),
        delayP50Ms: Math.round(d.p50),
        delayP95Ms: Math.round(d.p95),
        earlyShare: round(allWords ? earlyWords / allWords : 0, 2),
        chrfVsConsecutive: round(corpusChrF(pairsCons), 1),
        chrfVsReference: round(corpusChrF(pairsRef), 1),
      });
    }
    const chrfConsecutiveVsReference = round(corpusChrF(recorded.map((t) => [consecutive.get(t.clip)!, refs.get(t.clip)!])), 1);
    return { engine, translator: mt.id, clips: recorded.length, chrfConsecutiveVsReference, presets };
  } finally {
    await mt.close();
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
