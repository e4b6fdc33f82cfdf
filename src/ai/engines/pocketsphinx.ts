/**
 * English speech recognition with CMU pocketsphinx, the offline engine that works on a bare Debian host.
 * A long-lived Python child (pocketsphinx_worker.py, run by Debian's /usr/bin/python3, which is the
 * interpreter python3-pocketsphinx installs into) loads the model once and decodes utterances sent as
 * JSON lines with base64 PCM. One utterance at a time per child: requests queue here, in order.
 * Partials (speech still going on) get a second child, started on first use, so they never delay a final.
 * If a child dies it is restarted on the next request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createError, Errors, InvalidStateError, type ParleyError } from '../../errors.js';
import type { PcmAudio, SttEngine, TranscribeOptions } from '../types.js';

export type PocketsphinxOptions = {
  /** Interpreter with the `pocketsphinx` module; Debian's python3-pocketsphinx provides it for /usr/bin/python3. */
  pythonBin?: string;
  /** Model directory holding en-us/, en-us.lm.bin and cmudict-en-us.dict (Debian: pocketsphinx-en-us). */
  modelDir?: string;
  /** How long the model may take to load before giving up (ms). */
  startTimeoutMs?: number;
  /** Fixed part of an utterance's decode budget (ms); 3x the audio duration is added to it. */
  requestTimeoutMs?: number;
};

const DEFAULTS = {
  pythonBin: '/usr/bin/python3',
  modelDir: '/usr/share/pocketsphinx/model/en-us',
  startTimeoutMs: 30_000,
  requestTimeoutMs: 10_000,
};
const WORKER = fileURLToPath(new URL('./pocketsphinx_worker.py', import.meta.url));
const SAMPLE_RATE = 16_000;
const NICE = '/usr/bin/nice';

