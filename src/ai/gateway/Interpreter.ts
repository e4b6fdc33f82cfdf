import { own, peerPermissions, type RoomContext } from '../../actors/room/machine.js';
import type { RoomStore } from '../../actors/room/RoomStore.js';
import type { Logger } from '../../logger.js';
import type { RoomProducers } from '../../session/RoomProducers.js';
import { publishTranslation } from '../../session/RoomRelay.js';
import type { SessionManager } from '../../session/SessionManager.js';
import type { Store } from '../../state/Store.js';
import { PlainInject } from '../audio/plainInject.js';
import { PlainTap } from '../audio/plainTap.js';
import type { AudioTap, VadThread } from '../audio/vadThread.js';
import { audioOf, type DroppedResult, type ResultJob } from '../pipeline/jobs.js';
import type { SpeechStream, SpeechStreams } from './SpeechStreams.js';
import { CaptionOrder } from './captionOrder.js';
import { LastWords } from './lastWords.js';
import { TranslatedVoice, type PartStarted } from './TranslatedVoice.js';
import type { PaceOptions } from '../simultaneous/pacer.js';
import { Errors } from '../../errors.js';
import type { UtteranceTimings } from './UtteranceTimings.js';

type Listening = {
  tap: PlainTap;
  audio: AudioTap;
  roomId: string;
  speakerPeerId: string;
  producerId: string;
  paused: boolean;
  /** The utterance being streamed to recognition now (from the VAD's speech start to its endpoint). */
  stream: SpeechStream | null;
};

export type InterpreterOptions = {
  replicaId: string;
  store: Store;
  rooms: RoomStore;
  /** Publishes the translated voices into their rooms. */
  producers: RoomProducers;
  sessions: SessionManager;
  /** Recognition sessions: the speech of each utterance streamed to an AI worker while it is spoken. */
  streams: SpeechStreams;
  /** The VAD thread in use (replaced if it dies). */
  vad: () => VadThread;
  timings: UtteranceTimings;
  /** Utterance segmentation (VAD) and the chunks speech is streamed in. */
  segmentation: { maxUtteranceMs: number; minSilenceMs: number; quietEndRatio: number; chunkMs: number };
  /** Results older than this past the end of speech are not played. */
  maxAgeMs: number;
  /** Pacing of the translated voices (UNPACED: consecutive playout). */
  pace: PaceOptions;
  log: Logger;
};

/** Languages the room's listeners (those with the `translation` permission) want that `speaker` does not speak. */
export function targetsFor(room: RoomContext, speakerPeerId: string): string[] {
  const speaker = own(room.peers, speakerPeerId);
  if (!speaker) return [];
  const listeners = Object.values(room.peers).filter((p) => p.peerId !== speakerPeerId && peerPermissions(p).translation);
  const wanted = new Set(listeners.map((p) => p.listeningLanguage));
  wanted.delete(speaker.spokenLanguage);
  return [...wanted].sort();
}

/**
 * The gateway's side of translation, for the speakers this replica hosts:
 * taps the microphone of every speaker some listener needs translated
 * (PlainTransport -> Opus decode + VAD in a worker thread), streams each
 * utterance to recognition while it is spoken (SpeechStreams), and turns
 * results into captions (to every replica's peers) and
 * into one translated voice per (speaker, language), a producer of the speaker
 * that peers on any replica consume like any producer.
 */
