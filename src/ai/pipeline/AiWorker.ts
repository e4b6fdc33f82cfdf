/**
 * The AI side of the pipeline: BullMQ workers for the stt, translate and tts
 * queues, calling the engines of an EngineSet and publishing captions, audio
 * and drops to the results queue of the gateway replica that asked. An stt job
 * is a recognition session: the worker decodes the utterance's audio stream
 * while it is spoken (recognize.ts), sends each new hypothesis as a partial
 * caption, and the final at the endpoint. The tts stage speaks a translation
 * sentence by sentence, one audio result per sentence, so the room hears the
 * first while the next is synthesized.
 */
import { EventEmitter } from 'node:events';
import { UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import { duplicateRedis, type RedisClient } from '../../state/redisConnection.js';
import { Errors, ParleyError, createError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { EngineSet, PcmAudio, SttSession, TimingMarks, TtsEngine } from '../types.js';
import { AiCache, type AiCacheOptions, type AiCacheStats } from './cache.js';
import {
  encodePcm,
  refOf,
  type AudioResult,
  type DroppedResult,
  type ResultJob,
  type SttJob,
  type TranslateJob,
  type TtsJob,
  type UtteranceRef,
} from './jobs.js';
import { bullName, JobIds, PIPELINE_PREFIX, stageQueue, type PipelineStage } from './names.js';
import { PipelineQueues, RESULT_JOB_OPTIONS, createBullConnection } from './PipelineQueues.js';
import { recognize, type RecognizeOutcome } from './recognize.js';
import { splitSentences } from './sentences.js';
import { sessionOutput, type SessionOutput } from './sessionOutput.js';
import { COMMIT_DEFAULTS, type CommitOptions } from '../simultaneous/commitPolicy.js';

export type AiWorkerOptions = {
  redisUrl: string;
  /** Engines per language; owned by the caller (not closed by close()). */
  engines: EngineSet;
  /** Jobs processed at once by the translate and tts stages (default 2). */
  concurrency?: number;
  /**
   * Recognition sessions (speakers) this worker runs at once (default 3): as many as its CPU keeps in real
   * time with the engine in use. A session nobody can take waits in the queue until the gateway withdraws it.
   */
  maxSessions?: number;
  /** A recognition session whose stream sends nothing for this long ends with what it heard (ms, default 3 000). */
  streamStallMs?: number;
  /** Commit policy of simultaneous translation (sessions whose job asks for it); see commitPolicy.ts. */
  commit?: Partial<CommitOptions>;
  /** An utterance older than marks.speechEnd + maxAgeMs is dropped, ms (default 10 000). */
  maxAgeMs?: number;
  /** BullMQ job lock, ms (default 5 000); see WORKER_TUNING. */
  lockDurationMs?: number;
  /** BullMQ stalled-job scan period, ms (default 2 000). */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails (default 1). */
  maxStalledCount?: number;
  /** Longest one engine call may take, ms (default 5 000); past it the attempt fails with ERR_ENGINE_FAILED. */
  engineTimeoutMs?: number;
  /**
   * Whether a gateway replica is still registered. Given, results for a replica that is gone are not
   * published: its results queue was deleted when it was reaped, and re-creating it would leave keys
   * nobody ever consumes. Absent, every result is published.
   */
  replicaAlive?: (replicaId: string) => Promise<boolean>;
  /** BullMQ prefix and cache key prefix (default 'parley'). */
  prefix?: string;
  /** Translation/audio cache settings; false disables the cache. */
  cache?: Omit<AiCacheOptions, 'prefix'> | false;
  log: Logger;
};

export type AiWorkerEvents = {
  /** A stage finished a job: waitMs in the queue, durationMs processing. */
  processed: [{ stage: PipelineStage; waitMs: number; durationMs: number }];
  /** An utterance (or one target language of it) was dropped. */
  dropped: [{ stage: PipelineStage; code: string; reason: string }];
  /** Recognition sessions running now changed. */
  sessions: [active: number];
  /** A recognition session ended: its speed (decode time / audio time), worst lag behind the live audio, final time. */
  session: [{ rtf: number; audioMs: number; maxLagMs: number; finalMs: number; stalled: boolean }];
};

/**
 * Tuned for speech, where a result is worth little after a few seconds:
 * - lockDuration 5 s: a worker renews its lock every 2.5 s while it processes; when the process dies
 *   the lock lapses within 5 s. Shorter would risk false stalls (and double processing) when an
 *   engine blocks the event loop for seconds, so engines must run inference off the main loop.
 * - stalledInterval 2 s: a live worker scans active jobs every 2 s; a job is moved back to wait by
 *   the first scan that finds its lock gone and saw it active in the previous scan, so a job held by
 *   a crashed worker is retried about 3-9 s after the crash (lock expiry + up to two scans). Each
 *   scan is one small Lua script per queue, run by one worker per interval.
 * - maxStalledCount 1: one recovery; a job that stalls twice (an input that kills workers) fails and
 *   is reported dropped instead of taking down worker after worker.
 * maxAgeMs must exceed lockDuration + 2 x stalledInterval for a recovered job to still be useful.
 */
export const AI_WORKER_DEFAULTS = {
  concurrency: 2,
  maxSessions: 3,
  streamStallMs: 3_000,
  maxAgeMs: 10_000,
  lockDurationMs: 5_000,
  stalledIntervalMs: 2_000,
  maxStalledCount: 1,
  engineTimeoutMs: 5_000,
} as const;

/** Codes that no retry can fix. */
const UNRECOVERABLE_CODES = new Set([Errors.UNSUPPORTED_LANGUAGE.code, Errors.MODEL_MISSING.code, Errors.UTTERANCE_DROPPED.code]);

type Outcome = { done: true } | { skipped: string };


export class AiWorker {
  readonly observer = new EventEmitter<AiWorkerEvents>();
  readonly #engines: EngineSet;
  readonly #queues: PipelineQueues;
  readonly #connection: RedisClient;
  readonly #cache: AiCache | null;
  readonly #log: Logger;
  readonly #maxAgeMs: number;
  readonly #engineTimeoutMs: number;
  readonly #replicaAlive: ((replicaId: string) => Promise<boolean>) | null;
  readonly #streamStallMs: number;
  readonly #commit: CommitOptions;
  readonly #workers: Worker[] = [];
  /** Idle connections for the sessions' blocking stream reads (one per running session). */
  readonly #readers: RedisClient[] = [];
  readonly #allReaders = new Set<RedisClient>();
  #activeSessions = 0;
  #closing: Promise<void> | null = null;

  private constructor(options: AiWorkerOptions, connection: RedisClient, queues: PipelineQueues) {
    this.#engines = options.engines;
    this.#connection = connection;
    this.#queues = queues;
    this.#log = options.log.child({ module: 'ai-worker' });
    this.#maxAgeMs = options.maxAgeMs ?? AI_WORKER_DEFAULTS.maxAgeMs;
    this.#engineTimeoutMs = options.engineTimeoutMs ?? AI_WORKER_DEFAULTS.engineTimeoutMs;
    this.#replicaAlive = options.replicaAlive ?? null;
    this.#streamStallMs = options.streamStallMs ?? AI_WORKER_DEFAULTS.streamStallMs;
    this.#commit = { ...COMMIT_DEFAULTS, ...options.commit };
    this.#cache = options.cache === false ? null : new AiCache(connection, { ...options.cache, prefix: queues.prefix });
  }

  static async create(options: AiWorkerOptions): Promise<AiWorker> {
    const prefix = options.prefix ?? PIPELINE_PREFIX;
    const connection = createBullConnection(options.redisUrl, 'parley-ai-worker');
    const queues = await PipelineQueues.create({ connection, prefix, maxAgeMs: options.maxAgeMs ?? AI_WORKER_DEFAULTS.maxAgeMs });
    const ai = new AiWorker(options, connection, queues);
    const settings: WorkerOptions = {
      connection,
      prefix,
      concurrency: options.concurrency ?? AI_WORKER_DEFAULTS.concurrency,
      lockDuration: options.lockDurationMs ?? AI_WORKER_DEFAULTS.lockDurationMs,
      stalledInterval: options.stalledIntervalMs ?? AI_WORKER_DEFAULTS.stalledIntervalMs,
      maxStalledCount: options.maxStalledCount ?? AI_WORKER_DEFAULTS.maxStalledCount,
    };
    ai.#start('stt', (job: Job<SttJob>) => ai.#stt(job), { ...settings, concurrency: options.maxSessions ?? AI_WORKER_DEFAULTS.maxSessions });
    ai.#start('translate', (job: Job<TranslateJob>) => ai.#translate(job), settings);
    ai.#start('tts', (job: Job<TtsJob>) => ai.#tts(job), settings);
    await Promise.all(ai.#workers.map((w) => w.waitUntilReady()));
    return ai;
  }

  /** Cache hit/miss counters (null when the cache is disabled). */
  get cacheStats(): AiCacheStats | null {
    return this.#cache?.stats ?? null;
  }

  /** Recognition sessions running now. */
  get activeSessions(): number {
    return this.#activeSessions;
  }

  /** Stops taking jobs, lets running ones finish (sessions until their end or stall), then closes queues and Redis. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all(this.#workers.map((w) => w.close()));
      for (const reader of this.#allReaders) reader.disconnect();
      await this.#queues.close();
      await this.#connection.quit().catch(() => this.#connection.disconnect());
    })();
    return this.#closing;
  }

  #start<T extends SttJob | TranslateJob | TtsJob>(stage: PipelineStage, processor: (job: Job<T>) => Promise<Outcome>, settings: WorkerOptions): void {
    const worker = new Worker<T, Outcome>(bullName(stageQueue(stage)), processor, { ...settings, name: `ai-${stage}` });
    worker.on('error', (err) => this.#log.warn({ err, stage }, 'worker error'));
    worker.on('completed', (job) => {
      const started = job.processedOn ?? job.timestamp;
      this.observer.emit('processed', { stage, waitMs: started - job.timestamp, durationMs: (job.finishedOn ?? Date.now()) - started });
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (!final) {
        this.#log.warn({ stage, jobId: job.id, err: err.message }, 'job failed; retrying');
        return;
      }
      if (stage === 'stt') void this.#connection.del((job.data as SttJob).stream).catch(() => undefined);
      void this.#reportDropped(stage, job.data as SttJob | TranslateJob | TtsJob, err);
    });
    this.#workers.push(worker);
  }

  /**
   * A recognition session (see recognize.ts). Consecutive: the final caption and the translate jobs carry
   * the marks of the end entry. Simultaneous: segments are committed, translated and spoken while the
   * speaker talks (simultaneousSession.ts), the last one at the end entry. A stalled stream still yields
   * what was heard (ERR_STREAM_STALLED is logged). The stream is deleted when the session is done; a
   * failed attempt leaves it for the retry.
   */
  async #stt(job: Job<SttJob>): Promise<Outcome> {
    const data = job.data;
    const sttStart = Date.now();
    if (sttStart > data.deadline) throw unrecoverable(createError(Errors.UTTERANCE_DROPPED, 'recognition session went stale before a worker took it'));
    const engine = this.#lookup(() => this.#engines.stt(data.language));
    const targets = [...new Set(data.targets)].filter((to) => to !== data.language);
    const opening = engine.open(data.language);
    const session = await this.#call(engine.id, () => opening).catch((err: unknown) => {
      void opening.then((late) => late.close(), () => undefined); // a decoder still loading when we gave up goes back
      throw err;
    });
    const output = sessionOutput(data, targets, {
      publishCaption: (caption) => this.#publish(data, { kind: 'caption', ...caption }),
      translate: (to, text) => this.#translateText(data.language, to, text),
      addTranslations: (jobs) => this.#queues.addTranslations(jobs),
      addTts: (job) => this.#queues.addTts(job),
      maxAgeMs: this.#maxAgeMs,
      commit: this.#commit,
      onError: (err) => this.#log.debug({ err, utteranceId: data.utteranceId }, 'caption or segment not delivered'),
    });
    const outcome = await this.#recognize(data, engine.id, session, output.hypothesis);
    const sttDone = Date.now();
    void this.#connection.del(data.stream).catch(() => undefined);
    this.#log.debug({ utteranceId: data.utteranceId, audioMs: Math.round(outcome.audioMs), decodeMs: Math.round(outcome.decodeMs), maxLagMs: outcome.maxLagMs, finalMs: Math.round(outcome.finalMs) }, 'recognition session ended');
    this.observer.emit('session', { rtf: outcome.audioMs > 0 ? outcome.decodeMs / outcome.audioMs : 0, audioMs: outcome.audioMs, maxLagMs: outcome.maxLagMs, finalMs: outcome.finalMs, stalled: !outcome.end });
    const marks: TimingMarks = { ...(outcome.end?.marks ?? { speechEnd: outcome.lastEntryAt }), sttStart, sttDone };
    if (!outcome.end) {
      const reason = `no audio for ${this.#streamStallMs} ms; ended with what was heard`;
      this.#log.info({ stage: 'stt', utteranceId: data.utteranceId, roomId: data.roomId, code: Errors.STREAM_STALLED.code, reason }, 'speech stream stalled');
    }
    const transcript = await output.finish(outcome.text, outcome.audioMs, marks);
    return transcript ? { done: true } : { skipped: 'empty transcript' };
  }

  /** Runs one session on a reader connection of its own, each hypothesis going to `onHypothesis`. */
  async #recognize(data: SttJob, engineId: string, session: SttSession, onHypothesis: SessionOutput['hypothesis']): Promise<RecognizeOutcome> {
    const reader = this.#readers.pop() ?? this.#newReader();
    this.observer.emit('sessions', ++this.#activeSessions);
    try {
      return await recognize({ reader, key: data.stream, session, stallMs: this.#streamStallMs, call: (run) => this.#call(engineId, run), onHypothesis });
    } finally {
      session.close();
      this.#readers.push(reader);
      this.observer.emit('sessions', --this.#activeSessions);
    }
  }

  #newReader(): RedisClient {
    const reader = duplicateRedis(this.#connection, 'parley-ai-stream');
    reader.on('error', () => undefined); // reconnects by itself; a failed read fails the session
    this.#allReaders.add(reader);
    return reader;
  }

  /** Text in `to`, from the cache or the engine (and then cached); empty when the engine gave nothing. */
  async #translateText(from: string, to: string, text: string): Promise<string> {
    const engine = this.#lookup(() => this.#engines.translate(from, to));
    const cached = await this.#cache?.getTranslation(engine.id, from, to, text);
    if (cached != null) return cached;
    const translated = (await this.#call(engine.id, () => engine.translate(text, from, to))).text.trim();
    if (translated) await this.#cache?.putTranslation(engine.id, from, to, text, translated);
    return translated;
  }

  async #translate(job: Job<TranslateJob>): Promise<Outcome> {
    const data = job.data;
    const marks = { ...data.marks, translateStart: Date.now() };
    this.#checkAge(data, marks.speechEnd);
    const text = await this.#translateText(data.from, data.to, data.text);
    marks.translateDone = Date.now();
    if (!text) return { skipped: 'empty translation' };
    await Promise.all([
      this.#queues.addTts({ ...refOf(data), language: data.to, text, marks }),
      this.#publish(data, { language: data.to, kind: 'caption', text, original: false, final: true, marks }),
    ]);
    return { done: true };
  }

  /**
   * Speaks the translation sentence by sentence (see AudioResult): part i is published as soon as it is
   * synthesized and part i-1 is published, while part i+1 is synthesized. An engine failure or the deadline
   * drops that part only (a DroppedResult with its `part`) and the next sentence goes on; an unrecoverable
   * engine error fails the job, which drops the parts not yet published.
   */
  async #tts(job: Job<TtsJob>): Promise<Outcome> {
    const data = job.data;
    const marks: TimingMarks = { ...data.marks, ttsStart: Date.now() };
    this.#checkAge(data, marks.speechEnd);
    const engine = this.#lookup(() => this.#engines.tts(data.language));
    const sentences = splitSentences(data.text, data.language);
    if (sentences.length === 0 && !data.segment) return { skipped: 'nothing to say' };
    // A segment must say something (its voice plays segments in order and waits for each): an empty one is dropped.
    if (sentences.length === 0) throw unrecoverable(createError(Errors.ENGINE_FAILED, 'nothing to say in this segment'));
    const parts = sentences.length;
    const cacheWrites: Array<Promise<void> | undefined> = [];
    let published: Promise<void> = Promise.resolve();
    try {
      for (const [part, text] of sentences.entries()) {
        const [spoken] = await Promise.all([this.#speak(engine, data, text, cacheWrites), published]);
        if (!(spoken instanceof ParleyError)) marks.ttsFirstAudio ??= Date.now();
        published = this.#publishPart(data, { text, part, parts, marks }, spoken);
      }
      await Promise.all([published, ...cacheWrites]);
    } catch (err) {
      await published.catch(() => undefined); // the job's drop must not overtake the part being published
      throw err;
    }
    return { done: true };
  }

  /** One sentence's audio, from the cache or the engine; an engine failure or a passed deadline is returned, not thrown. */
  async #speak(engine: TtsEngine, data: TtsJob, text: string, cacheWrites: Array<Promise<void> | undefined>): Promise<PcmAudio | ParleyError> {
    const expired = this.#expired(data, data.marks.speechEnd);
    if (expired) return expired;
    const cached = await this.#cache?.getAudio(engine.id, data.language, text);
    if (cached) return cached;
    try {
      const audio = await this.#call(engine.id, () => engine.synthesize(text, data.language));
      cacheWrites.push(this.#cache?.putAudio(engine.id, data.language, text, audio));
      return audio;
    } catch (err) {
      if (err instanceof ParleyError && err.code === Errors.ENGINE_FAILED.code) return err;
      throw err;
    }
  }

  /** Publishes one sentence of a tts job: its audio, or its drop (logged and reported to the observer). */
  #publishPart(data: TtsJob, part: { text: string; part: number; parts: number; marks: TimingMarks }, spoken: PcmAudio | ParleyError): Promise<void> {
    const language = data.language;
    if (!(spoken instanceof ParleyError)) {
      const audio = encodePcm(spoken.samples);
      return this.#publish(data, { kind: 'audio', language, text: part.text, audio, sampleRate: spoken.sampleRate, part: part.part, parts: part.parts, marks: part.marks, ...segmentOf(data) });
    }
    const { code, message: reason } = spoken;
    this.#log.info({ stage: 'tts', utteranceId: data.utteranceId, roomId: data.roomId, language, part: part.part, parts: part.parts, code, reason }, 'sentence dropped');
    this.observer.emit('dropped', { stage: 'tts', code, reason });
    return this.#publish(data, { kind: 'dropped', language, stage: 'tts', code, reason, part: part.part, parts: part.parts, ...segmentOf(data) });
  }

  /** Too late to be useful: fail without retry (reported as dropped). */
  #checkAge(ref: UtteranceRef, speechEnd: number): void {
    const expired = this.#expired(ref, speechEnd);
    if (expired) throw unrecoverable(expired);
  }

  /** ERR_UTTERANCE_DROPPED when the utterance is past its deadline, else null. */
  #expired(ref: UtteranceRef, speechEnd: number): ParleyError | null {
    const now = Date.now();
    const deadline = Math.min(ref.deadline, speechEnd + this.#maxAgeMs);
    return now > deadline ? createError(Errors.UTTERANCE_DROPPED, `${now - speechEnd} ms after speech end, past its deadline`) : null;
  }

  /** The engine for a language; an unsupported language or missing model fails without retry. */
  #lookup<E>(get: () => E): E {
    try {
      return get();
    } catch (err) {
      if (err instanceof ParleyError && UNRECOVERABLE_CODES.has(err.code)) throw unrecoverable(err);
      throw createError(Errors.ENGINE_FAILED, (err as Error).message);
    }
  }

  /** An engine call bounded by engineTimeoutMs. The call itself cannot be cancelled and may finish later, unused. */
  async #call<T>(engineId: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(createError(Errors.ENGINE_FAILED, `${engineId} did not answer within ${this.#engineTimeoutMs} ms`)), this.#engineTimeoutMs);
    });
    try {
      return await Promise.race([run(), timeout]);
    } catch (err) {
      if (err instanceof ParleyError && UNRECOVERABLE_CODES.has(err.code)) throw unrecoverable(err);
      if (err instanceof ParleyError && err.code === Errors.ENGINE_FAILED.code) throw err;
      throw createError(Errors.ENGINE_FAILED, `${engineId}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async #publish(ref: UtteranceRef, result: DistributiveOmit<ResultJob, 'utteranceId' | 'roomId' | 'speakerPeerId'>): Promise<void> {
    const { utteranceId, roomId, speakerPeerId } = ref;
    const full = { ...result, utteranceId, roomId, speakerPeerId } as ResultJob;
    // A Redis error here says nothing about the replica: publish (the add reports the error if it persists).
    if (this.#replicaAlive && !(await this.#replicaAlive(ref.replicaId).catch(() => true))) {
      this.#log.debug({ utteranceId, replicaId: ref.replicaId }, 'result for a replica that is gone: not published');
      return;
    }
    if (full.kind !== 'caption' && full.part !== undefined) return this.#publishSentence(ref.replicaId, full);
    return this.#queues.publishResult(ref.replicaId, full);
  }

  /**
   * A result for one sentence, under a job id that carries its index (`res-<utterance>-audio-p<part>-<language>`):
   * with publishResult's id (one per utterance, kind and language) every part after the first would be a
   * no-op. As there, re-adding a kept id is a no-op, so a retried tts job does not deliver a part twice.
   * Belongs in PipelineQueues.publishResult / JobIds.result; kept here until those take a part.
   */
  async #publishSentence(replicaId: string, result: AudioResult | DroppedResult): Promise<void> {
    const kind = result.kind === 'dropped' ? `dropped-${result.stage}` : result.kind;
    const segment = result.segment ? `s${result.segment.index}` : '';
    const jobId = JobIds.result(result.utteranceId, `${kind}-${segment}p${result.part}`, result.language);
    await this.#queues.results(replicaId).add(result.kind, result, { ...RESULT_JOB_OPTIONS, jobId });
  }

  async #reportDropped(stage: PipelineStage, data: SttJob | TranslateJob | TtsJob, err: Error): Promise<void> {
    const code = (err as { code?: string }).code ?? Errors.UTTERANCE_DROPPED.code;
    const language = 'to' in data ? data.to : data.language;
    this.#log.info({ stage, utteranceId: data.utteranceId, roomId: data.roomId, language, code, reason: err.message }, 'utterance dropped');
    this.observer.emit('dropped', { stage, code, reason: err.message });
    try {
      await this.#publish(data, { kind: 'dropped', language, stage, code, reason: err.message, ...segmentOf(data) });
    } catch (publishErr) {
      this.#log.warn({ err: publishErr, utteranceId: data.utteranceId }, 'could not deliver a dropped result');
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The segment of a tts job of simultaneous translation, to spread into its results (nothing otherwise). */
function segmentOf(data: SttJob | TranslateJob | TtsJob): { segment?: TtsJob['segment'] } {
  return 'segment' in data && data.segment ? { segment: data.segment } : {};
}

/** BullMQ fails an UnrecoverableError at once, whatever attempts remain; the code rides along. */
function unrecoverable(err: ParleyError): UnrecoverableError & { code: string } {
  return Object.assign(new UnrecoverableError(err.message), { code: err.code });
}
