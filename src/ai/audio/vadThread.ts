/**
 * Runs Opus decode, resampling and VAD in a worker thread so the gateway's
 * event loop never blocks on them. One `VadThread` (one worker) hosts many
 * `AudioTap`s, one per speaking producer.
 *
 *   const thread = await VadThread.create();
 *   const tap = await thread.openTap({ maxUtteranceMs: 15000 });
 *   tap.on('utterance', (u) => ...);
 *   tap.push(opusPayload, Date.now());
 *
 * Opened with `chunkMs` > 0, a tap streams the speech instead of whole utterances:
 * 'speechstart', then 'chunk's while the person speaks, then 'speechend' (every
 * speechstart gets one, flush() included).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWorker, TapStats, TapStreamOptions, ToWorker } from './vadWorker.js';

export type { SegmentEnd } from './vad.js';
export type { TapStats, TapStreamOptions };

/** What the worker posts for a stream, without the envelope (fields documented in vadWorker.ts). */
type Posted<T extends FromWorker['type']> = Omit<Extract<FromWorker, { type: T }>, 'type' | 'id'>;

/** One utterance, 16 kHz mono (chunkMs 0). */
export type AudioUtterance = Posted<'utterance'> & { sampleRate: 16000 };

/** A speech segment opens (chunkMs > 0). */
export type AudioSpeechStart = Posted<'speechstart'>;

/** The next stretch of the open segment's audio, 16 kHz mono (chunkMs > 0). */
export type AudioChunk = Posted<'chunk'> & { sampleRate: 16000 };

/** The open segment is over, after its last chunk (chunkMs > 0). */
export type AudioSpeechEnd = Posted<'speechend'>;

export type AudioTapEvents = {
  /** A whole utterance (taps opened with chunkMs 0). */
  utterance: [AudioUtterance];
  /** The stream of a segment (taps opened with chunkMs > 0), in order: speechstart, chunk..., speechend. */
  speechstart: [AudioSpeechStart];
  chunk: [AudioChunk];
  speechend: [AudioSpeechEnd];
  /** A bad stream option or a worker failure; the tap closes after a worker failure. */
  error: [Error];
  close: [];
};

export type VadThreadEvents = {
  /** The worker thread exited unexpectedly; its taps are closed. */
  died: [Error];
};

/** Receives what one stream's audio turns into; created by `VadThread.openTap()`. */
export class AudioTap extends EventEmitter<AudioTapEvents> {
  readonly id: number;
  readonly #thread: VadThread;
  #closed = false;
  #onClosed: ((stats: TapStats | null) => void) | null = null;

