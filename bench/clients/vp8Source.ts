/**
 * Synthetic VP8 simulcast for the video load clients: three spatial layers
 * (180p/360p/720p of a 1280x720 camera, 150k/500k/1.5M bit/s, 30 frames/s,
 * a key frame every 2 s and when asked), packetized as RFC 7741 describes.
 *
 * An SFU forwards VP8 without decoding it: it reads the payload descriptor
 * (start of partition, picture id) and, for key frames, the VP8 frame tag and
 * start code, which is how mediasoup and Janus find the key frame a layer
 * switch waits for. Those bytes are real here; the compressed picture data
 * after them is filler of the size a real encoder would produce, so the SFUs
 * forward (and SRTP-protect) the same number of packets and bytes as for a
 * camera, with no encoder in the load clients.
 */

import { SinkPacer } from './FrameClock.js';

export const VIDEO_CLOCK_RATE = 90_000;
export const VIDEO_FPS = 30;
const FRAME_MS = 1000 / VIDEO_FPS;
const FRAME_TICKS = VIDEO_CLOCK_RATE / VIDEO_FPS;
/** Largest RTP payload, leaving room for headers and SRTP within a 1200-byte datagram. */
const MAX_PAYLOAD = 1100;
/** A key frame every this many frames; it is KEY_SIZE times a delta frame. */
const KEY_INTERVAL = 60;
const KEY_SIZE = 4;

export type VideoLayer = { width: number; height: number; bitrate: number };

/** What the browser client sends for a 1280x720 camera (src/web/videoEncodings.ts), lowest first. */
export const CAMERA_LAYERS: VideoLayer[] = [
  { width: 320, height: 180, bitrate: 150_000 },
  { width: 640, height: 360, bitrate: 500_000 },
  { width: 1280, height: 720, bitrate: 1_500_000 },
];

/** One encoded frame of one layer, as RTP payloads (the marker goes on the last). */
export type VideoFrame = { layer: number; key: boolean; timestamp: number; payloads: Buffer[] };

const filler = Buffer.alloc(MAX_PAYLOAD * KEY_SIZE * 8);

/** Bytes of one frame so that the layer averages its bitrate over a key-frame interval. */
export function frameBytes(layer: VideoLayer, key: boolean): number {
  const average = layer.bitrate / 8 / VIDEO_FPS;
  const delta = (average * KEY_INTERVAL) / (KEY_INTERVAL - 1 + KEY_SIZE);
  return Math.round(key ? delta * KEY_SIZE : delta);
}

/**
 * The RTP payloads of one VP8 frame: each starts with a payload descriptor (X=1, I=1 with a 15-bit
 * picture id; S=1 on the first); the first carries the frame tag (P=0 on key frames, shown) and, on key
 * frames, the start code and the picture size.
 */
export function packetizeVp8(layer: VideoLayer, key: boolean, pictureId: number): Buffer[] {
  const size = frameBytes(layer, key);
  const tag = Buffer.alloc(key ? 10 : 3);
  const firstPartition = Math.min(size, 0x7ffff);
  tag[0] = ((firstPartition & 0x7) << 5) | (1 << 4) | (key ? 0 : 1);
  tag[1] = (firstPartition >> 3) & 0xff;
  tag[2] = (firstPartition >> 11) & 0xff;
  if (key) {
    tag.set([0x9d, 0x01, 0x2a], 3);
    tag.writeUInt16LE(layer.width & 0x3fff, 6);
    tag.writeUInt16LE(layer.height & 0x3fff, 8);
  }
  const body = Math.max(0, size - tag.length);
  const payloads: Buffer[] = [];
  let offset = 0;
  do {
    const descriptor = Buffer.from([offset === 0 ? 0x90 : 0x80, 0x80, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff]);
    const head = offset === 0 ? Buffer.concat([descriptor, tag]) : descriptor;
    const take = Math.min(MAX_PAYLOAD - head.length, body - offset);
    payloads.push(Buffer.concat([head, filler.subarray(0, take)]));
    offset += take;
  } while (offset < body);
  return payloads;
}

/**
 * One camera's encoder stand-in: per frame index, one frame per layer; a key frame every KEY_INTERVAL
 * frames (at a phase of its own, as independent cameras are not in step) and on the next frame after a
 * key-frame request (PLI/FIR) for that layer, as a browser's encoder answers them.
 */
export class SyntheticVp8 {
  readonly layers: VideoLayer[];
  readonly #phase = Math.floor(Math.random() * KEY_INTERVAL);
  readonly #wanted: boolean[];

  constructor(layers: VideoLayer[] = CAMERA_LAYERS) {
    this.layers = layers;
    this.#wanted = layers.map(() => true);
  }

  requestKeyFrame(layer: number): void {
    if (layer >= 0 && layer < this.#wanted.length) this.#wanted[layer] = true;
  }

  frames(index: number): VideoFrame[] {
    const periodic = (index + this.#phase) % KEY_INTERVAL === 0;
    return this.layers.map((layer, i) => {
      const key = periodic || this.#wanted[i]!;
      this.#wanted[i] = false;
      return { layer: i, key, timestamp: (index * FRAME_TICKS) >>> 0, payloads: packetizeVp8(layer, key, index & 0x7fff) };
    });
  }
}

export type VideoSink = (index: number) => void;

/**
 * A 30 frames/s clock shared by every video publisher of a load process (as the audio Pacer): each tick
 * hands every sink the frame index; each publisher makes its own frames (SyntheticVp8).
 */
export class VideoPacer extends SinkPacer<VideoSink> {
  readonly layers: VideoLayer[];

  constructor(layers: VideoLayer[] = CAMERA_LAYERS) {
    super(FRAME_MS);
    this.layers = layers;
  }

  protected frame(index: number): void {
    for (const sink of this.sinks) sink(index);
  }
}
