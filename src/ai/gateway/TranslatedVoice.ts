import type { PlainInject } from '../audio/plainInject.js';
import { concatPcm, Resampler } from '../audio/resample.js';
import { TimeStretcher } from '../audio/timeStretch.js';
import { trimTrailingSilence } from '../audio/trim.js';
import type { SegmentRef } from '../pipeline/jobs.js';
import { paceRate, planPlayout, UNPACED, type PaceOptions } from '../simultaneous/pacer.js';
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
  /** Rate its first chunk is spoken at (1 = as synthesized; the rate follows the backlog chunk by chunk). */
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
  /** A part's last frame left (wall-clock ms): with the last part, the listener has heard the utterance. */
  onPlayed?: (played: { utteranceId: string; segment: SegmentRef | undefined; part: number; endedAt: number }) => void;
  /** A waiting part dropped by the pacer (past pace.dropBacklogMs). */
  onBehind: (dropped: { utteranceId: string; segment: SegmentRef | undefined; part: number; backlogMs: number }) => void;
};

/**
 * One translated voice: a (speaker, language) producer in the room, and the playout scheduler behind it.
 * Parts arrive out of order; UtteranceParts releases each utterance's parts in (segment, part) order,
 * utterances in the order their first part became ready. The scheduler keeps the parts not yet played
 * (the backlog) and hands the inject one 200 ms chunk ahead of what it sends, so the backlog stays here,
 * where the pacer (src/ai/simultaneous/pacer.ts) can act on it: each 200 ms is spoken at the rate the
 * backlog asks for (time-stretched, pitch kept), and past the hard bound the oldest waiting parts are dropped.
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
  /** The part playing now, as far as it is not yet handed to the inject. */
  #current: TimeStretcher | null = null;

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
    return this.inject.queued * 20 + (this.#current?.remainingMs ?? 0) + this.#waiting.reduce((sum, p) => sum + p.durationMs, 0);
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
  #enqueue(released: ReadyPart[]): void {
    if (released.length === 0) return;
    const ready = released.map(withoutSynthesisPause);
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
        await this.#play(next, this.#aheadOnArrival.get(next) ?? 0);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Sends one part in 200 ms chunks, keeping one chunk queued ahead in the inject. Each chunk is spoken at
   * the rate the backlog asks for now, so a part already playing speeds up when more arrive behind it.
   * `backlogMs`: what was ahead of it on arrival (reported).
   */
  async #play(p: ReadyPart, backlogMs: number): Promise<void> {
    const stretcher = new TimeStretcher(p.audio.sampleRate);
    stretcher.push(p.audio.samples);
    stretcher.end();
    this.#current = stretcher;
    const resampler = new Resampler({ fromRate: p.audio.sampleRate, toRate: 48000 });
    const inChunk = Math.max(1, Math.round((CHUNK_48K * p.audio.sampleRate) / 48000));
    const firstOfUtterance = !this.#startedUtterances.has(p.utteranceId);
    this.#startedUtterances.add(p.utteranceId);
    if (this.#startedUtterances.size > 500) this.#startedUtterances.delete(this.#startedUtterances.values().next().value!);
    let previous: Promise<void> = Promise.resolve();
    let first = true;
    try {
      while (!stretcher.done && !this.inject.closed) {
        const rate = paceRate(this.backlogMs, this.#pace);
        const piece = stretcher.pull(rate, inChunk);
        const out = stretcher.done ? concatPcm([resampler.process(piece), resampler.flush()]) : resampler.process(piece);
        if (out.length === 0) break;
        const onFirst = first ? (sentAt: number) => this.#o.onStarted({ utteranceId: p.utteranceId, segment: p.segment, part: p.part, firstOfUtterance, text: p.text, marks: p.marks, rate, backlogMs, sentAt }) : undefined;
        first = false;
        const sent = this.inject.send(out, onFirst).catch(() => undefined);
        await previous; // the chunk before this one has left: this one is next in line
        previous = sent;
      }
    } finally {
      this.#current = null;
    }
    const played = { utteranceId: p.utteranceId, segment: p.segment, part: p.part };
    void previous.then(() => this.#o.onPlayed?.({ ...played, endedAt: Date.now() }));
  }
}

/**
 * A segment that does not end its utterance is followed by more of the same speech: the silence the
 * synthesizer put after it is a pause the speaker never made, and time the voice falls behind. Cut it.
 */
function withoutSynthesisPause(p: ReadyPart): ReadyPart {
  if (!p.segment || p.segment.last) return p;
  const samples = trimTrailingSilence(p.audio.samples, p.audio.sampleRate);
  return { ...p, audio: { ...p.audio, samples }, durationMs: (samples.length / p.audio.sampleRate) * 1000 };
}
