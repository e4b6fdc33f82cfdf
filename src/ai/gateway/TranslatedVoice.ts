import type { PlainInject } from '../audio/plainInject.js';
import { concatPcm, Resampler } from '../audio/resample.js';
import type { PcmAudio, TimingMarks } from '../types.js';

/** 200 ms at 48 kHz: a multiple of the 20 ms Opus frame, so only a sentence's last chunk is padded. */
const CHUNK_48K = 9600;

type Pending = { audio: PcmAudio | null };
type Utterance = { next: number; parts: number; waiting: Map<number, Pending>; marks: TimingMarks; expiresAt: number; firstSent: boolean };

export type DeliveredHandler = (utteranceId: string, marks: TimingMarks) => void;

/**
 * One translated voice: a (speaker, language) producer in the room. Sentences
 * of an utterance play in order (a dropped one is skipped), utterances one
 * after another; each sentence is resampled and encoded in 200 ms pieces with
 * a yield between them, so the event loop never holds a whole sentence and the
 * first packet leaves after one piece. The first frame of each utterance
 * records its `firstRtpOut` mark.
 */
export class TranslatedVoice {
  readonly inject: PlainInject;
  readonly producerId: string;
  readonly roomId: string;
  readonly speakerPeerId: string;
  readonly language: string;
  readonly createdAt = Date.now();
  readonly #onDelivered: DeliveredHandler;
  readonly #utterances = new Map<string, Utterance>();
  #chain: Promise<void> = Promise.resolve();

  constructor(o: { inject: PlainInject; roomId: string; speakerPeerId: string; language: string; onDelivered: DeliveredHandler }) {
    this.inject = o.inject;
    this.producerId = o.inject.producer.id;
    this.roomId = o.roomId;
    this.speakerPeerId = o.speakerPeerId;
    this.language = o.language;
    this.#onDelivered = o.onDelivered;
  }

  get closed(): boolean {
    return this.inject.closed;
  }

  /** Queues part `part` of `parts` (audio null = that sentence was dropped; part undefined = the whole utterance was). */
  offer(utteranceId: string, part: number | undefined, parts: number, audio: PcmAudio | null, marks: TimingMarks, maxAgeMs: number): void {
    this.#expire();
    if (part === undefined) {
      this.#utterances.delete(utteranceId);
      return;
    }
    let u = this.#utterances.get(utteranceId);
    if (!u) {
      u = { next: 0, parts, waiting: new Map(), marks: { ...marks }, expiresAt: marks.speechEnd + maxAgeMs, firstSent: false };
      this.#utterances.set(utteranceId, u);
    }
    u.parts = parts;
    u.waiting.set(part, { audio });
    const ready: PcmAudio[] = [];
    while (u.waiting.has(u.next)) {
      const p = u.waiting.get(u.next)!;
      u.waiting.delete(u.next);
      u.next += 1;
      if (p.audio && p.audio.samples.length > 0) ready.push(p.audio);
    }
    if (u.next >= u.parts) this.#utterances.delete(utteranceId);
    const utterance = u;
    for (const audio of ready) this.#chain = this.#chain.then(() => this.#play(utteranceId, utterance, audio)).catch(() => undefined);
  }

  close(): void {
    this.#utterances.clear();
    this.inject.close();
  }

  async #play(utteranceId: string, u: Utterance, audio: PcmAudio): Promise<void> {
    const resampler = new Resampler({ fromRate: audio.sampleRate, toRate: 48000 });
    const inChunk = Math.max(1, Math.round((CHUNK_48K * audio.sampleRate) / 48000));
    for (let at = 0; at < audio.samples.length && !this.inject.closed; at += inChunk) {
      const last = at + inChunk >= audio.samples.length;
      const piece = resampler.process(audio.samples.subarray(at, at + inChunk));
      const out = last ? concatPcm([piece, resampler.flush()]) : piece;
      const first = !u.firstSent;
      u.firstSent = true;
      void this.inject
        .send(out, first ? (sentAt) => this.#onDelivered(utteranceId, { ...u.marks, firstRtpOut: sentAt }) : undefined)
        .catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Utterances whose missing parts will never come (past their age) are forgotten. */
  #expire(): void {
    const now = Date.now();
    for (const [id, u] of this.#utterances) if (now > u.expiresAt) this.#utterances.delete(id);
  }
}

