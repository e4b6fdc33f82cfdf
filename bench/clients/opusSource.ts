/**
 * Real Opus audio for the load clients: a 2 s speech-like signal (a gliding
 * voiced tone with syllable-rate amplitude modulation and pauses) encoded once
 * with libopus (opusscript) into 20 ms frames, then looped by every publisher.
 * A shared pacer sends one frame per publisher every 20 ms (50 packets/s),
 * catching up without drift when the event loop was late.
 */
import { encodeOpusFrames } from '../../src/ai/audio/opus.js';
import { SinkPacer } from './FrameClock.js';

export const FRAME_MS = 20;
/** RTP timestamp step of one 20 ms frame at 48 kHz. */
export const FRAME_TICKS = 960;

let cached: Buffer[] | null = null;

/** The looped Opus frames (computed once per process). */
export function opusFrames(): Buffer[] {
  if (cached) return cached;
  const rate = 48000;
  const pcm = new Int16Array(rate * 2);
  let phase = 0;
  for (let i = 0; i < pcm.length; i++) {
    const t = i / rate;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / rate;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t));
    const pause = t % 1 > 0.8 ? 0 : 1;
    const voiced = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase);
    pcm[i] = Math.round(6000 * syllable * pause * voiced);
  }
  cached = encodeOpusFrames(pcm, { sampleRate: 48000, frameMs: FRAME_MS, bitrate: 32_000 });
  return cached;
}

export type FrameSink = (frame: Buffer, frameIndex: number) => void;

/**
 * One 20 ms clock for all publishers of a process, looping `frames` (default: the speech-like signal
 * above); `onFrame` hears each frame's index and wall-clock send time.
 */
export class Pacer extends SinkPacer<FrameSink> {
  readonly #frames: () => Buffer[];
  readonly #onFrame: ((index: number, wallMs: number) => void) | null;
  #looped: Buffer[] = [];

  constructor(frames?: Buffer[], onFrame?: (index: number, wallMs: number) => void) {
    super(FRAME_MS);
    this.#frames = frames ? () => frames : opusFrames;
    this.#onFrame = onFrame ?? null;
  }

  protected override starting(): void {
    this.#looped = this.#frames();
  }

  protected frame(index: number): void {
    const frame = this.#looped[index % this.#looped.length]!;
    for (const sink of this.sinks) sink(frame, index);
    this.#onFrame?.(index, Date.now());
  }
}
