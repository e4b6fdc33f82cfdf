/**
 * Speech inputs for the pipeline bench: WAV clips with their reference transcripts, each
 * padded with trailing silence (Chromium loops its fake microphone; people pause).
 *
 * - `librivox`: the five LibriVox sentences of Debian's pocketsphinx-testdata (real speech);
 *   `librivox:0880,0930` keeps the clips whose id contains one of those strings;
 * - `librivox-continuous`: those five sentences back to back, 0.6 s of silence between them (continuous
 *   speech with natural pauses: each sentence is its own utterance, the next starts while the previous is
 *   still being translated), as one clip;
 * - `espeak`: English phrases synthesized by espeak-ng (synthetic speech; pocketsphinx does poorly on it);
 * - otherwise a comma-separated list of WAV paths (no reference: WER not computed).
 *
 * A speaker says every clip of the set in turn (`speakerTurns`), each followed by its pause.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

/** Where padded clips and speakers' turn files are written (kept between runs). */
const INPUTS_DIR = join(tmpdir(), 'parley-bench-inputs');

export const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';

export type SpeechClip = {
  id: string;
  /** The source file (unpadded), as the engines should hear it. */
  source: string;
  /** The file given to Chromium: the source plus `padSeconds` of silence. */
  wav: string;
  /** Reference transcript, when known. */
  reference: string | null;
  seconds: number;
};

export const ESPEAK_PHRASES = [
  'good morning everyone, thank you for joining the call',
  'can you hear me clearly now',
  'the meeting will start in five minutes',
  'please send me the report before friday',
  'we need to talk about the budget for next year',
];

function soxSeconds(wav: string): number {
  return Number(execFileSync('soxi', ['-D', wav]).toString().trim());
}

/** Reference transcripts of the LibriVox clips, by file id. */
export function librivoxReferences(): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of readFileSync(join(LIBRIVOX_DIR, 'transcription'), 'utf8').split('\n')) {
    const m = /^<s>(.*)<\/s>\s*\((.+)\)\s*$/.exec(line.trim());
    if (m) refs.set(m[2]!, m[1]!.trim());
  }
  return refs;
}

function padded(source: string, id: string, padSeconds: number, dir: string): string {
  const out = join(dir, `${id}-pad${padSeconds}.wav`);
  if (!existsSync(out)) execFileSync('sox', [source, out, 'pad', '0', String(padSeconds)]);
  return out;
}

/** The clips of an input set (see the module comment), padded into a temp folder. */
export function speechInputs(set: string, padSeconds = 1.5): SpeechClip[] {
  const dir = INPUTS_DIR;
  mkdirSync(dir, { recursive: true });
  if (set === 'librivox-continuous') {
    const parts = speechInputs('librivox', 0);
    const gap = join(dir, 'gap-0.6.wav');
    if (!existsSync(gap)) execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', gap, 'trim', '0', '0.6']);
    const source = join(dir, 'librivox-continuous.wav');
    if (!existsSync(source)) execFileSync('sox', parts.flatMap((p, i) => (i === 0 ? [p.source] : [gap, p.source])).concat([source]));
    const id = 'librivox-continuous';
    return [{ id, source, wav: padded(source, id, padSeconds, dir), reference: parts.map((p) => p.reference ?? '').join(' '), seconds: soxSeconds(source) }];
  }
  if (set === 'librivox' || set.startsWith('librivox:')) {
    const only = set.startsWith('librivox:') ? set.slice('librivox:'.length).split(',').filter((x) => x !== '') : [];
    if (!existsSync(join(LIBRIVOX_DIR, 'transcription'))) throw new Error(`${LIBRIVOX_DIR} is missing: run "./parley setup --test" (installs pocketsphinx-testdata)`);
    const refs = librivoxReferences();
    return readdirSync(LIBRIVOX_DIR)
      .filter((f) => f.endsWith('.wav') && (only.length === 0 || only.some((o) => f.includes(o))))
      .sort()
      .map((f) => {
        const id = f.replace(/\.wav$/, '');
        const source = join(LIBRIVOX_DIR, f);
        return { id, source, wav: padded(source, id, padSeconds, dir), reference: refs.get(id) ?? null, seconds: soxSeconds(source) };
      });
  }
  if (set === 'espeak') {
    return ESPEAK_PHRASES.map((text, i) => {
      const id = `espeak-${i}`;
      const source = join(dir, `${id}.wav`);
      if (!existsSync(source)) execFileSync('espeak-ng', ['-v', 'en', '-w', source, text]);
      return { id, source, wav: padded(source, id, padSeconds, dir), reference: text, seconds: soxSeconds(source) };
    });
  }
  return set
    .split(',')
    .map((p) => resolve(p.trim()))
    .filter((p) => p.length > 0)
    .map((source) => {
      if (!existsSync(source)) throw new Error(`input ${source} does not exist`);
      const id = basename(source).replace(/\.wav$/i, '');
      return { id, source, wav: padded(source, id, padSeconds, dir), reference: null, seconds: soxSeconds(source) };
    });
}

/**
 * What speaker `index` says, looped: every clip in turn, from clip `index` on (so concurrent speakers say
 * different things at once), each with its pause. One clip: that clip.
 */
export function speakerTurns(clips: readonly SpeechClip[], index: number): SpeechClip {
  if (clips.length === 1) return clips[0]!;
  const order = clips.map((_, k) => clips[(index + k) % clips.length]!);
  const id = `turns-${order.map((c) => c.id).join('+')}`;
  const wav = join(INPUTS_DIR, `turns-${createHash('sha256').update(order.map((c) => c.wav).join('\n')).digest('hex').slice(0, 12)}.wav`);
  if (!existsSync(wav)) execFileSync('sox', [...order.map((c) => c.wav), wav]);
  return { id, source: wav, wav, reference: order.map((c) => c.reference ?? '').join(' '), seconds: order.reduce((t, c) => t + c.seconds, 0) };
}

