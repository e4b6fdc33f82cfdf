import { randomUUID } from 'node:crypto';
import { own, type RoomContext } from '../../actors/room/machine.js';
import type { RoomStore } from '../../actors/room/RoomStore.js';
import type { Logger } from '../../logger.js';
import type { RoomRouters } from '../../media/RoomRouters.js';
import { publishCaption } from '../../session/RoomRelay.js';
import type { SessionManager } from '../../session/SessionManager.js';
import type { Store } from '../../state/Store.js';
import { PlainInject } from '../audio/plainInject.js';
import { PlainTap } from '../audio/plainTap.js';
import { resample } from '../audio/resample.js';
import type { AudioTap, AudioUtterance, VadThread } from '../audio/vadThread.js';
import { audioOf, encodePcm, type ResultJob } from '../pipeline/jobs.js';
import type { PipelineQueues } from '../pipeline/PipelineQueues.js';
import type { UtteranceTimings } from './UtteranceTimings.js';

type Listening = { tap: PlainTap; audio: AudioTap; roomId: string; speakerPeerId: string; producerId: string };
type Voice = { inject: PlainInject; roomId: string; speakerPeerId: string; language: string };

/** 200 ms at 48 kHz: a multiple of the 20 ms Opus frame, so only an utterance's last chunk is padded. */
const PLAYOUT_CHUNK = 9600;

/** Audio parts of one utterance waiting for their turn (results may arrive out of order). */
type PartQueue = { next: number; waiting: Map<number, Int16Array>; parts: number; marks: AudioResultMarks };
type AudioResultMarks = Extract<ResultJob, { kind: 'audio' }>['marks'];

export type InterpreterOptions = {
  replicaId: string;
  store: Store;
  rooms: RoomStore;
  routers: RoomRouters;
  sessions: SessionManager;
  queues: PipelineQueues;
  vad: VadThread;
  timings: UtteranceTimings;
  /** Utterance segmentation (VAD). */
  segmentation: { maxUtteranceMs: number; minSilenceMs: number };
  log: Logger;
};

/** Languages the room's listeners want that `speaker` does not speak. */
export function targetsFor(room: RoomContext, speakerPeerId: string): string[] {
  const speaker = own(room.peers, speakerPeerId);
  if (!speaker) return [];
  const wanted = new Set(Object.values(room.peers).filter((p) => p.peerId !== speakerPeerId).map((p) => p.listeningLanguage));
  wanted.delete(speaker.spokenLanguage);
  return [...wanted].sort();
}

/**
 * The gateway's side of translation, for the speakers this replica hosts:
 * taps the microphone of every speaker some listener needs translated
 * (PlainTransport -> Opus decode + VAD in a worker thread), queues each
 * utterance, and turns results into captions (to every replica's peers) and
 * into one translated-voice producer per (speaker, language) in the room,
 * which peers on any replica consume like any producer.
 */
export class Interpreter {
  readonly #o: InterpreterOptions;
  readonly #log: Logger;
  readonly #taps = new Map<string, Listening>();
  readonly #voices = new Map<string, Promise<Voice>>();
  readonly #rooms = new Map<string, RoomContext>();
  readonly #parts = new Map<string, PartQueue>();
  #closed = false;

