/**
 * RTP (RFC 3550) header parsing and building, RTCP demultiplexing on an
 * rtcp-mux socket (RFC 5761), and an Opus packetizer (RFC 7587: 48 kHz clock).
 */
import { randomInt } from 'node:crypto';

/** A parsed RTP packet; `payload` is a view into the original buffer. */
export type RtpPacket = {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  csrcs: number[];
  /** Header extension block (profile and raw data), if the X bit is set. */
  extension: { profile: number; data: Buffer } | null;
  /** Padding bytes removed from the end. */
  paddingLength: number;
  payload: Buffer;
};

/** What `buildRtpPacket` needs; the rest defaults to none. */
export type RtpPacketInit = {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  csrcs?: number[];
  /** Data length must be a multiple of 4. */
  extension?: { profile: number; data: Buffer } | null;
  /** Pad the packet with this many bytes (1..255). */
  paddingLength?: number;
  payload: Uint8Array;
};

export type RtpPacketizerOptions = {
  /** RTP payload type (as negotiated: mediasoup routers give Opus 100). */
  payloadType: number;
  /** Random when omitted. */
  ssrc?: number;
  /** Random when omitted. */
  initialSequenceNumber?: number;
  /** Random when omitted. */
  initialTimestamp?: number;
};

const RTP_HEADER = 12;

/**
 * True when a datagram on an rtcp-mux socket is RTCP: RTCP packet types are
 * 192..223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206, XR 207),
 * i.e. the second byte & 0x7f in 64..95, a range RTP payload types must avoid.
 */