type Reply = { type?: string; id?: number | null; text?: string; error?: string; code?: string; message?: string; loadMs?: number };
type Pending = { id: number; resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** One running worker process. */
class SphinxProcess {
  private readonly child: ChildProcess;
  private pending: Pending | undefined;
  private stderrTail = '';
  private nextId = 1;
  exited = false;
  loadMs = 0;

  private constructor(child: ChildProcess) {
    this.child = child;
  }

  /** `niceness` > 0 runs the decoder at a lower CPU priority (through /usr/bin/nice). */
  static start(opts: Required<PocketsphinxOptions>, niceness = 0): Promise<SphinxProcess> {
    const args = ['-u', WORKER, '--model', opts.modelDir];
    const [cmd, argv] = niceness > 0 && existsSync(NICE) ? [NICE, ['-n', String(niceness), opts.pythonBin, ...args]] : [opts.pythonBin, args];
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const proc = new SphinxProcess(child);
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      const timer = setTimeout(() => fail(createError(Errors.ENGINE_FAILED, `pocketsphinx did not load within ${opts.startTimeoutMs} ms`)), opts.startTimeoutMs);
      child.stderr!.on('data', (d: Buffer) => (proc.stderrTail = (proc.stderrTail + d.toString('utf8')).slice(-2000)));
      child.stdin!.on('error', () => {}); // EPIPE after the child died; 'exit' reports it
      child.on('error', (err: NodeJS.ErrnoException) => {
        proc.exited = true;
        const detail = err.code === 'ENOENT'
          ? `python interpreter ${opts.pythonBin} not found; install the Debian package python3-pocketsphinx (it provides the module for /usr/bin/python3)`
          : `cannot start ${opts.pythonBin}: ${err.message}`;
        fail(createError(Errors.MODEL_MISSING, detail, { engine: 'pocketsphinx', package: 'python3-pocketsphinx' }));
      });
      // 'close' (not 'exit') fires after stdout is drained, so a fatal line is read before this runs.
      child.on('close', (code, signal) => {
        proc.exited = true;
        fail(createError(Errors.ENGINE_FAILED, `pocketsphinx worker exited (${signal ?? code}) before it was ready: ${proc.stderrTail.trim()}`));
        proc.failPending(createError(Errors.ENGINE_FAILED, `pocketsphinx worker exited (${signal ?? code}): ${proc.stderrTail.trim()}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let msg: Reply;
        try {
          msg = JSON.parse(line) as Reply;
        } catch {
          return; // not protocol output
        }
        if (msg.type === 'ready') {
          clearTimeout(timer);
          proc.loadMs = msg.loadMs ?? 0;
          resolve(proc);
        } else if (msg.type === 'fatal') {
          const missing = msg.code === 'NO_MODULE' || msg.code === 'NO_MODEL';
          const pkg = msg.code === 'NO_MODULE' ? 'python3-pocketsphinx' : 'pocketsphinx-en-us';
          fail(createError(missing ? Errors.MODEL_MISSING : Errors.ENGINE_FAILED, msg.message ?? String(msg.code), { engine: 'pocketsphinx', package: pkg }));
        } else if (SphinxProcess.isReply(msg, proc.pending)) {
          const p = proc.pending!;
          proc.pending = undefined;
          clearTimeout(p.timer);
          p.resolve(msg);
        }
      });
    });
  }

  private static isReply(msg: Reply, pending: Pending | undefined): boolean {
    return pending !== undefined && (msg.id === pending.id || msg.id === null);
  }

  request(audio: PcmAudio, timeoutMs: number): Promise<Reply> {
    if (this.exited) return Promise.reject(createError(Errors.ENGINE_FAILED, 'pocketsphinx worker is not running'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.failPending(createError(Errors.ENGINE_FAILED, `pocketsphinx took longer than ${timeoutMs} ms`));
        this.kill();
      }, timeoutMs);
      this.pending = { id, resolve, reject, timer };
      const pcm = Buffer.from(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength).toString('base64');
      this.child.stdin!.write(`${JSON.stringify({ id, sampleRate: audio.sampleRate, pcm })}\n`);
    });
  }

  failPending(err: ParleyError): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Ends stdin so the worker exits by itself; kills it if it has not within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** One decoder process and the requests queued for it, in order; restarted on the next request if it died. */
class Lane {
  private proc: SphinxProcess | undefined;
  private starting: Promise<SphinxProcess> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly opts: Required<PocketsphinxOptions>,
    private readonly niceness = 0,
  ) {}

  get loadMs(): number {
    return this.proc?.loadMs ?? 0;
  }

  get pid(): number | undefined {
    return this.proc && !this.proc.exited ? this.proc.pid : undefined;
  }

  run(audio: PcmAudio): Promise<{ text: string }> {
    const run = async (): Promise<{ text: string }> => {
      const proc = await this.ensureProcess();
      const budget = this.opts.requestTimeoutMs + (3000 * audio.samples.length) / audio.sampleRate;
      const reply = await proc.request(audio, budget);
      if (reply.error !== undefined) throw createError(Errors.ENGINE_FAILED, `pocketsphinx: ${reply.error}`);
      return { text: reply.text ?? '' };
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async ensureProcess(): Promise<SphinxProcess> {
    if (this.proc && !this.proc.exited) return this.proc;
    this.starting ??= SphinxProcess.start(this.opts, this.niceness).finally(() => (this.starting = undefined));
    this.proc = await this.starting;
    return this.proc;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.starting?.catch(() => undefined);
    await this.proc?.stop();
    this.proc = undefined;
  }
}

export class PocketsphinxStt implements SttEngine {
  readonly id = 'pocketsphinx:en-us';
  readonly languages: readonly string[] = ['en'];
  private readonly finals: Lane;
  /** Partials get their own decoder (started on first use), so a partial never holds up a final. */
  private readonly partials: Lane;
  private closed = false;

  private constructor(opts: Required<PocketsphinxOptions>) {
    this.finals = new Lane(opts);
    // ...and at a lower CPU priority, so on a busy machine a final gets the CPU before a partial.
    this.partials = new Lane(opts, 10);
  }

  /** Starts the worker and waits until the model is loaded; rejects with ERR_MODEL_MISSING naming the Debian package when something is not installed. */
  static async create(options: PocketsphinxOptions = {}): Promise<PocketsphinxStt> {
    const engine = new PocketsphinxStt({ ...DEFAULTS, ...stripUndefined(options) });
    await engine.finals.ensureProcess();
    return engine;
  }

  /** Model load time of the running worker (ms), as measured inside it. */
  get loadMs(): number {
    return this.finals.loadMs;
  }

  /** Process id of the running worker (the one serving finals), if any. */
  get pid(): number | undefined {
    return this.finals.pid;
  }

  /** Process id of the worker serving partials, once one was asked for. */
  get partialPid(): number | undefined {
    return this.partials.pid;
  }

  transcribe(audio: PcmAudio, language: string, options: TranscribeOptions = {}): Promise<{ text: string }> {
    if (this.closed) return Promise.reject(new InvalidStateError('PocketsphinxStt is closed'));
    if (!this.languages.includes(language)) {
      return Promise.reject(createError(Errors.UNSUPPORTED_LANGUAGE, `pocketsphinx transcribes only English, not "${language}"`));
    }
    if (audio.sampleRate !== SAMPLE_RATE) {
      return Promise.reject(new TypeError(`pocketsphinx needs ${SAMPLE_RATE} Hz audio, got ${audio.sampleRate} Hz`));
    }
    return (options.partial ? this.partials : this.finals).run(audio);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.finals.close(), this.partials.close()]);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
