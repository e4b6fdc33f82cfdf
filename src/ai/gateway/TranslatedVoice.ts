import type { PlainInject } from '../audio/plainInject.js';
import { concatPcm, Resampler } from '../audio/resample.js';
import { timeStretch } from '../audio/timeStretch.js';
import type { SegmentRef } from '../pipeline/jobs.js';
import { planPlayout, UNPACED, type PaceOptions } from '../simultaneous/pacer.js';
import type { PcmAudio, TimingMarks } from '../types.js';
import { UtteranceParts, type ReadyPart } from './utteranceParts.js';

/** 200 ms at 48 kHz: a multiple of the 20 ms Opus frame, so only a part's last chunk is padded. */
const CHUNK_48K = 9600;

/** A part whose first frame just left. */
export type PartStarted = {
  utteranceId: string;
  segment: SegmentRef | undefined;
  part: number;
  /** True for the first part of the utterance that is played. */
  firstOfUtterance: boolean;
  text: string;
  marks: TimingMarks;
  /** Rate it is spoken at (1 = as synthesized). */
  rate: number;
  /** Translated audio that was still to play ahead of it when it arrived (ms at normal speed): how far behind the voice was. */
  backlogMs: number;
  sentAt: number;
};

export type TranslatedVoiceOptions = {
  inject: PlainInject;
  roomId: string;
  speakerPeerId: string;
  language: string;
  /** Pacing (simultaneous translation); UNPACED by default: every part in full, at its own speed, in turn. */
  pace?: PaceOptions;
  onStarted: (started: PartStarted) => void;
  /** A waiting part dropped by the pacer (past pace.dropBacklogMs). */
  onBehind: (dropped: { utteranceId: string; segment: SegmentRef | undefined; part: number; backlogMs: number }) => void;
};

/**
 * One translated voice: a (speaker, language) producer in the room, and the playout scheduler behind it.
 * Parts arrive out of order; UtteranceParts releases each utterance's parts in (segment, part) order,
 * utterances in the order their first part became ready. The scheduler keeps the parts not yet played
 * (the backlog) and hands the inject one 200 ms chunk ahead of what it sends, so the backlog stays here,
 * where the pacer (src/ai/simultaneous/pacer.ts) can act on it: each part starts at the rate the backlog
 * asks for (time-stretched, pitch kept), and past the hard bound the oldest waiting parts are dropped.
 */
export class TranslatedVoice {
  readonly inject: PlainInject;
  readonly producerId: string;
  readonly roomId: string;
  readonly speakerPeerId: string;
  readonly language: string;
  readonly createdAt = Date.now();
  readonly #o: TranslatedVoiceOptions;
  readonly #pace: PaceOptions;
  readonly #parts = new UtteranceParts();
  readonly #waiting: ReadyPart[] = [];
  readonly #startedUtterances = new Set<string>();
  readonly #aheadOnArrival = new WeakMap<ReadyPart, number>();
  #pumping = false;
  /** Unsent audio of the part playing now (ms at normal speed). */
  #playingMs = 0;

  constructor(o: TranslatedVoiceOptions) {
    this.#o = o;
    this.inject = o.inject;
    this.producerId = o.inject.producer.id;
    this.roomId = o.roomId;
    this.speakerPeerId = o.speakerPeerId;
    this.language = o.language;
    this.#pace = o.pace ?? UNPACED;
  }

  get closed(): boolean {
    return this.inject.closed;
  }

  /** Translated audio not yet played, ms at normal speed. */
  get backlogMs(): number {
    return this.inject.queued * 20 + this.#playingMs + this.#waiting.reduce((sum, p) => sum + p.durationMs, 0);
  }

  /**
   * Part `part` of `parts` of an utterance (of its segment `segment` in simultaneous translation); audio
   * null = that part was dropped; part undefined = everything of the utterance (or of the segment) still to
   * come was dropped.
   */
  offer(utteranceId: string, r: { part: number | undefined; parts: number; segment?: SegmentRef; text?: string; audio: PcmAudio | null; marks: TimingMarks }, maxAgeMs: number): void {
    this.#enqueue(this.#parts.offer(utteranceId, r, Date.now(), maxAgeMs));
  }

  /** Simultaneous translation: the utterance had `segments` segments in this language (its final caption). */
  ended(utteranceId: string, segments: number): void {
    this.#enqueue(this.#parts.ended(utteranceId, segments));
  }

  /** Parts ready to play join the queue, each noting the backlog ahead of it. */
  #enqueue(ready: ReadyPart[]): void {
    if (ready.length === 0) return;
    let ahead = this.backlogMs;
    for (const part of ready) {
      this.#aheadOnArrival.set(part, ahead);
      ahead += part.durationMs;
    }
    this.#waiting.push(...ready);
    if (!this.#pumping) void this.#pump();
  }

  close(): void {
    this.#waiting.length = 0;
    this.#parts.clear();
    this.inject.close();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0 && !this.inject.closed) {
        const plan = planPlayout(this.inject.queued * 20, this.#waiting.map((p) => p.durationMs), this.#pace);
        for (const dropped of this.#waiting.splice(0, plan.drop)) {
          this.#o.onBehind({ utteranceId: dropped.utteranceId, segment: dropped.segment, part: dropped.part, backlogMs: plan.backlogMs });
        }
        const next = this.#waiting.shift()!;
        await this.#play(next, plan.rate, this.#aheadOnArrival.get(next) ?? 0);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Sends one part in 200 ms chunks, keeping one chunk queued ahead in the inject. `backlogMs`: what was ahead of it on arrival. */
  async #play(p: ReadyPart, rate: number, backlogMs: number): Promise<void> {
    const samples = rate > 1 ? timeStretch(p.audio.samples, p.audio.sampleRate, rate) : p.audio.samples;
    const resampler = new Resampler({ fromRate: p.audio.sampleRate, toRate: 48000 });
    const inChunk = Math.max(1, Math.round((CHUNK_48K * p.audio.sampleRate) / 48000));
    const firstOfUtterance = !this.#startedUtterances.has(p.utteranceId);
    this.#startedUtterances.add(p.utteranceId);
    if (this.#startedUtterances.size > 500) this.#startedUtterances.delete(this.#startedUtterances.values().next().value!);
    const msPerSample = (1000 * rate) / p.audio.sampleRate;
    this.#playingMs = samples.length * msPerSample;
    let previous: Promise<void> = Promise.resolve();
    for (let at = 0; at < samples.length && !this.inject.closed; at += inChunk) {
      const last = at + inChunk >= samples.length;
      const piece = resampler.process(samples.subarray(at, at + inChunk));
      const out = last ? concatPcm([piece, resampler.flush()]) : piece;
      const onFirst =
        at === 0 ? (sentAt: number) => this.#o.onStarted({ utteranceId: p.utteranceId, segment: p.segment, part: p.part, firstOfUtterance, text: p.text, marks: p.marks, rate, backlogMs, sentAt }) : undefined;
      const sent = this.inject.send(out, onFirst).catch(() => undefined);
      this.#playingMs = Math.max(0, samples.length - at - inChunk) * msPerSample;
      await previous; // the chunk before this one has left: this one is next in line
      previous = sent;
    }
    this.#playingMs = 0;
  }
}
