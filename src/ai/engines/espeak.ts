/**
 * Speech synthesis with espeak-ng, the offline engine that works on a bare Debian host (`espeak-ng`).
 * One short process per sentence (20-50 ms measured): text goes in on stdin (`--stdin`, never a shell or an
 * argument, so text that starts with "-" is not read as an option), a WAV comes back on stdout.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createError, Errors, InvalidStateError } from '../../errors.js';
import { parseWav } from '../audio/wav.js';
import type { PcmAudio, TtsEngine } from '../types.js';

export type EspeakOptions = {
  /** The espeak-ng binary. */
  bin?: string;
  /** Voice per language code, overriding the automatic choice (e.g. { en: 'en-gb' }). */
  voices?: Record<string, string>;
  /** Speaking rate in words per minute (espeak-ng's default is 175). */
  wordsPerMinute?: number;
  /** Longest one synthesis may take (ms). */
  timeoutMs?: number;
};

/** Preferred voice where a language has several regional ones and no plain one. */
const PREFERRED: Record<string, string> = { en: 'en-us', fr: 'fr-fr', pt: 'pt-br', vi: 'vi', es: 'es' };

const execFileP = promisify(execFile);
/** espeak-ng's output rate for all its own voices. */
const ESPEAK_RATE = 22_050;

/**
 * Parses `espeak-ng --voices` into language code -> voice name (the Language column). An override naming a
 * voice that is not listed is a TypeError: espeak-ng itself would silently fall back to its default voice.
 */
export function chooseVoices(listing: string, overrides: Record<string, string> = {}): Map<string, string> {
  const byLanguage = new Map<string, string[]>();
  const known = new Set<string>();
  for (const line of listing.split('\n').slice(1)) {
    const [, lang, , , file] = line.trim().split(/\s+/);
    if (!lang) continue;
    known.add(lang);
    if (file) known.add(file);
    const code = lang.split('-')[0]!.toLowerCase();
    byLanguage.set(code, [...(byLanguage.get(code) ?? []), lang]);
  }
  const voices = new Map<string, string>();
  for (const [code, names] of byLanguage) {
    const preferred = PREFERRED[code];
    voices.set(code, names.find((n) => n === code) ?? names.find((n) => n === preferred) ?? names[0]!);
  }
  for (const [code, voice] of Object.entries(overrides)) {
    if (!known.has(voice)) throw new TypeError(`espeak-ng has no voice "${voice}" (for "${code}")`);
    voices.set(code, voice);
  }
  return voices;
}

export class EspeakTts implements TtsEngine {
  readonly id = 'espeak-ng';
  readonly languages: readonly string[];
  private closed = false;

  private constructor(
    private readonly bin: string,
    private readonly voices: Map<string, string>,
    private readonly wpm: number,
    private readonly timeoutMs: number,
  ) {
    this.languages = [...voices.keys()].sort();
  }

  /** Lists the installed voices; throws ERR_MODEL_MISSING naming the Debian package when espeak-ng is absent. */
  static async create(options: EspeakOptions = {}): Promise<EspeakTts> {
    const bin = options.bin ?? 'espeak-ng';
    let listing: string;
    try {
      listing = (await execFileP(bin, ['--voices'], { timeout: 10_000 })).stdout;
    } catch (err) {
      throw createError(Errors.MODEL_MISSING, `cannot run ${bin} --voices (${(err as Error).message}); install the Debian package espeak-ng`, {
        engine: 'espeak-ng',
        package: 'espeak-ng',
      });
    }
    const voices = chooseVoices(listing, options.voices);
    if (voices.size === 0) throw createError(Errors.MODEL_MISSING, `${bin} lists no voices; install the Debian package espeak-ng-data`);
    return new EspeakTts(bin, voices, options.wordsPerMinute ?? 175, options.timeoutMs ?? 10_000);
  }

  /** The espeak-ng voice used for a language. */
  voiceFor(language: string): string | undefined {
    return this.voices.get(language);
  }

  synthesize(text: string, language: string): Promise<PcmAudio> {
    if (this.closed) return Promise.reject(new InvalidStateError('EspeakTts is closed'));
    const voice = this.voices.get(language);
    if (!voice) return Promise.reject(createError(Errors.UNSUPPORTED_LANGUAGE, `espeak-ng has no voice for "${language}"`));
    // Nothing to say: espeak-ng would write no WAV at all.
    if (text.trim() === '') return Promise.resolve({ samples: new Int16Array(0), sampleRate: ESPEAK_RATE });
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, ['-v', voice, '-s', String(this.wpm), '-b', '1', '--stdin', '--stdout'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: this.timeoutMs,
        killSignal: 'SIGKILL',
      });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.stdin.on('error', () => {}); // EPIPE if it exits early; 'close' reports why
      child.on('error', (err) => reject(createError(Errors.ENGINE_FAILED, `espeak-ng: ${err.message}`)));
      child.on('close', (code, signal) => {
        const wav = Buffer.concat(out);
        if (code !== 0 || wav.length < 44) {
          reject(createError(Errors.ENGINE_FAILED, `espeak-ng -v ${voice} failed (${signal ?? code}): ${stderr.trim() || 'no audio'}`));
          return;
        }
        try {
          resolve(parseWav(wav));
        } catch (err) {
          reject(createError(Errors.ENGINE_FAILED, `espeak-ng output: ${(err as Error).message}`));
        }
      });
      child.stdin.end(text.replace(/\0/g, ' '), 'utf8');
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