export class Interpreter {
  readonly #o: InterpreterOptions;
  readonly #log: Logger;
  readonly #taps = new Map<string, Listening>();
  readonly #voices = new Map<string, Promise<TranslatedVoice>>();
  readonly #rooms = new Map<string, RoomContext>();
  readonly #captions = new CaptionOrder();
  readonly #lastWords = new LastWords((utteranceId, language, marks) => this.#o.timings.delivered(utteranceId, language, marks));
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
    let room: RoomContext | null;
    try {
      room = await this.#o.rooms.get(roomId);
    } catch (err) {
      // A Redis blip says nothing about the room: change nothing until it answers again.
      this.#log.debug({ err, roomId }, 'room unreadable; translation state kept');
      return;
    }
    const local = this.#o.sessions.inRoom(roomId);
    if (room && local.length > 0) this.#rooms.set(roomId, room);
    else this.#rooms.delete(roomId);
    for (const session of local) {
      try {
        await this.#refreshSpeaker(roomId, room, session.peerId);
      } catch (err) {
        this.#log.warn({ err, roomId, speakerPeerId: session.peerId }, 'could not set up translation for a speaker');
      }
    }
    for (const [key, t] of this.#taps) if (t.roomId === roomId && !this.#o.sessions.get(roomId, t.speakerPeerId)) this.#closeTap(key, true);
    await this.#dropUnwantedVoices(roomId, room);
  }

