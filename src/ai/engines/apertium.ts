/**
 * Rule-based machine translation with Apertium, the offline engine that works on a bare Debian host
 * (`apertium` + a pair package such as `apertium-eng-spa`).
 *
 * Each pair runs as one long-lived pipeline, started on first use: the pair's mode file turned into a
 * null-flush pipeline by `apertium-wblank-mode -z` (every stage flushes and echoes a NUL after each NUL it
 * reads). The `apertium` wrapper script is not used for this: its text deformatter and its gawk stage buffer
 * until EOF. So this module does the deformatter's work itself: it escapes the stream-format characters,
 * ends each request with the `.[]` sentence terminator apertium-destxt would add, and reads back up to the
 * NUL. Requests are written in order and the pipeline answers in order, so several may be in flight.
 * Measured here: ~150-250 ms to start a pipeline, then a few ms per sentence.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createError, Errors, InvalidStateError } from '../../errors.js';
import type { TranslateEngine } from '../types.js';

export type ApertiumOptions = {
  /** Apertium data directory holding modes/*.mode (Debian: /usr/share/apertium). */
  dataDir?: string;
  /** Longest a sentence may take before the pipeline is restarted (ms). */
  requestTimeoutMs?: number;
  /** Start every pair's pipeline now (one throwaway sentence each) instead of on first use. */
  warm?: boolean;
};

/** Our language codes (ISO 639-1) to the ISO 639-3 codes Apertium names most pairs with. */
const TO_APERTIUM: Record<string, string> = {
  en: 'eng', es: 'spa', fr: 'fra', de: 'deu', it: 'ita', pt: 'por', ca: 'cat', gl: 'glg', eu: 'eus',
  nl: 'nld', ro: 'ron', oc: 'oci', ar: 'ara', ru: 'rus', uk: 'ukr', pl: 'pol', vi: 'vie', id: 'ind', ms: 'msa',
};
const FROM_APERTIUM = new Map<string, string>(Object.entries(TO_APERTIUM).map(([ours, theirs]) => [theirs, ours]));

const execFileP = promisify(execFile);
const RESERVED = /[\\^$@/<>[\]{}]/g;

type Pending = { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

/** One running null-flush pipeline for one pair. */
class PairPipeline {
  private readonly child: ChildProcess;
  private readonly pending: Pending[] = [];
  private buffer = '';
  private stderrTail = '';
  exited = false;

  constructor(script: string, mode: string, private readonly timeoutMs: number) {
    // The script is the installed mode file rewritten by apertium-wblank-mode; $1 is the generator option
    // (-n: do not mark unknown words with * or #), $2 the tagger option (none). Text only ever goes to stdin.
    this.child = spawn('bash', ['-c', script, `apertium-${mode}`, '-n', ''], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so close() can stop every stage of the pipeline at once
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000)));
    this.child.stdin!.on('error', () => {}); // EPIPE if the pipeline died; 'close' reports it
    this.child.on('error', (err) => this.fail(createError(Errors.ENGINE_FAILED, `apertium ${mode}: ${err.message}`)));
    this.child.on('close', (code, signal) => {
      this.exited = true;
      this.fail(createError(Errors.ENGINE_FAILED, `apertium ${mode} pipeline exited (${signal ?? code}) ${this.stderrTail.trim()}`));
    });
  }

  translate(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(createError(Errors.ENGINE_FAILED, `apertium took longer than ${this.timeoutMs} ms`));
        this.kill();
      }, this.timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.child.stdin!.write(`${escapeText(text)}.[]\0`);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nul: number;
    while ((nul = this.buffer.indexOf('\0')) >= 0) {
      const frame = this.buffer.slice(0, nul);
      this.buffer = this.buffer.slice(nul + 1);
      const p = this.pending.shift();
      if (!p) continue; // stages echo extra NULs only at EOF
      clearTimeout(p.timer);
      p.resolve(unescapeOutput(frame));
    }
  }

  private fail(err: Error): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  kill(): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Ends stdin so every stage exits by itself; kills the group if it has not within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await closed;
    clearTimeout(timer);
  }
}

