/**
 * English speech recognition with CMU pocketsphinx, the offline engine that works on a bare Debian host.
 * Long-lived Python children (pocketsphinx_worker.py, run by Debian's /usr/bin/python3, which is the
 * interpreter python3-pocketsphinx installs into) load the model once and decode audio sent as JSON lines
 * with base64 PCM.
 *
 * A decoder holds one utterance at a time, so a live session owns a whole process until it finishes: the
 * engine keeps a pool of up to `sessions` processes (started on demand, kept warm) and refuses the next
 * speaker with ERR_AI_SATURATED rather than queueing them behind someone who is still talking. A process
 * that dies is dropped from the pool; a later open() starts a fresh one.
 *
 * Streaming mode feeds every chunk to the decoder as it arrives, with its second and third passes
 * (fwdflat, bestpath) off: measured here, the final then comes 5-34 ms after the last chunk instead of
 * 175-483 ms, with the same transcripts. Batch mode keeps those passes and decodes the utterance whole.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createError, Errors, InvalidStateError, type ParleyError } from '../../errors.js';
import type { PcmAudio, SttEngine, SttSession } from '../types.js';
import { WholeUtteranceSession } from './wholeUtterance.js';

export type PocketsphinxOptions = {
  /** Interpreter with the `pocketsphinx` module; Debian's python3-pocketsphinx provides it for /usr/bin/python3. */
  pythonBin?: string;
  /** Model directory holding en-us/, en-us.lm.bin and cmudict-en-us.dict (Debian: pocketsphinx-en-us). */
  modelDir?: string;
  /** How long the model may take to load before giving up (ms). */
  startTimeoutMs?: number;
  /** Fixed part of a request's time budget (ms); 3x the duration of the audio it carries is added to it. */
  requestTimeoutMs?: number;
  /** 'streaming' decodes sessions chunk by chunk; 'batch' decodes each utterance whole when it ends. */
  mode?: 'streaming' | 'batch';
  /** Most sessions (= decoder processes) at once. */
  sessions?: number;
  /** Decoder's flat-lexicon second pass (default: off when streaming, on in batch mode). */
  fwdflat?: boolean;
  /** Decoder's best-path lattice search (default: off when streaming, on in batch mode). */
  bestpath?: boolean;
  /**
   * Beam bounds per frame: most active HMMs and word exits (0 = the library's defaults). Streaming defaults to
   * 3000 / 10, measured to halve the decoder's CPU with the same WER on the LibriVox clips (see the worker);
   * batch mode keeps the library's defaults (the behaviour before streaming).
   */
  maxhmmpf?: number;
  maxwpf?: number;
  /**
   * WAV files of real speech (16 kHz mono) each new decoder decodes in chunks before it is ready: a fresh
   * decoder's first streamed utterance is markedly worse (see the worker). Default in streaming mode: two
   * LibriVox clips of Debian's pocketsphinx-testdata where installed; none in batch mode.
   */
  warmup?: string[];
};

type ResolvedOptions = Required<PocketsphinxOptions>;

/** Real speech for warming a new decoder up (Debian's pocketsphinx-testdata, installed by setup). */
const WARMUP_CLIPS = ['0880', '0930'].map((id) => `/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-${id}.wav`);

const DEFAULTS = {
  pythonBin: '/usr/bin/python3',
  modelDir: '/usr/share/pocketsphinx/model/en-us',
  startTimeoutMs: 30_000,
  requestTimeoutMs: 10_000,
  mode: 'streaming' as const,
  sessions: 3,
};
const WORKER = fileURLToPath(new URL('./pocketsphinx_worker.py', import.meta.url));
const SAMPLE_RATE = 16_000;
/** How long a stopping process may take to exit on its own before it is killed (ms). */
const STOP_GRACE_MS = 2000;

type Request = { op: 'decode'; sampleRate: number; pcm: string } | { op: 'start' } | { op: 'feed'; pcm: string } | { op: 'end' };
type Reply = { type?: string; id?: number | null; text?: string; hyp?: string; error?: string; code?: string; message?: string; loadMs?: number };
type Pending = { id: number; resolve: (r: Reply) => void; reject: (e: Error) => void; timeoutMs: number; timer?: NodeJS.Timeout };

const failed = (detail: string): ParleyError => createError(Errors.ENGINE_FAILED, detail);
const base64 = (s: Int16Array): string => Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64');