  /** One result of the pipeline for this replica. */
  readonly onResult = async (result: ResultJob): Promise<void> => {
    if (this.#closed) return;
    if (result.kind === 'dropped') {
      this.#o.timings.dropped(result.stage, result.code, result.reason, result.utteranceId);
      const voice = await this.#voices.get(voiceKey(result.roomId, result.speakerPeerId, result.language))?.catch(() => null);
      const { part, parts = 1, segment } = result;
      voice?.offer(result.utteranceId, { part, parts, ...(segment ? { segment } : {}), audio: null, marks: { speechEnd: 0 } }, this.#o.maxAgeMs);
      return;
    }
    if (result.kind === 'caption') {
      if (result.final && result.segments !== undefined) {
        this.#lastWords.ended(result.utteranceId, result.language, result.segments, result.marks);
        const voice = await this.#voices.get(voiceKey(result.roomId, result.speakerPeerId, result.language))?.catch(() => null);
        voice?.ended(result.utteranceId, result.segments);
      }
      if (!result.text || !this.#captions.admit(result)) return;
      const caption = {
        utteranceId: result.utteranceId,
        speakerPeerId: result.speakerPeerId,
        language: result.language,
        text: result.text,
        original: result.original,
        final: result.final,
        ...(result.committed !== undefined ? { committed: result.committed } : {}),
      };
      await publishTranslation(this.#o.store, result.roomId, { kind: 'caption', caption });
      return;
    }
    // Nobody listens in this language any more (or the speaker left): do not create a voice for a late result.
    const room = this.#rooms.get(result.roomId);
    if (!room || !targetsFor(room, result.speakerPeerId).includes(result.language)) return;
    const voice = await this.#voice(result.roomId, result.speakerPeerId, result.language).catch((err: unknown) => {
      this.#log.warn({ err, roomId: result.roomId }, 'no voice for the translation');
      return null;
    });
    const { part, parts, segment, text, marks } = result;
    voice?.offer(result.utteranceId, { part, parts, ...(segment ? { segment } : {}), text, audio: audioOf(result), marks }, this.#o.maxAgeMs);
  };

  /** A recognition session the AI workers could not take: counted, and the room's pages are told. */
  readonly onRefused = (dropped: DroppedResult): void => {
    this.#o.timings.dropped(dropped.stage, dropped.code, dropped.reason, dropped.utteranceId);
    const notice = { utteranceId: dropped.utteranceId, speakerPeerId: dropped.speakerPeerId, code: dropped.code, message: dropped.reason };
    publishTranslation(this.#o.store, dropped.roomId, { kind: 'translationDropped', notice }).catch((err: unknown) => this.#log.debug({ err }, 'translation notice not published'));
  };

  async close(): Promise<void> {
    this.#closed = true;
    for (const key of [...this.#taps.keys()]) this.#closeTap(key, false);
    await Promise.all([...this.#voices.values()].map((v) => v.then((voice) => voice.close(), () => undefined)));
    this.#voices.clear();
  }

  async #refreshSpeaker(roomId: string, room: RoomContext | null, speakerPeerId: string): Promise<void> {
    const session = this.#o.sessions.get(roomId, speakerPeerId);
    const mic = Object.entries(session?.context.producers ?? {}).find(([, p]) => p.kind === 'audio' && p.source === 'mic');
    const want = room && mic && targetsFor(room, speakerPeerId).length > 0 ? mic[0] : null;
    const key = `${roomId}|${speakerPeerId}`;
    const current = this.#taps.get(key);
    if (current && current.producerId !== want) this.#closeTap(key, true);
    if (want && !this.#taps.has(key)) await this.#openTap(key, roomId, speakerPeerId, want);
    // A muted speaker sends no packets, so the VAD never hears the closing silence: end the utterance now.
    const tap = this.#taps.get(key);
    const paused = mic?.[1].paused ?? false;
    // So does a language change: the utterance under way was opened for the old language.
    const language = room ? own(room.peers, speakerPeerId)?.spokenLanguage : undefined;
    if (tap && ((paused && !tap.paused) || (tap.stream && tap.stream.job.language !== language))) tap.audio.flush();
    if (tap) tap.paused = paused;
  }

  async #openTap(key: string, roomId: string, speakerPeerId: string, producerId: string): Promise<void> {
    const router = this.#o.sessions.get(roomId, speakerPeerId)?.media?.room.router;
    if (!router || this.#closed) return;
    const audio = await this.#o.vad().openTap(this.#o.segmentation);
    let tap: PlainTap;
    try {
      tap = await PlainTap.create({ router, producerId, onPayload: (payload, _packet, arrivalMs) => audio.push(payload, arrivalMs) });
    } catch (err) {
      void audio.close();
      throw err;
    }
    if (this.#closed || this.#taps.has(key)) {
      tap.close();
      void audio.close();
      return;
    }
    const listening: Listening = { tap, audio, roomId, speakerPeerId, producerId, paused: false, stream: null };
    this.#taps.set(key, listening);
    const streams = this.#o.streams;
    audio.on('speechstart', (s) => {
      const who = this.#speaking(listening);
      listening.stream = who ? streams.open({ roomId, speakerPeerId, ...who }, s.at) : null;
    });
    audio.on('chunk', (c) => listening.stream && streams.push(listening.stream, c.samples, c.at));
    audio.on('speechend', (e) => {
      if (listening.stream) streams.end(listening.stream, { endedBy: e.endedBy, marks: { speechEnd: e.speechEndAt, lastVoiced: e.lastVoicedAt } });
      listening.stream = null;
    });
    audio.on('error', (err) => this.#log.warn({ err, roomId, speakerPeerId }, 'audio tap error'));
    // Either half gone (producer closed, VAD thread died): drop the tap so the next refresh opens a new one.
    const lost = () => {
      if (this.#taps.get(key) !== listening) return;
      this.#closeTap(key, false);
      void this.refresh(roomId);
    };
    tap.once('close', lost);
    audio.once('close', lost);
    this.#log.info({ roomId, speakerPeerId }, 'listening to speaker for translation');
  }

  /** `flush`: the speaker's last words still count (left, muted, changed language). */
  #closeTap(key: string, flush: boolean): void {
    const t = this.#taps.get(key);
    if (!t) return;
    this.#taps.delete(key);
    if (flush && !t.audio.closed) t.audio.flush();
    t.tap.close();
    void t.audio.close();
  }

  /** Who speaks, in which language, and for which languages; null when nobody needs them translated now. */
  #speaking(t: Listening): { language: string; targets: string[] } | null {
    const room = this.#rooms.get(t.roomId);
    const speaker = room ? own(room.peers, t.speakerPeerId) : undefined;
    const targets = room ? targetsFor(room, t.speakerPeerId) : [];
    return speaker && targets.length > 0 && !this.#closed ? { language: speaker.spokenLanguage, targets } : null;
  }

  /** The (speaker, language) voice, created in the speaker's router on first use. */
  #voice(roomId: string, speakerPeerId: string, language: string): Promise<TranslatedVoice> {
    const key = voiceKey(roomId, speakerPeerId, language);
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

  async #createVoice(roomId: string, speakerPeerId: string, language: string): Promise<TranslatedVoice> {
    const rr = this.#o.sessions.get(roomId, speakerPeerId)?.media?.room;
    if (!rr || this.#closed) throw new Error(`speaker ${speakerPeerId} has no media here`);
    const source = `translation:${language}`;
    const inject = await PlainInject.create({ router: rr.router, appData: { peerId: speakerPeerId, source } });
    try {
      await this.#o.producers.publish({ roomId, peerId: speakerPeerId, producer: inject.producer, origin: 'voice', source, rr });
    } catch (err) {
      inject.close();
      throw err;
    }
    return new TranslatedVoice({
      inject,
      roomId,
      speakerPeerId,
      language,
      pace: this.#o.pace,
      onStarted: (s) => this.#partStarted(roomId, speakerPeerId, language, s),
      onPlayed: (p) => this.#o.timings.played(p.utteranceId, language, p.endedAt),
      onBehind: (d) => {
        const reason = `segment ${d.segment?.index ?? 0} part ${d.part} dropped: ${Math.round(d.backlogMs)} ms of translated speech still to play`;
        this.#o.timings.dropped('playout', Errors.PLAYOUT_BEHIND.code, reason, d.utteranceId);
      },
    });
  }

  /**
   * A part of a translation started playing: the utterance's timing line when it is the first part played
   * (consecutive) or the first part of the last segment (simultaneous: the last words), and each segment's
   * lag; the pages are told what the voice is saying, so captions can mark it.
   */
  #partStarted(roomId: string, speakerPeerId: string, language: string, s: PartStarted): void {
    const marks = { ...s.marks, firstRtpOut: s.sentAt };
    if (!s.segment && s.firstOfUtterance) this.#o.timings.delivered(s.utteranceId, language, marks);
    if (s.segment && s.part === 0) this.#lastWords.started(s.utteranceId, language, s.segment.index, s.sentAt, s.segment.last ? { marks: s.marks } : null);
    if (s.segment && s.part === 0) this.#o.timings.segment(s.utteranceId, language, { index: s.segment.index, last: s.segment.last, marks, rate: s.rate, backlogMs: s.backlogMs });
    if (s.text) {
      const notice = { utteranceId: s.utteranceId, speakerPeerId, language, text: s.text };
      publishTranslation(this.#o.store, roomId, { kind: 'captionSpoken', spoken: notice }).catch((err: unknown) => this.#log.debug({ err }, 'spoken notice not published'));
    }
  }

  /**
   * Closes voices nobody listens to any more, those of speakers gone from this replica, and those the
   * room no longer lists (a reconnect or a Redis restart rewrote the speaker's producers): a new one
   * is announced with the next translation.
   */
  async #dropUnwantedVoices(roomId: string, room: RoomContext | null): Promise<void> {
    for (const [key, pending] of this.#voices) {
      if (!key.startsWith(`${roomId}|`)) continue;
      const voice = await pending.catch(() => null);
      if (!voice) continue;
      const speaker = room ? own(room.peers, voice.speakerPeerId) : undefined;
      // A voice just created may not be in the room we read yet: give its announcement time to land.
      const listed = speaker !== undefined && (Object.hasOwn(speaker.producers, voice.producerId) || Date.now() - voice.createdAt < 2000);
      const stillWanted = room && listed && this.#o.sessions.get(roomId, voice.speakerPeerId) && targetsFor(room, voice.speakerPeerId).includes(voice.language);
      if (!stillWanted) voice.close();
    }
  }
}

const voiceKey = (roomId: string, speakerPeerId: string, language: string) => `${roomId}|${speakerPeerId}|${language}`;
