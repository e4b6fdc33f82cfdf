/**
 * The gateway's half of streaming recognition: when the VAD hears a speaker start, a recognition session
 * (an stt job) is opened and the speech flows to Redis in chunks as it is spoken (audioStream.ts); at the
 * endpoint an end entry with the timing marks closes it. Admission: a session no AI worker has taken
 * within `admitMs` is withdrawn and refused with ERR_AI_SATURATED (every worker is full), so audio is
 * never queued for minutes only to be dropped for age.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RedisClient } from '../../state/redisConnection.js';
import type { Logger } from '../../logger.js';
import { appendChunk, appendEnd, type AudioStreamEnd, type AudioStreamLimits } from '../pipeline/audioStream.js';
import type { DroppedResult, SttJob, TranslationMode } from '../pipeline/jobs.js';
import { Keys } from '../pipeline/names.js';
import type { PipelineQueues } from '../pipeline/PipelineQueues.js';

export type SpeechStreamsOptions = {
  queues: PipelineQueues;
  /** Connection the chunks are written on (commands on one connection stay in order). */
  redis: RedisClient;
  replicaId: string;
  /** Key prefix of the audio streams (the pipeline's BullMQ prefix). */
  prefix: string;
  /** Longest utterance (the VAD cuts there), ms: sizes the stream and the session's deadline. */
  maxUtteranceMs: number;
  /** Smallest chunk the VAD sends, ms. */
  chunkMs: number;
  maxAgeMs: number;
  /** A session no worker took within this long is refused (ms). */
  admitMs: number;
  /** How the sessions' speech is translated (carried by each stt job). */
  translation?: TranslationMode;
  log: Logger;
};

export type SpeechStreamsEvents = {
  /** A session was refused (and why); its stream is already gone. */
  refused: [DroppedResult];
};

/** Who speaks, in which language, for whom. */
export type Speaker = { roomId: string; speakerPeerId: string; language: string; targets: string[] };

/** One utterance being streamed. */
export class SpeechStream {
  refused = false;
  ended = false;
  admission: NodeJS.Timeout | null = null;

  constructor(readonly job: SttJob) {}

  get utteranceId(): string {
    return this.job.utteranceId;
  }
}

export class SpeechStreams extends EventEmitter<SpeechStreamsEvents> {
  readonly #o: SpeechStreamsOptions;
  readonly #limits: AudioStreamLimits;
  readonly #open = new Set<SpeechStream>();
  #closed = false;

  constructor(options: SpeechStreamsOptions) {
    super();
    this.#o = options;
    // Every chunk of the longest utterance stays replayable; the TTL outlives any session that still runs.
    this.#limits = { maxLen: Math.ceil(options.maxUtteranceMs / options.chunkMs) + 16, ttlMs: options.maxUtteranceMs + options.maxAgeMs + 30_000 };
  }

  /** Sessions streaming now. */
  get size(): number {
    return this.#open.size;
  }

  /** Opens the session of an utterance whose speech started at `startedAt`. */
  open(speaker: Speaker, startedAt: number): SpeechStream {
    const utteranceId = randomUUID();
    const job: SttJob = {
      utteranceId,
      roomId: speaker.roomId,
      speakerPeerId: speaker.speakerPeerId,
      replicaId: this.#o.replicaId,
      language: speaker.language,
      targets: speaker.targets,
      stream: Keys.audioStream(this.#o.prefix, utteranceId),
      sampleRate: 16000,
      startedAt,
      translation: this.#o.translation ?? 'consecutive',
      deadline: startedAt + this.#o.maxUtteranceMs + this.#o.maxAgeMs,
    };
    const stream = new SpeechStream(job);
    this.#open.add(stream);
    this.#o.queues.openSession(job).then(
      (outcome) => {
        if (!outcome.accepted) this.#refuse(stream, outcome.dropped);
        else if (!stream.refused) stream.admission = setTimeout(() => void this.#admit(stream), this.#o.admitMs);
      },
      (err: unknown) => {
        this.#o.log.warn({ err, utteranceId }, 'could not open a recognition session');
        this.#forget(stream);
      },
    );
    return stream;
  }

  /** The next chunk of the utterance, with the wall clock of its last sample. */
  push(stream: SpeechStream, samples: Int16Array, at: number): void {
    if (stream.refused || stream.ended || this.#closed) return;
    appendChunk(this.#o.redis, stream.job.stream, samples, at, this.#limits).catch((err: unknown) => this.#o.log.debug({ err, utteranceId: stream.utteranceId }, 'audio chunk not written'));
  }

  /** The endpoint: the worker issues the final as soon as it reads this. */
  end(stream: SpeechStream, end: AudioStreamEnd): void {
    if (stream.refused || stream.ended) return;
    stream.ended = true;
    appendEnd(this.#o.redis, stream.job.stream, end, this.#limits).catch((err: unknown) => this.#o.log.debug({ err, utteranceId: stream.utteranceId }, 'end of speech not written'));
    if (!stream.admission) this.#open.delete(stream);
  }

  /** Stops admission timers; streams still open are left to their TTL and the workers' stall rule. */
  close(): void {
    this.#closed = true;
    for (const stream of this.#open) if (stream.admission) clearTimeout(stream.admission);
    this.#open.clear();
  }

  async #admit(stream: SpeechStream): Promise<void> {
    stream.admission = null;
    if (this.#closed) return;
    const reason = `no AI worker took the recognition session within ${this.#o.admitMs} ms (every worker runs its ai.maxSessions)`;
    const dropped = await this.#o.queues.withdrawIfWaiting(stream.job, reason).catch(() => null);
    if (dropped) this.#refuse(stream, dropped);
    else if (stream.ended) this.#open.delete(stream);
  }

  #refuse(stream: SpeechStream, dropped: DroppedResult): void {
    stream.refused = true;
    this.#forget(stream);
    this.#o.redis.del(stream.job.stream).catch(() => undefined);
    this.emit('refused', dropped);
  }

  #forget(stream: SpeechStream): void {
    if (stream.admission) clearTimeout(stream.admission);
    stream.admission = null;
    this.#open.delete(stream);
  }
}