/** One running worker process. Requests are answered in order; each one's budget runs while it is the oldest. */
class SphinxProcess {
  private readonly pending: Pending[] = [];
  private stderrTail = '';
  private nextId = 1;
  private stopped: Promise<void> | undefined;
  exited = false;
  /** Taken by a session or a whole-utterance decode; whoever took it clears it when done with it. */
  busy = false;
  loadMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Spawns the worker and waits for its model; `onExit` runs when it is gone, whatever the reason. */
  static start(opts: ResolvedOptions, onExit: (proc: SphinxProcess) => void): Promise<SphinxProcess> {
    const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
    const args = ['-u', WORKER, '--model', opts.modelDir, '--fwdflat', yesNo(opts.fwdflat), '--bestpath', yesNo(opts.bestpath), '--maxhmmpf', String(opts.maxhmmpf), '--maxwpf', String(opts.maxwpf), ...opts.warmup.flatMap((f) => ['--warmup', f])];
    const child = spawn(opts.pythonBin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const proc = new SphinxProcess(child, opts.requestTimeoutMs);
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      const timer = setTimeout(() => fail(failed(`pocketsphinx did not load within ${opts.startTimeoutMs} ms`)), opts.startTimeoutMs);
      child.stderr!.on('data', (d: Buffer) => (proc.stderrTail = (proc.stderrTail + d.toString('utf8')).slice(-2000)));
      child.stdin!.on('error', () => {}); // EPIPE after the child died; 'close' reports it
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
        const err = failed(`pocketsphinx worker exited (${signal ?? code}): ${proc.stderrTail.trim()}`);
        fail(err); // no-op once ready
        proc.failAll(err);
        onExit(proc);
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
        } else {
          proc.onReply(msg);
        }
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Sends a request carrying `samples` of audio; an error reply, running over its budget (which also kills
   * the process) or the process's death reject with ERR_ENGINE_FAILED.
   */
  request(req: Request, samples = 0): Promise<Reply> {
    if (this.exited) return Promise.reject(failed('pocketsphinx worker is not running'));
    const timeoutMs = this.requestTimeoutMs + (3000 * samples) / SAMPLE_RATE;
    return new Promise<Reply>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.push({ id, resolve, reject, timeoutMs });
      if (this.pending.length === 1) this.armOldest();
      this.child.stdin!.write(`${JSON.stringify({ id, ...req })}\n`);
    }).then((reply) => {
      if (reply.error !== undefined) throw failed(`pocketsphinx: ${reply.error}`);
      return reply;
    });
  }

  private onReply(msg: Reply): void {
    const oldest = this.pending[0];
    if (!oldest || (msg.id !== oldest.id && msg.id !== null)) return;
    this.pending.shift();
    clearTimeout(oldest.timer);
    this.armOldest();
    oldest.resolve(msg);
  }

  private armOldest(): void {
    const oldest = this.pending[0];
    if (!oldest) return;
    oldest.timer = setTimeout(() => {
      this.failAll(failed(`pocketsphinx took longer than ${oldest.timeoutMs} ms`));
      this.kill();
    }, oldest.timeoutMs);
  }

  private failAll(err: ParleyError): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /** Marks the process gone at once, so the pool never hands it out between the kill and its 'close'. */
  kill(): void {
    if (this.exited) return;
    this.exited = true;
    this.child.kill('SIGKILL');
  }

  /** Ends stdin so the worker exits by itself once its queued requests are answered; kills it after a grace period. */
  stop(): Promise<void> {
    if (this.exited) return Promise.resolve();
    this.stopped ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.kill(), STOP_GRACE_MS);
      this.child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.stdin!.end();
    });
    return this.stopped;
  }
}

export class PocketsphinxStt implements SttEngine {
  readonly id = 'pocketsphinx:en-us';
  readonly languages: readonly string[] = ['en'];
  readonly streaming: boolean;
  /** Running decoder processes, busy or idle. */
  private readonly procs = new Set<SphinxProcess>();
  /** Processes being started for a caller; they count against `sessions`. */
  private readonly starting = new Set<Promise<SphinxProcess>>();
  private firstLoadMs = 0;
  private closed = false;

  private constructor(private readonly opts: ResolvedOptions) {
    this.streaming = opts.mode === 'streaming';
  }

