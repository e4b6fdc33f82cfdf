/**
 * Opus encode/decode on top of opusscript (libopus compiled to wasm). Every
 * instance holds wasm heap memory: call `close()` when done.
 */
import { createRequire } from 'node:module';

/** The slice of opusscript's API used here (its own typings use `export =`). */
type OpusScriptInstance = {
  encode(buffer: Buffer, frameSize: number): Buffer;
  decode(buffer: Buffer): Buffer;
  setBitrate(bitrate: number): void;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
};
type OpusScriptClass = {
  new (rate: OpusRate, channels?: number, application?: number): OpusScriptInstance;
  Application: { VOIP: number; AUDIO: number; RESTRICTED_LOWDELAY: number };
};

const OpusScript = createRequire(import.meta.url)('opusscript') as OpusScriptClass;

/** Rates libopus runs at. */
export type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;

/** Longest Opus frame (120 ms at 48 kHz) and the frame durations Opus allows. */
const FRAME_MS = [2.5, 5, 10, 20, 40, 60] as const;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

export type OpusDecoderOptions = {
  /** Output rate (default 48000; libopus resamples internally for the others). */
  sampleRate?: OpusRate;
  /** Output channels, 1 or 2 (default 1; a stereo stream is downmixed by libopus). */
  channels?: 1 | 2;
};

export type OpusEncoderOptions = {
  /** Input rate (default 48000). */
  sampleRate?: OpusRate;
  /** Frame duration in ms (default 20). */
  frameMs?: (typeof FRAME_MS)[number];
  /** Target bitrate in bit/s (default 32000). */
  bitrate?: number;
  /** Tune for speech ('voip', default) or general audio ('audio'). */
  application?: 'voip' | 'audio';
  /** Add in-band FEC for this expected loss percentage (default 0: off). */
  fecLossPercent?: number;
};

/** Decodes Opus packets to interleaved 16-bit PCM. */
export class OpusDecoder {
  readonly sampleRate: OpusRate;
  readonly channels: 1 | 2;
  #opus: OpusScriptInstance | null;

  constructor(options: OpusDecoderOptions = {}) {
    this.sampleRate = options.sampleRate ?? 48000;
    this.channels = options.channels ?? 1;
    if (this.channels !== 1 && this.channels !== 2) throw new TypeError(`channels must be 1 or 2, got ${String(this.channels)}`);
    this.#opus = new OpusScript(this.sampleRate, this.channels);
  }

  get closed(): boolean {
    return this.#opus === null;
  }

  /** One Opus packet -> PCM (samples per channel x channels, interleaved). Throws on a corrupt packet. */
  decode(packet: Uint8Array): Int16Array {
    if (!this.#opus) throw new Error('OpusDecoder is closed');
    if (packet.length === 0) throw new TypeError('empty Opus packet');
    const out = this.#opus.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.length));
    // opusscript returns a fresh Buffer, possibly at an odd offset: copy into an aligned Int16Array.
    const pcm = new Int16Array(out.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = out.readInt16LE(i * 2);
    return pcm;
  }

  /** Frees the wasm memory (idempotent). */
  close(): void {
    this.#opus?.delete();
    this.#opus = null;
  }
}

/**
 * Encodes mono PCM to Opus frames of a fixed duration. PCM can be pushed in
 * any chunk size; the remainder waits for the next push or `flush()`.
 */
export class OpusEncoder {
  readonly sampleRate: OpusRate;
  /** Samples per frame (960 for 20 ms at 48 kHz). */
  readonly frameSize: number;
  #opus: OpusScriptInstance | null;
  #pending: Int16Array;
  #pendingLength = 0;

  constructor(options: OpusEncoderOptions = {}) {
    this.sampleRate = options.sampleRate ?? 48000;
    const frameMs = options.frameMs ?? 20;
    if (!FRAME_MS.includes(frameMs)) throw new TypeError(`frameMs must be one of ${FRAME_MS.join(', ')}, got ${String(frameMs)}`);
    this.frameSize = (this.sampleRate * frameMs) / 1000;
    const app = options.application === 'audio' ? OpusScript.Application.AUDIO : OpusScript.Application.VOIP;
    this.#opus = new OpusScript(this.sampleRate, 1, app);
    this.#opus.setBitrate(options.bitrate ?? 32_000);
    if (options.fecLossPercent) {
      this.#opus.encoderCTL(OPUS_SET_INBAND_FEC, 1);
      this.#opus.encoderCTL(OPUS_SET_PACKET_LOSS_PERC, Math.round(options.fecLossPercent));
    }
    this.#pending = new Int16Array(this.frameSize);
  }

  get closed(): boolean {
    return this.#opus === null;
  }

  /** Samples waiting for a full frame. */
  get pendingSamples(): number {
    return this.#pendingLength;
  }

  /** Encodes every full frame available after appending `pcm`. */
  encode(pcm: Int16Array): Buffer[] {
    if (!this.#opus) throw new Error('OpusEncoder is closed');
    const frames: Buffer[] = [];
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(this.frameSize - this.#pendingLength, pcm.length - offset);
      this.#pending.set(pcm.subarray(offset, offset + take), this.#pendingLength);
      this.#pendingLength += take;
      offset += take;
      if (this.#pendingLength === this.frameSize) {
        frames.push(this.#encodeFrame(this.#pending));
        this.#pendingLength = 0;
      }
    }
    return frames;
  }

  /** Encodes the remainder padded with silence (no frame when nothing is pending). */
  flush(): Buffer[] {
    if (!this.#opus || this.#pendingLength === 0) return [];
    this.#pending.fill(0, this.#pendingLength);
    this.#pendingLength = 0;
    return [this.#encodeFrame(this.#pending)];
  }

  /** Frees the wasm memory (idempotent). */
  close(): void {
    this.#opus?.delete();
    this.#opus = null;
  }

  #encodeFrame(frame: Int16Array): Buffer {
    const bytes = Buffer.alloc(frame.length * 2);
    for (let i = 0; i < frame.length; i++) bytes.writeInt16LE(frame[i]!, i * 2);
    return this.#opus!.encode(bytes, this.frameSize);
  }
}

/** Encodes a whole mono signal into frames (the last one padded with silence). */
export function encodeOpusFrames(pcm: Int16Array, options: OpusEncoderOptions = {}): Buffer[] {
  const enc = new OpusEncoder(options);
  try {
    return [...enc.encode(pcm), ...enc.flush()];
  } finally {
    enc.close();
  }
}
