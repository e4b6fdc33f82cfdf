/**
 * Puts a translated voice's audio results back in order. Results reach the gateway concurrently, so the
 * parts (sentences) of a translation, and in simultaneous translation the segments of an utterance, can
 * arrive in any order; each utterance releases its parts in (segment, part) order, holding an early one
 * until those before it are there or dropped. Every part gets exactly one result (audio, or a drop); a
 * drop without a part ends what is left of its segment (simultaneous) or of the utterance. Utterances
 * whose missing parts never come are forgotten after their age.
 */
import type { SegmentRef } from '../pipeline/jobs.js';
import type { PcmAudio, TimingMarks } from '../types.js';

/** A part ready to be played. */
export type ReadyPart = {
  utteranceId: string;
  segment: SegmentRef | undefined;
  part: number;
  text: string;
  audio: PcmAudio;
  marks: TimingMarks;
  /** Its length at normal speed (ms). */
  durationMs: number;
};

export type PartResult = { part: number | undefined; parts: number; segment?: SegmentRef; text?: string; audio: PcmAudio | null; marks: TimingMarks };

type Held = { audio: PcmAudio | null; text: string; marks: TimingMarks; segment: SegmentRef | undefined };

type Utterance = {
  /** The cursor: the next (segment, part) to release. */
  segment: number;
  part: number;
  /** Parts per segment, once known (0 = dropped whole). */
  partsOf: Map<number, number>;
  held: Map<string, Held>;
  /** Index of the utterance's last segment once it is known (0 without segments). */
  lastSegment: number | null;
  expiresAt: number;
};

export class UtteranceParts {
  readonly #utterances = new Map<string, Utterance>();

  get size(): number {
    return this.#utterances.size;
  }

  /** One result; returns the parts it makes playable, in order. */
  offer(utteranceId: string, r: PartResult, now: number, maxAgeMs: number): ReadyPart[] {
    this.#expire(now);
    const expiresAt = (r.marks.speechEnd > 0 ? r.marks.speechEnd : now) + maxAgeMs;
    let u = this.#utterances.get(utteranceId);
    if (r.part === undefined && !r.segment) {
      this.#utterances.delete(utteranceId);
      return [];
    }
    if (!u) {
      u = { segment: 0, part: 0, partsOf: new Map(), held: new Map(), lastSegment: null, expiresAt };
      this.#utterances.set(utteranceId, u);
    }
    u.expiresAt = Math.max(u.expiresAt, expiresAt);
    const seg = r.segment?.index ?? 0;
    if (!r.segment || r.segment.last) u.lastSegment = seg;
    if (r.part === undefined) {
      // The rest of this segment was dropped: its parts already here still play.
      const here = [...u.held.keys()].filter((k) => k.startsWith(`${seg}:`)).map((k) => Number(k.split(':')[1]) + 1);
      u.partsOf.set(seg, Math.max(seg === u.segment ? u.part : 0, ...here));
    } else {
      u.partsOf.set(seg, r.parts);
      u.held.set(`${seg}:${r.part}`, { audio: r.audio, text: r.text ?? '', marks: r.marks, segment: r.segment });
    }
    return this.#release(utteranceId, u);
  }

  /** The utterance had `segments` segments (simultaneous translation): it is forgotten once they are released. */
  ended(utteranceId: string, segments: number): ReadyPart[] {
    const u = this.#utterances.get(utteranceId);
    if (!u) return [];
    u.lastSegment = Math.max(0, segments - 1);
    if (segments === 0) u.partsOf.set(0, 0);
    return this.#release(utteranceId, u);
  }

  clear(): void {
    this.#utterances.clear();
  }

  #release(utteranceId: string, u: Utterance): ReadyPart[] {
    const ready: ReadyPart[] = [];
    for (;;) {
      const parts = u.partsOf.get(u.segment);
      if (parts === undefined) break;
      if (u.part >= parts) {
        if (u.lastSegment !== null && u.segment >= u.lastSegment) {
          this.#utterances.delete(utteranceId);
          break;
        }
        u.segment++;
        u.part = 0;
        continue;
      }
      const key = `${u.segment}:${u.part}`;
      const held = u.held.get(key);
      if (!held) break;
      u.held.delete(key);
      if (held.audio && held.audio.samples.length > 0) {
        const durationMs = (held.audio.samples.length / held.audio.sampleRate) * 1000;
        ready.push({ utteranceId, segment: held.segment, part: u.part, text: held.text, audio: held.audio, marks: held.marks, durationMs });
      }
      u.part++;
    }
    return ready;
  }

  #expire(now: number): void {
    for (const [id, u] of this.#utterances) if (now > u.expiresAt) this.#utterances.delete(id);
  }
}