export function isRtcp(buf: Uint8Array): boolean {
  if (buf.length < 4 || buf[0]! >> 6 !== 2) return false;
  const pt = buf[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}

/** Parses an RTP packet, or returns null when it is not valid RTP version 2 (or is RTCP). */
export function parseRtpPacket(buf: Buffer): RtpPacket | null {
  if (buf.length < RTP_HEADER || buf[0]! >> 6 !== 2 || isRtcp(buf)) return null;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER + csrcCount * 4;
  if (offset > buf.length) return null;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(buf.readUInt32BE(RTP_HEADER + i * 4));
  let extension: RtpPacket['extension'] = null;
  if (b0 & 0x10) {
    if (offset + 4 > buf.length) return null;
    const profile = buf.readUInt16BE(offset);
    const words = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + words * 4;
    if (end > buf.length) return null;
    extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let end = buf.length;
  let paddingLength = 0;
  if (b0 & 0x20) {
    paddingLength = buf[buf.length - 1]!;
    if (paddingLength === 0 || offset + paddingLength > buf.length) return null;
    end -= paddingLength;
  }
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    extension,
    paddingLength,
    payload: buf.subarray(offset, end),
  };
}

/** Serializes an RTP packet. */
export function buildRtpPacket(p: RtpPacketInit): Buffer {
  const csrcs = p.csrcs ?? [];
  const ext = p.extension ?? null;
  const pad = p.paddingLength ?? 0;
  if (!Number.isInteger(p.payloadType) || p.payloadType < 0 || p.payloadType > 127) throw new TypeError(`bad payload type ${p.payloadType}`);
  if (csrcs.length > 15) throw new TypeError('at most 15 CSRCs');
  if (ext && ext.data.length % 4 !== 0) throw new TypeError('extension data length must be a multiple of 4');
  if (pad < 0 || pad > 255) throw new TypeError('padding must be 0..255 bytes');
  const extLen = ext ? 4 + ext.data.length : 0;
  const headerLen = RTP_HEADER + csrcs.length * 4 + extLen;
  const buf = Buffer.alloc(headerLen + p.payload.length + pad);
  buf[0] = 0x80 | (pad ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  buf[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  buf.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(p.timestamp >>> 0, 4);
  buf.writeUInt32BE(p.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => buf.writeUInt32BE(c >>> 0, RTP_HEADER + i * 4));
  let offset = RTP_HEADER + csrcs.length * 4;
  if (ext) {
    buf.writeUInt16BE(ext.profile, offset);
    buf.writeUInt16BE(ext.data.length / 4, offset + 2);
    ext.data.copy(buf, offset + 4);
    offset += extLen;
  }
  buf.set(p.payload, offset);
  if (pad) buf[buf.length - 1] = pad;
  return buf;
}

/** The RTP header extension that carries a packet's audio level (RFC 6464). */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/**
 * A one-byte-header extension block (RFC 8285) with one audio level element (RFC 6464): `dBov` is the
 * level below full scale, 0 (loudest) to 127 (silence), `voice` the voice-activity bit.
 */
export function audioLevelExtension(id: number, dBov: number, voice: boolean): { profile: number; data: Buffer } {
  if (!Number.isInteger(id) || id < 1 || id > 14) throw new TypeError(`bad extension id ${id}`);
  const level = Math.max(0, Math.min(127, Math.round(dBov)));
  // id and length-1 (0: one byte), then V and the level, then padding to a 32-bit word.
  return { profile: 0xbede, data: Buffer.from([(id << 4) | 0, (voice ? 0x80 : 0) | level, 0, 0]) };
}

/** The level of 16-bit PCM in dBov (0 loudest .. 127 silence), as RFC 6464 counts it. */
export function pcmLevelDbov(pcm: Int16Array): number {
  if (pcm.length === 0) return 127;
  let sum = 0;
  for (const v of pcm) sum += v * v;
  const rms = Math.sqrt(sum / pcm.length) / 32768;
  return rms <= 0 ? 127 : Math.max(0, Math.min(127, -20 * Math.log10(rms)));
}

/** Distance from sequence number a to b, modulo 2^16, in -32768..32767. */
export function seqDelta(a: number, b: number): number {
  return ((((b - a) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/**
 * Wraps Opus frames into RTP: the sequence number steps by one per packet,
 * the timestamp by the frame's samples at 48 kHz (960 per 20 ms), both
 * starting at random values (RFC 3550 section 5.1), under a random SSRC.
 */
export class RtpPacketizer {
  readonly payloadType: number;
  readonly ssrc: number;
  #seq: number;
  #timestamp: number;
  #marker = true;

  constructor(options: RtpPacketizerOptions) {
    if (!Number.isInteger(options.payloadType) || options.payloadType < 0 || options.payloadType > 127) {
      throw new TypeError(`bad payload type ${options.payloadType}`);
    }
    this.payloadType = options.payloadType;
    this.ssrc = (options.ssrc ?? randomInt(1, 2 ** 32 - 1)) >>> 0;
    this.#seq = (options.initialSequenceNumber ?? randomInt(0, 0x10000)) & 0xffff;
    this.#timestamp = (options.initialTimestamp ?? randomInt(0, 2 ** 32 - 1)) >>> 0;
  }

  /** Sequence number the next packet will carry. */
  get nextSequenceNumber(): number {
    return this.#seq;
  }

  /** Timestamp the next packet will carry. */
  get nextTimestamp(): number {
    return this.#timestamp;
  }

  /** Wraps one frame of `samples` samples (at 48 kHz; 960 = 20 ms), with a header extension block if given. */
  packetize(frame: Uint8Array, samples = 960, extension: RtpPacketInit['extension'] = null): Buffer {
    const pkt = buildRtpPacket({
      payloadType: this.payloadType,
      sequenceNumber: this.#seq,
      timestamp: this.#timestamp,
      ssrc: this.ssrc,
      marker: this.#marker,
      extension,
      payload: frame,
    });
    this.#marker = false;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + samples) >>> 0;
    return pkt;
  }

  /**
   * Marks a pause in sending: the timestamp jumps by the silent time (so the
   * receiver keeps real time) and the next packet sets the marker bit (start of a talkspurt).
   */
  skip(samples: number): void {
    if (!Number.isInteger(samples) || samples < 0) throw new TypeError(`samples must be a non-negative integer, got ${samples}`);
    this.#timestamp = (this.#timestamp + samples) >>> 0;
    this.#marker = true;
  }
}
