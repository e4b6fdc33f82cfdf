/**
 * Speed and quality of the speech recognizer alone (pocketsphinx, the engine the AI worker runs on a bare
 * Debian host), in both recognition modes, on the bench's clips:
 *
 * - streaming: a session (`engine.open`) fed the clip in chunks of `chunkMs`, as the gateway streams an
 *   utterance, then `finish()`; `finalMs` is the time from the last chunk to the final transcript;
 * - batch: the whole clip decoded at once (`engine.transcribe`, second and third passes on), as the
 *   pipeline did before streaming; `finalMs` is that whole decode.
 *
 * Each transcript is scored by word error rate against the clip's reference transcript. Chunks are fed as
 * fast as the decoder takes them (not paced in real time): by the last chunk the decoder has caught up
 * either way, as it does live when it runs faster than real time (`rtf` below 1).
 */
import { readFileSync } from 'node:fs';
import { parseWav } from '../../src/ai/audio/wav.js';
import { resample } from '../../src/ai/audio/resample.js';
import { PocketsphinxStt } from '../../src/ai/engines/pocketsphinx.js';
import { wordErrorRate } from '../../src/ai/engines/wer.js';
import type { SpeechClip } from './inputs.js';

export type SttMode = 'streaming' | 'batch';

export type SttClipResult = {
  engine: string;
  mode: SttMode;
  clip: string;
  seconds: number;
  /** Decoder time for the whole clip (streaming: every push plus the finish), ms. */
  ms: number;
  /** Streaming: last chunk -> final transcript; batch: the whole decode. ms. */
  finalMs: number;
  /** `ms` over the clip's duration: under 1 keeps up with live speech. */
  rtf: number;
  wer: number;
  /** Word edits (substitutions + deletions + insertions) against the reference. */
  edits: number;
  referenceWords: number;
  text: string;
};

const SAMPLE_RATE = 16_000;

/** The clip's audio as the recognizer hears it: 16 kHz mono. */
function clipAudio(clip: SpeechClip): Int16Array {
  const audio = parseWav(readFileSync(clip.source));
  return audio.sampleRate === SAMPLE_RATE ? audio.samples : resample(audio.samples, audio.sampleRate, SAMPLE_RATE);
}

/** `samples` cut into chunks of `chunkMs` (the last one shorter). */
export function chunksOf(samples: Int16Array, chunkMs: number): Int16Array[] {
  const size = Math.max(1, Math.round((SAMPLE_RATE * chunkMs) / 1000));
  const out: Int16Array[] = [];
  for (let at = 0; at < samples.length; at += size) out.push(samples.subarray(at, Math.min(samples.length, at + size)));
  return out;
}

async function decode(engine: PocketsphinxStt, mode: SttMode, samples: Int16Array, chunkMs: number): Promise<{ text: string; ms: number; finalMs: number }> {
  if (mode === 'batch') {
    const started = performance.now();
    const { text } = await engine.transcribe({ samples, sampleRate: SAMPLE_RATE }, 'en');
    const ms = performance.now() - started;
    return { text, ms, finalMs: ms };
  }
  const started = performance.now();
  const session = await engine.open('en');
  try {
    for (const chunk of chunksOf(samples, chunkMs)) await session.push(chunk);
    const lastChunk = performance.now();
    const { text } = await session.finish();
    const done = performance.now();
    return { text, ms: done - started, finalMs: done - lastChunk };
  } finally {
    session.close();
  }
}

/**
 * Runs in this process, one mode after the other, each on an engine of its own with a single decoder
 * (`sessions: 1`), so nothing else competes with it. Clips without a reference transcript are skipped.
 */
export async function measureStt(clips: readonly SpeechClip[], o: { pythonBin: string; modes: readonly SttMode[]; chunkMs: number }): Promise<SttClipResult[]> {
  const scored = clips.filter((c) => c.reference !== null);
  const rows: SttClipResult[] = [];
  for (const mode of o.modes) {
    const engine = await PocketsphinxStt.create({ pythonBin: o.pythonBin, mode, sessions: 1 });
    try {
      // One untimed pass so the decoder's first-use costs are not charged to the first clip.
      if (scored[0]) await decode(engine, mode, clipAudio(scored[0]).subarray(0, SAMPLE_RATE), o.chunkMs);
      for (const clip of scored) {
        const samples = clipAudio(clip);
        const { text, ms, finalMs } = await decode(engine, mode, samples, o.chunkMs);
        const seconds = samples.length / SAMPLE_RATE;
        const w = wordErrorRate(clip.reference!, text);
        rows.push({
          engine: engine.id,
          mode,
          clip: clip.id,
          seconds: Math.round(seconds * 100) / 100,
          ms: Math.round(ms),
          finalMs: Math.round(finalMs * 10) / 10,
          rtf: Math.round((ms / 1000 / seconds) * 1000) / 1000,
          wer: Math.round(w.wer * 1000) / 1000,
          edits: w.substitutions + w.deletions + w.insertions,
          referenceWords: w.referenceWords,
          text,
        });
      }
    } finally {
      await engine.close();
    }
  }
  return rows;
}

/** Corpus WER of the rows (of one mode): total edits over total reference words, not the mean of per-clip rates; NaN without words. */
export function corpusWer(rows: readonly SttClipResult[]): number {
  const words = rows.reduce((n, r) => n + r.referenceWords, 0);
  return words === 0 ? NaN : Math.round((rows.reduce((n, r) => n + r.edits, 0) / words) * 1000) / 1000;
}