  /** Starts one decoder and waits until its model is loaded; rejects with ERR_MODEL_MISSING naming the Debian package when something is not installed. */
  static async create(options: PocketsphinxOptions = {}): Promise<PocketsphinxStt> {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as PocketsphinxOptions;
    const merged = { ...DEFAULTS, ...given };
    const batch = merged.mode === 'batch';
    const warmup = batch ? [] : WARMUP_CLIPS.filter((f) => existsSync(f));
    const engine = new PocketsphinxStt({ fwdflat: batch, bestpath: batch, maxhmmpf: batch ? 0 : 3000, maxwpf: batch ? 0 : 10, warmup, ...merged });
    if (!Number.isInteger(engine.opts.sessions) || engine.opts.sessions < 1) throw new TypeError(`sessions must be a positive integer, got ${engine.opts.sessions}`);
    const first = await engine.acquire();
    engine.firstLoadMs = first.loadMs;
    first.busy = false;
    return engine;
  }

  /** Model load time of the first decoder (ms), as measured inside it. */
  get loadMs(): number {
    return this.firstLoadMs;
  }

  /** Process ids of the running decoders. */
  get pids(): number[] {
    return [...this.procs].flatMap((p) => (p.exited || p.pid === undefined ? [] : [p.pid]));
  }

  async transcribe(audio: PcmAudio, language: string): Promise<{ text: string }> {
    this.assertServes(language);
    if (audio.sampleRate !== SAMPLE_RATE) throw new TypeError(`pocketsphinx needs ${SAMPLE_RATE} Hz audio, got ${audio.sampleRate} Hz`);
    const proc = await this.acquire();
    try {
      const reply = await proc.request({ op: 'decode', sampleRate: audio.sampleRate, pcm: base64(audio.samples) }, audio.samples.length);
      return { text: reply.text ?? '' };
    } finally {
      proc.busy = false;
    }
  }

  async open(language: string): Promise<SttSession> {
    this.assertServes(language);
    if (!this.streaming) return new WholeUtteranceSession((audio) => this.transcribe(audio, language));
    const proc = await this.acquire();
    try {
      await proc.request({ op: 'start' });
    } catch (err) {
      proc.busy = false;
      throw err;
    }
    return new LiveSession(proc);
  }

  /** Stops every decoder: those still answering a session get the grace period, then are killed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A decoder still loading is stopped too, whether or not its caller has taken it yet.
    const started = (await Promise.allSettled(this.starting)).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await Promise.all([...new Set([...this.procs, ...started])].map((p) => p.stop()));
  }

  private assertServes(language: string): void {
    if (this.closed) throw new InvalidStateError('PocketsphinxStt is closed');
    if (!this.languages.includes(language)) throw createError(Errors.UNSUPPORTED_LANGUAGE, `pocketsphinx transcribes only English, not "${language}"`);
  }

  /** An idle decoder, or a new one while fewer than `sessions` exist; otherwise ERR_AI_SATURATED at once. */
  private async acquire(): Promise<SphinxProcess> {
    const idle = [...this.procs].find((p) => !p.busy && !p.exited);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    if (this.procs.size + this.starting.size >= this.opts.sessions) {
      throw createError(Errors.AI_SATURATED, `all ${this.opts.sessions} pocketsphinx decoders are busy`);
    }
    const starting = SphinxProcess.start(this.opts, (p) => this.procs.delete(p));
    this.starting.add(starting);
    const proc = await starting.finally(() => this.starting.delete(starting));
    proc.busy = true;
    this.procs.add(proc);
    if (this.closed) {
      await proc.stop();
      throw new InvalidStateError('PocketsphinxStt is closed');
    }
    return proc;
  }
}

/**
 * One live utterance on its own decoder. The process goes back to the pool as soon as the utterance's last
 * request (end) is written: the worker answers in order, so the next session's start queues behind it.
 */
class LiveSession implements SttSession {
  private done = false;

  constructor(private readonly proc: SphinxProcess) {}

  async push(samples: Int16Array): Promise<{ text: string }> {
    if (this.done) throw new InvalidStateError('cannot push: the recognition session is closed');
    const reply = await this.proc.request({ op: 'feed', pcm: base64(samples) }, samples.length);
    return { text: reply.hyp ?? '' };
  }

  async finish(): Promise<{ text: string }> {
    if (this.done) throw new InvalidStateError('cannot finish: the recognition session is closed');
    const reply = await this.end();
    return { text: reply.text ?? '' };
  }

  /** Ends the utterance without waiting for its result; a decoder that does not answer is killed by the request's timeout. */
  close(): void {
    if (!this.done) this.end().catch(() => undefined);
  }

  private end(): Promise<Reply> {
    this.done = true;
    const reply = this.proc.request({ op: 'end' });
    this.proc.busy = false;
    return reply;
  }
}