  constructor(options: InterpreterOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'interpreter' });
  }

  get taps(): number {
    return this.#taps.size;
  }

  /** Re-evaluates a room after any change in it (called for every room event this replica sees). */
  async refresh(roomId: string): Promise<void> {
    if (this.#closed) return;
    const room = await this.#o.rooms.get(roomId).catch(() => null);
    if (room) this.#rooms.set(roomId, room);
    else this.#rooms.delete(roomId);
    for (const session of this.#o.sessions.inRoom(roomId)) {
      const mic = Object.entries(session.context.producers).find(([, p]) => p.kind === 'audio' && p.source === 'mic')?.[0];
      const want = room && mic && targetsFor(room, session.peerId).length > 0 ? mic : null;
      const key = `${roomId}|${session.peerId}`;
      const current = this.#taps.get(key);
      if (current && current.producerId !== want) this.#closeTap(key);
      if (want && !this.#taps.has(key)) await this.#openTap(key, roomId, session.peerId, want);
    }
    for (const [key, t] of this.#taps) if (t.roomId === roomId && !this.#o.sessions.get(roomId, t.speakerPeerId)) this.#closeTap(key);
    await this.#dropUnwantedVoices(roomId, room);
  }

  /** One result of the pipeline for this replica. */
  readonly onResult = async (result: ResultJob): Promise<void> => {
    if (result.kind === 'dropped') {
      this.#o.timings.dropped(result.stage, result.code, result.reason, result.utteranceId);
      await this.#skipPart(result);
      return;
    }
    if (result.kind === 'caption') {
      await publishCaption(this.#o.store, result.roomId, {
        utteranceId: result.utteranceId,
        speakerPeerId: result.speakerPeerId,
        language: result.language,
        text: result.text,
        original: result.original,
        final: true,
      });
      return;
    }
    const voice = await this.#voice(result.roomId, result.speakerPeerId, result.language).catch((err: unknown) => {
      this.#log.warn({ err, roomId: result.roomId }, 'no voice for the translation (speaker gone?)');
      return null;
    });
    if (!voice) return;
    const pcm = audioOf(result);
    const part = (result as { part?: number }).part ?? 0;
    const parts = (result as { parts?: number }).parts ?? 1;
    const key = `${result.utteranceId}|${result.language}`;
    let queue = this.#parts.get(key);
    if (!queue) {
      queue = { next: 0, waiting: new Map(), parts, marks: { ...result.marks } };
      this.#parts.set(key, queue);
    }
    queue.parts = parts;
    if (queue.marks.speechEnd === 0) queue.marks = { ...result.marks };
    queue.waiting.set(part, resample(pcm.samples, pcm.sampleRate, 48000));
    await this.#playReady(key, queue, voice, result.utteranceId, result.language);
  };

  /** A dropped sentence leaves a hole its successors must not wait for; a drop without a part ends the utterance. */
  async #skipPart(result: Extract<ResultJob, { kind: 'dropped' }>): Promise<void> {
    const key = `${result.utteranceId}|${result.language}`;
    const queue = this.#parts.get(key);
    if (result.part === undefined) {
      this.#parts.delete(key);
      return;
    }
    if (!queue) {
      this.#parts.set(key, { next: 0, waiting: new Map([[result.part, new Int16Array(0)]]), parts: result.parts ?? 1, marks: { speechEnd: 0 } });
      return;
    }
    queue.waiting.set(result.part, new Int16Array(0));
    const voice = this.#voices.get(`${result.roomId}|${result.speakerPeerId}|${result.language}`);
    if (voice) await this.#playReady(key, queue, await voice, result.utteranceId, result.language);
  }

  /** Plays the parts that are next in line. */
  async #playReady(key: string, queue: PartQueue, voice: Voice, utteranceId: string, language: string): Promise<void> {
    // Parts play in order; a part that arrives early waits for the ones before it.
    while (queue.waiting.has(queue.next)) {
      const samples = queue.waiting.get(queue.next)!;
      queue.waiting.delete(queue.next);
      if (queue.next === 0 && samples.length > 0) {
        const marks = queue.marks;
        voice.inject.once('firstPacket', (at) => {
          marks.firstRtpOut = at;
          this.#o.timings.delivered(utteranceId, language, marks);
        });
      }
      queue.next += 1;
      if (samples.length > 0) await playout(voice.inject, samples);
    }
    if (queue.next >= queue.parts) this.#parts.delete(key);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#parts.clear();
    for (const key of [...this.#taps.keys()]) this.#closeTap(key);
    for (const v of this.#voices.values()) void v.then((voice) => voice.inject.close(), () => undefined);
    this.#voices.clear();
  }

  async #openTap(key: string, roomId: string, speakerPeerId: string, producerId: string): Promise<void> {
    const session = this.#o.sessions.get(roomId, speakerPeerId);
    const router = session?.media?.room.router;
    if (!router) return;
    const audio = await this.#o.vad.openTap(this.#o.segmentation);
    const tap = await PlainTap.create({ router, producerId, onPayload: (payload, _packet, arrivalMs) => audio.push(payload, arrivalMs) }).catch((err: unknown) => {
      void audio.close();
      throw err;
    });
    const listening: Listening = { tap, audio, roomId, speakerPeerId, producerId };
    this.#taps.set(key, listening);
    audio.on('utterance', (u) => void this.#onUtterance(listening, u));
    audio.on('error', (err) => this.#log.warn({ err, roomId, speakerPeerId }, 'audio tap error'));
    tap.once('close', () => this.#taps.get(key) === listening && this.#closeTap(key));
    this.#log.info({ roomId, speakerPeerId }, 'listening to speaker for translation');
  }

  #closeTap(key: string): void {
    const t = this.#taps.get(key);
    if (!t) return;
    this.#taps.delete(key);
    t.tap.close();
    void t.audio.close();
  }

  async #onUtterance(t: Listening, u: AudioUtterance): Promise<void> {
    const room = this.#rooms.get(t.roomId);
    const speaker = room ? own(room.peers, t.speakerPeerId) : undefined;
    const targets = room ? targetsFor(room, t.speakerPeerId) : [];
    if (!speaker || targets.length === 0) return;
    const outcome = await this.#o.queues
      .enqueueUtterance({
        utteranceId: randomUUID(),
        roomId: t.roomId,
        speakerPeerId: t.speakerPeerId,
        replicaId: this.#o.replicaId,
        language: speaker.spokenLanguage,
        targets,
        audio: encodePcm(u.samples),
        sampleRate: u.sampleRate,
        marks: { speechEnd: u.speechEndAt },
      })
      .catch((err: unknown) => {
        this.#log.warn({ err }, 'could not queue an utterance');
        return null;
      });
    if (outcome && !outcome.accepted) this.#o.timings.dropped('queue', outcome.dropped.code, outcome.dropped.reason, outcome.dropped.utteranceId);
  }

  /** The (speaker, language) voice producer, created in the speaker's router on first use. */
  #voice(roomId: string, speakerPeerId: string, language: string): Promise<Voice> {
    const key = `${roomId}|${speakerPeerId}|${language}`;
    let pending = this.#voices.get(key);
    if (!pending) {
      pending = this.#createVoice(roomId, speakerPeerId, language);
      this.#voices.set(key, pending);
      pending.then(
        (v) => v.inject.once('close', () => this.#voices.get(key) === pending && this.#voices.delete(key)),
        () => this.#voices.delete(key),
      );
    }
    return pending;
  }

  async #createVoice(roomId: string, speakerPeerId: string, language: string): Promise<Voice> {
    const rr = this.#o.sessions.get(roomId, speakerPeerId)?.media?.room;
    if (!rr) throw new Error(`speaker ${speakerPeerId} has no media here`);
    const source = `translation:${language}`;
    const inject = await PlainInject.create({ router: rr.router, appData: { peerId: speakerPeerId, source } });
    const producerId = inject.producer.id;
    this.#o.routers.markAvailable(roomId, producerId, rr);
    await this.#o.rooms.apply(roomId, {
      type: 'producer.add',
      peerId: speakerPeerId,
      producer: { producerId, kind: 'audio', source, paused: false, replicaId: this.#o.replicaId },
    });
    inject.once('close', () => {
      void this.#o.rooms.apply(roomId, { type: 'producer.close', peerId: speakerPeerId, producerId }).catch(() => undefined);
    });
    return { inject, roomId, speakerPeerId, language };
  }

  /** Closes voices nobody listens to any more (and those of speakers gone from this replica). */
  async #dropUnwantedVoices(roomId: string, room: RoomContext | null): Promise<void> {
    for (const [key, pending] of this.#voices) {
      if (!key.startsWith(`${roomId}|`)) continue;
      const voice = await pending.catch(() => null);
      if (!voice) continue;
      const stillWanted = room && this.#o.sessions.get(roomId, voice.speakerPeerId) && targetsFor(room, voice.speakerPeerId).includes(voice.language);
      if (!stillWanted) voice.inject.close();
    }
  }
}

/**
 * Queues speech for sending in 200 ms pieces, yielding between them: the first
 * packet leaves after one chunk's encode, and Opus encoding never holds the
 * event loop for a whole utterance.
 */
async function playout(inject: PlainInject, samples48k: Int16Array): Promise<void> {
  for (let at = 0; at < samples48k.length; at += PLAYOUT_CHUNK) {
    void inject.send(samples48k.subarray(at, at + PLAYOUT_CHUNK)).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