  /** @internal */
  constructor(thread: VadThread, id: number) {
    super();
    this.#thread = thread;
    this.id = id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** One Opus RTP payload, in sequence order, with its arrival time (ms). */
  push(rtpPayload: Uint8Array, arrivalMs: number): void {
    if (this.#closed) return;
    const payload = new Uint8Array(rtpPayload); // own copy, transferred
    this.#thread.send({ type: 'audio', id: this.id, payload, arrivalMs }, [payload.buffer]);
  }

  /** Ends the speech in progress now (its utterance, or its last chunk and speechend, come as events). */
  flush(): void {
    if (!this.#closed) this.#thread.send({ type: 'flush', id: this.id });
  }

  /** Stops the stream; resolves with its cost counters once the worker let it go (null if the worker is gone). Idempotent. */
  close(): Promise<TapStats | null> {
    if (this.#closed) return Promise.resolve(null);
    this.#closed = true;
    return new Promise((resolve) => {
      this.#onClosed = (stats) => {
        this.#thread.tapClosed(this.id);
        this.emit('close');
        resolve(stats);
      };
      this.#thread.send({ type: 'close', id: this.id });
    });
  }

  /** @internal */
  receive(msg: FromWorker): void {
    if (msg.type === 'utterance') {
      const { type: _type, id: _id, ...utterance } = msg;
      this.emit('utterance', { ...utterance, sampleRate: 16000 });
    } else if (msg.type === 'speechstart') {
      const { type: _type, id: _id, ...start } = msg;
      this.emit('speechstart', start);
    } else if (msg.type === 'chunk') {
      const { type: _type, id: _id, ...chunk } = msg;
      this.emit('chunk', { ...chunk, sampleRate: 16000 });
    } else if (msg.type === 'speechend') {
      const { type: _type, id: _id, ...end } = msg;
      this.emit('speechend', end);
    } else if (msg.type === 'closed') {
      this.#onClosed?.(msg.stats);
    } else if (msg.type === 'error' && this.listenerCount('error') > 0) {
      this.emit('error', new Error(msg.message));
    }
  }

  /** @internal The worker is gone. */
  threadClosed(error: Error | null): void {
    if (error && this.listenerCount('error') > 0) this.emit('error', error);
    if (this.#onClosed) this.#onClosed(null);
    else if (!this.#closed) {
      this.#closed = true;
      this.emit('close');
    }
  }
}

/** A worker thread hosting audio taps. */
export class VadThread {
  readonly observer = new EventEmitter<VadThreadEvents>();
  readonly #worker: Worker;
  readonly #taps = new Map<number, AudioTap>();
  readonly #pendingOpen = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #closed = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (msg: FromWorker) => this.#onMessage(msg));
    worker.on('error', (err) => this.#onDeath(err));
    worker.on('exit', (code) => this.#onDeath(new Error(`VAD worker exited with code ${code}`)));
  }

  /** Starts the worker and resolves once it has loaded its modules. */
  static async create(): Promise<VadThread> {
    const entry = workerEntry();
    const worker = new Worker(entry.code, { eval: entry.eval, execArgv: [], name: 'parley-vad' });
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: FromWorker) => {
        if (m.type !== 'ready') return;
        cleanup();
        resolve();
      };
      const onErr = (e: Error) => {
        cleanup();
        reject(e);
      };
      const onExit = (code: number) => onErr(new Error(`VAD worker exited with code ${code} while starting`));
      const cleanup = () => {
        worker.off('message', onMsg);
        worker.off('error', onErr);
        worker.off('exit', onExit);
      };
      worker.on('message', onMsg);
      worker.once('error', onErr);
      worker.once('exit', onExit);
    });
    return new VadThread(worker);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Number of open taps. */
  get size(): number {
    return this.#taps.size;
  }

  /** Opens a stream in the worker (loads its VAD model); rejects on bad options or a missing model. */
  async openTap(options: TapStreamOptions = {}): Promise<AudioTap> {
    if (this.#closed) throw new Error('VadThread is closed');
    const id = this.#nextId++;
    const tap = new AudioTap(this, id);
    this.#taps.set(id, tap);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#pendingOpen.set(id, { resolve, reject });
        this.send({ type: 'open', id, options });
      });
    } catch (err) {
      this.#taps.delete(id);
      throw err;
    }
    return tap;
  }

  /** Closes every tap, then stops the worker (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#taps.values()].map((t) => t.close()));
    this.#closed = true;
    await this.#worker.terminate();
  }

  /** @internal */
  send(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!this.#closed) this.#worker.postMessage(msg, transfer);
  }

  /** @internal */
  tapClosed(id: number): void {
    this.#taps.delete(id);
  }

  #onMessage(msg: FromWorker): void {
    if (msg.type === 'ready') return;
    const pending = this.#pendingOpen.get(msg.id);
    if (pending && (msg.type === 'opened' || msg.type === 'error')) {
      this.#pendingOpen.delete(msg.id);
      if (msg.type === 'opened') pending.resolve();
      else pending.reject(new Error(msg.message));
      return;
    }
    this.#taps.get(msg.id)?.receive(msg);
  }

  #onDeath(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pendingOpen.values()) p.reject(error);
    this.#pendingOpen.clear();
    for (const tap of [...this.#taps.values()]) tap.threadClosed(error);
    this.#taps.clear();
    this.observer.emit('died', error);
  }
}

/**
 * What the worker runs. From compiled output: vadWorker.js. From TypeScript
 * sources (tsx, vitest): a bootstrap that registers tsx's ESM hooks inside the
 * worker, then imports vadWorker.ts. (`execArgv: ['--import', 'tsx']` does not
 * work here: on Node 20 the worker starts but its hooks never load .ts files.)
 * Paths are absolute, so this works from any current directory.
 */
function workerEntry(): { code: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { code: new URL('./vadWorker.js', import.meta.url), eval: false };
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL('./vadWorker.ts', import.meta.url).href;
  return { code: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, eval: true };
}
