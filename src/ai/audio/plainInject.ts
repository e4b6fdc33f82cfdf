/**
 * Injects audio into a mediasoup router: a PlainTransport (rtcp-mux, no
 * comedia) with an Opus producer, fed from a local UDP socket with one RTP
 * packet every 20 ms. The producer can be consumed like any participant's.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { OpusEncoder } from './opus.js';
import { withPlainLink } from './plainLink.js';
import { AUDIO_LEVEL_URI, RtpPacketizer, audioLevelExtension, pcmLevelDbov } from './rtp.js';

export type PlainInjectOptions = {
  router: types.Router;
  /** RTP payload type for Opus (default 100, as mediasoup routers negotiate it). */
  payloadType?: number;
  /** Random when omitted. */
  ssrc?: number;
  /** Opus bitrate used by `send()` (default 32000). */
  bitrate?: number;
  /** Loopback by default. */
  listenIp?: string;
  appData?: Record<string, unknown>;
};

export type PlainInjectEvents = {
  /** The first packet of a talkspurt (sending after idle) left, at this wall-clock time (ms). */
  firstPacket: [wallMs: number];
  /** Everything queued has been sent. */
  idle: [];
  close: [];
};

const FRAME_MS = 20;
const FRAME_SAMPLES = 960;
/** Past this delay the schedule restarts instead of sending a burst. */
const MAX_CATCH_UP_MS = 200;
/** The audio level header extension's id (each packet says how loud it is, for active-speaker detection). */
const AUDIO_LEVEL_EXT_ID = 1;
/** Frames quieter than this (dBov) are sent without the voice-activity bit. */
const VOICE_DBOV = 50;

type Queued = { frame: Buffer; level: number; done?: () => void; onSent?: (wallMs: number) => void };

/** A producer whose audio we send. */
export class PlainInject extends EventEmitter<PlainInjectEvents> {
  readonly transport: types.PlainTransport;
  readonly producer: types.Producer;
  readonly #socket: Socket;
  readonly #packetizer: RtpPacketizer;
  readonly #encoder: OpusEncoder;
  readonly #target: { ip: string; port: number };
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | null = null;
  #nextAt = 0;
  #packets = 0;
  #closed = false;

  private constructor(socket: Socket, transport: types.PlainTransport, producer: types.Producer, packetizer: RtpPacketizer, bitrate: number) {
    super();
    this.#socket = socket;
    this.transport = transport;
    this.producer = producer;
    this.#packetizer = packetizer;
    this.#encoder = new OpusEncoder({ bitrate });
    this.#target = { ip: transport.tuple.localIp, port: transport.tuple.localPort };
    socket.on('message', () => {}); // RTCP receiver reports from mediasoup: not needed
    producer.on('transportclose', () => this.close());
    transport.on('routerclose', () => this.close());
  }

  /** Binds the socket, creates and connects the transport and produces Opus on it. */
  static async create(options: PlainInjectOptions): Promise<PlainInject> {
    const ip = options.listenIp ?? '127.0.0.1';
    const payloadType = options.payloadType ?? 100;
    const ssrc = options.ssrc ?? randomInt(1, 2 ** 32 - 1);
    return withPlainLink(options.router, ip, options.appData ?? {}, async ({ socket, transport }) => {
      const producer = await transport.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [
            { mimeType: 'audio/opus', payloadType, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, minptime: 10 }, rtcpFeedback: [] },
          ],
          encodings: [{ ssrc }],
          headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXT_ID, encrypt: false, parameters: {} }],
          rtcp: { cname: `parley-inject-${ssrc}`, reducedSize: true },
        },
        appData: options.appData ?? {},
      });
      return new PlainInject(socket, transport, producer, new RtpPacketizer({ payloadType, ssrc }), options.bitrate ?? 32_000);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get ssrc(): number {
    return this.#packetizer.ssrc;
  }

  /** Packets sent so far. */
  get packetsSent(): number {
    return this.#packets;
  }

  /** Frames waiting to be sent. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Encodes 48 kHz mono PCM to 20 ms Opus frames (the last padded) and queues them; resolves when the last is sent. */
  /** Encodes and queues PCM; `onFirstSent` is called with the wall-clock time its first frame leaves. */
  send(pcm48kMono: Int16Array, onFirstSent?: (wallMs: number) => void): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('PlainInject is closed'));
    const frames = [...this.#encoder.encode(pcm48kMono), ...this.#encoder.flush()];
    const levels = frames.map((_, i) => pcmLevelDbov(pcm48kMono.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)));
    return this.sendFrames(frames, onFirstSent, levels);
  }

  /** Queues 20 ms Opus frames (each with its level in dBov, silence when not given); resolves when the last one is sent (or at close). */
  sendFrames(frames: Buffer[], onFirstSent?: (wallMs: number) => void, levels: number[] = []): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('PlainInject is closed'));
    if (frames.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      frames.forEach((frame, i) =>
        this.#queue.push({ frame, level: levels[i] ?? 127, ...(i === frames.length - 1 ? { done: resolve } : {}), ...(i === 0 && onFirstSent ? { onSent: onFirstSent } : {}) }),
      );
      if (!this.#timer) this.#startBurst();
    });
  }

  /** Drops what is queued (barge-in); pending promises resolve. */
  clear(): void {
    const dropped = this.#queue;
    this.#queue = [];
    for (const q of dropped) q.done?.();
  }

  /** Stops sending and closes producer, transport and socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.clear();
    this.#encoder.close();
    this.producer.close();
    this.transport.close();
    this.#socket.close();
    this.emit('close');
  }

  #startBurst(): void {
    const now = performance.now();
    if (this.#packets > 0 && now < this.#nextAt + FRAME_MS) {
      // Queued before the previous frame's slot ran out: the same talkspurt goes on.
      this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#nextAt - now));
      return;
    }
    // A new talkspurt: RTP time jumps by the pause, so receivers keep in step with wall time.
    if (this.#packets > 0) this.#packetizer.skip(Math.round((now - this.#nextAt) * 48));
    this.#nextAt = now;
    this.#tick(true);
  }

  #tick(first = false): void {
    this.#timer = null;
    if (this.#closed) return;
    let now = performance.now();
    if (now - this.#nextAt > MAX_CATCH_UP_MS) this.#nextAt = now;
    while (this.#queue.length > 0 && this.#nextAt <= now + 1) {
      const q = this.#queue.shift()!;
      const level = audioLevelExtension(AUDIO_LEVEL_EXT_ID, q.level, q.level < VOICE_DBOV);
      this.#socket.send(this.#packetizer.packetize(q.frame, FRAME_SAMPLES, level), this.#target.port, this.#target.ip);
      this.#packets++;
      if (first) {
        first = false;
        this.emit('firstPacket', Date.now());
      }
      q.onSent?.(Date.now());
      q.done?.();
      this.#nextAt += FRAME_MS;
      now = performance.now();
    }
    if (this.#queue.length === 0) {
      this.emit('idle');
      return;
    }
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#nextAt - performance.now()));
  }
}