/** Escapes the characters apertium's stream format reserves; newlines and NULs become spaces. */
export function escapeText(text: string): string {
  return text.replace(/[\0\s~]+/g, ' ').trim().replace(RESERVED, (c) => `\\${c}`);
}

/** Turns a pipeline frame back into text: drops the trailing superblank and the `.` added on input, unescapes. */
export function unescapeOutput(frame: string): string {
  let s = frame.replace(/(\[[^\]]*\])+\s*$/, '').trimEnd();
  if (s.endsWith('.') && !s.endsWith('\\.')) s = s.slice(0, -1);
  s = s.replace(/\\(.)/g, '$1');
  return s.replace(/\s+/g, ' ').trim();
}

export class ApertiumTranslate implements TranslateEngine {
  readonly id = 'apertium';
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** "en>es" -> the pair's null-flush pipeline script. */
  private readonly scripts: Map<string, { mode: string; script: string }>;
  private readonly pipelines = new Map<string, PairPipeline>();
  private closed = false;

  private constructor(scripts: Map<string, { mode: string; script: string }>, private readonly timeoutMs: number) {
    this.scripts = scripts;
    this.pairs = [...scripts.keys()].map((k) => k.split('>') as [string, string]);
  }

  /** Discovers the installed pairs from `<dataDir>/modes`; throws ERR_MODEL_MISSING when there are none. */
  static async create(options: ApertiumOptions = {}): Promise<ApertiumTranslate> {
    const dataDir = options.dataDir ?? '/usr/share/apertium';
    const files = await readdir(join(dataDir, 'modes')).catch(() => [] as string[]);
    const modes = new Map<string, string>();
    for (const file of files) {
      const m = /^([a-z]{2,3})-([a-z]{2,3})\.mode$/.exec(file); // variants such as spa-eng_US are skipped
      if (!m) continue;
      const from = FROM_APERTIUM.get(m[1]!) ?? (m[1]!.length === 2 ? m[1]! : undefined);
      const to = FROM_APERTIUM.get(m[2]!) ?? (m[2]!.length === 2 ? m[2]! : undefined);
      if (from && to) modes.set(`${from}>${to}`, `${m[1]}-${m[2]}`);
    }
    if (modes.size === 0) {
      throw createError(Errors.MODEL_MISSING, `no Apertium language pairs in ${dataDir}/modes; install the Debian packages apertium and a pair such as apertium-eng-spa`, { engine: 'apertium', package: 'apertium-eng-spa' });
    }
    const scripts = new Map<string, { mode: string; script: string }>();
    for (const [key, mode] of modes) {
      const modeFile = join(dataDir, 'modes', `${mode}.mode`);
      const { stdout } = await execFileP('apertium-wblank-mode', ['-z', modeFile]).catch((err: Error) => {
        throw createError(Errors.MODEL_MISSING, `apertium-wblank-mode failed for ${modeFile} (${err.message}); install apertium >= 3.8`, { engine: 'apertium', package: 'apertium' });
      });
      scripts.set(key, { mode, script: stdout.trim() });
    }
    const engine = new ApertiumTranslate(scripts, options.requestTimeoutMs ?? 10_000);
    if (options.warm) await Promise.all(engine.pairs.map(([from, to]) => engine.translate('Hello.', from, to)));
    return engine;
  }

  async translate(text: string, from: string, to: string): Promise<{ text: string }> {
    if (this.closed) throw new InvalidStateError('ApertiumTranslate is closed');
    const key = `${from}>${to}`;
    const pair = this.scripts.get(key);
    if (!pair) {
      const have = this.pairs.map(([a, b]) => `${a}->${b}`).join(', ');
      throw createError(Errors.UNSUPPORTED_LANGUAGE, `apertium has no ${from}->${to} pair installed (installed: ${have})`, { from, to });
    }
    if (escapeText(text) === '') return { text: '' };
    let pipeline = this.pipelines.get(key);
    if (!pipeline || pipeline.exited) {
      pipeline = new PairPipeline(pair.script, pair.mode, this.timeoutMs);
      this.pipelines.set(key, pipeline);
    }
    return { text: await pipeline.translate(text) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.pipelines.values()].map((p) => p.stop()));
    this.pipelines.clear();
  }
}
