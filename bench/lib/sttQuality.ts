/**
 * Speed and quality of the speech recognizer the AI worker would pick for a language:
 * each clip transcribed whole (as the pipeline does after the utterance ends), timed,
 * and scored by word error rate against its reference transcript.
 */
import { readFileSync } from 'node:fs';
import { parseWav } from '../../src/ai/audio/wav.js';
import { createEngines } from '../../src/ai/engines/registry.js';
import { wordErrorRate } from '../../src/ai/engines/wer.js';
import type { SpeechClip } from './inputs.js';

export type SttClipResult = { engine: string; clip: string; seconds: number; ms: number; rtf: number; wer: number; referenceWords: number; text: string };

/** Runs in this process with the configured engines (models dir and Python as the ai-worker would use). */
export async function measureStt(clips: readonly SpeechClip[], language: string, o: { modelsDir: string; pythonBin: string }): Promise<{ engines: Array<{ stage: string; language: string; engine: string }>; rows: SttClipResult[] }> {
  const engines = await createEngines({ modelsDir: o.modelsDir, pythonBin: o.pythonBin });
  try {
    const stt = engines.stt(language);
    const rows: SttClipResult[] = [];
    for (const clip of clips) {
      if (clip.reference === null) continue;
      const audio = parseWav(readFileSync(clip.source));
      const started = performance.now();
      const { text } = await stt.transcribe(audio, language);
      const ms = performance.now() - started;
      const seconds = audio.samples.length / audio.sampleRate;
      const w = wordErrorRate(clip.reference, text);
      rows.push({ engine: stt.id, clip: clip.id, seconds: Math.round(seconds * 100) / 100, ms: Math.round(ms), rtf: Math.round((ms / 1000 / seconds) * 100) / 100, wer: Math.round(w.wer * 1000) / 1000, referenceWords: w.referenceWords, text });
    }
    return { engines: engines.describe(), rows };
  } finally {
    await engines.close();
  }
}

/** Corpus WER: total edits over total reference words (not the mean of per-clip rates). */
export function corpusWer(rows: readonly SttClipResult[]): number {
  const words = rows.reduce((n, r) => n + r.referenceWords, 0);
  return words === 0 ? NaN : Math.round((rows.reduce((n, r) => n + r.wer * r.referenceWords, 0) / words) * 1000) / 1000;
}
