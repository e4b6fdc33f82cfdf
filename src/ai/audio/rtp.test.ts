import { describe, expect, it } from 'vitest';
import { RtpPacketizer, audioLevelExtension, buildRtpPacket, isRtcp, parseRtpPacket, pcmLevelDbov, seqDelta } from './rtp.js';

describe('RTP header', () => {
  it('parses a hand-written packet byte by byte', () => {
    // V=2 P=0 X=0 CC=0 | M=1 PT=100 | seq 0x1234 | ts 0xdeadbeef | ssrc 0x01020304 | payload
    const buf = Buffer.from('80e41234deadbeef01020304aabbcc', 'hex');
    const p = parseRtpPacket(buf)!;
    expect(p).toMatchObject({ payloadType: 100, marker: true, sequenceNumber: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304 });
    expect(p.csrcs).toEqual([]);
    expect(p.extension).toBeNull();
    expect(p.payload.toString('hex')).toBe('aabbcc');
  });

  it('skips CSRCs, a header extension and padding', () => {
    // CC=2, X=1, P=1; one-byte-header extension (0xBEDE) of 1 word; 3 bytes of padding.
    const hex =
      'b2' + '64' + '0001' + '00000960' + 'cafebabe' + '11111111' + '22222222' + 'bede0001' + '10ff0000' + '0102030405' + '000003';
    const p = parseRtpPacket(Buffer.from(hex, 'hex'))!;
    expect(p.csrcs).toEqual([0x11111111, 0x22222222]);
    expect(p.extension?.profile).toBe(0xbede);
    expect(p.extension?.data.toString('hex')).toBe('10ff0000');
    expect(p.paddingLength).toBe(3);
    expect(p.payload.toString('hex')).toBe('0102030405');
    expect(p.marker).toBe(false);
    expect(p.payloadType).toBe(100);
  });

  it('round-trips through buildRtpPacket', () => {
    const init = {
      payloadType: 111,
      sequenceNumber: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 0xffffffff,
      marker: true,
      csrcs: [7, 8, 9],
      extension: { profile: 0x1000, data: Buffer.from('0102030405060708', 'hex') },
      paddingLength: 4,
      payload: Buffer.from('hello opus'),
    };
    const buf = buildRtpPacket(init);
    expect(buf.length).toBe(12 + 12 + 4 + 8 + 10 + 4);
    const p = parseRtpPacket(buf)!;
    expect(p).toMatchObject({ payloadType: 111, sequenceNumber: 65535, timestamp: 2 ** 32 - 1, ssrc: 0xffffffff, marker: true, paddingLength: 4 });
    expect(p.csrcs).toEqual([7, 8, 9]);
    expect(p.extension?.data.toString('hex')).toBe('0102030405060708');
    expect(p.payload.toString()).toBe('hello opus');
  });

  it('rejects truncated and malformed packets', () => {
    const good = buildRtpPacket({ payloadType: 100, sequenceNumber: 1, timestamp: 1, ssrc: 1, csrcs: [1, 2], payload: Buffer.from('x') });
    expect(parseRtpPacket(good.subarray(0, 11))).toBeNull();
    expect(parseRtpPacket(good.subarray(0, 15))).toBeNull(); // CSRC list cut
    const v1 = Buffer.from(good);
    v1[0] = (v1[0]! & 0x3f) | 0x40;
    expect(parseRtpPacket(v1)).toBeNull();
    const badPad = buildRtpPacket({ payloadType: 100, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: Buffer.from('ab') });
    badPad[0] = badPad[0]! | 0x20;
    badPad[badPad.length - 1] = 200; // more padding than packet
    expect(parseRtpPacket(badPad)).toBeNull();
    const badExt = Buffer.from('90640001000009600000000100010005', 'hex'); // extension says 5 words, has 0
    expect(parseRtpPacket(badExt)).toBeNull();
    expect(() => buildRtpPacket({ payloadType: 128, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(0) })).toThrow(TypeError);
  });
});

describe('RTCP demultiplexing', () => {
  it('tells RTCP (SR, RR, SDES, BYE, feedback, XR) from RTP on an rtcp-mux socket', () => {
    for (const pt of [200, 201, 202, 203, 204, 205, 206, 207]) {
      const rtcp = Buffer.from([0x81, pt, 0x00, 0x01, 0, 0, 0, 0]);
      expect(isRtcp(rtcp)).toBe(true);
      expect(parseRtpPacket(Buffer.concat([rtcp, Buffer.alloc(8)]))).toBeNull();
    }
    const opus = buildRtpPacket({ payloadType: 100, sequenceNumber: 5, timestamp: 9, ssrc: 3, marker: true, payload: Buffer.from([1]) });
    expect(isRtcp(opus)).toBe(false);
    expect(isRtcp(buildRtpPacket({ payloadType: 111, sequenceNumber: 5, timestamp: 9, ssrc: 3, payload: Buffer.from([1]) }))).toBe(false);
    expect(isRtcp(Buffer.from([0x80]))).toBe(false);
  });
});

describe('RtpPacketizer', () => {
  it('steps sequence numbers by 1 and timestamps by 960 per 20 ms frame, wrapping around', () => {
    const pz = new RtpPacketizer({ payloadType: 100, ssrc: 42, initialSequenceNumber: 65534, initialTimestamp: 2 ** 32 - 960 });
    const pkts = [0, 1, 2, 3].map((i) => parseRtpPacket(pz.packetize(Buffer.from([i])))!);
    expect(pkts.map((p) => p.sequenceNumber)).toEqual([65534, 65535, 0, 1]);
    expect(pkts.map((p) => p.timestamp)).toEqual([2 ** 32 - 960, 0, 960, 1920]);
    expect(pkts.map((p) => p.marker)).toEqual([true, false, false, false]);
    expect(pkts.every((p) => p.ssrc === 42 && p.payloadType === 100)).toBe(true);
    expect(pkts.map((p) => p.payload[0])).toEqual([0, 1, 2, 3]);
    expect(seqDelta(65535, 1)).toBe(2);
    expect(seqDelta(1, 65535)).toBe(-2);
  });

  it('picks random SSRC and starting points, and marks a talkspurt after skip()', () => {
    const a = new RtpPacketizer({ payloadType: 100 });
    const b = new RtpPacketizer({ payloadType: 100 });
    expect(a.ssrc === b.ssrc && a.nextSequenceNumber === b.nextSequenceNumber && a.nextTimestamp === b.nextTimestamp).toBe(false);
    const ts0 = a.nextTimestamp;
    a.packetize(Buffer.from([1]));
    a.skip(48000);
    const p = parseRtpPacket(a.packetize(Buffer.from([2])))!;
    expect(p.marker).toBe(true);
    expect(p.timestamp).toBe((ts0 + 960 + 48000) >>> 0);
  });
});

describe('audio level extension (RFC 6464)', () => {
  it('carries the level and voice bit in a one-byte header element that parses back', () => {
    const ext = audioLevelExtension(1, 23.4, true);
    expect(ext.profile).toBe(0xbede);
    expect([...ext.data]).toEqual([0x10, 0x80 | 23, 0, 0]);
    const p = parseRtpPacket(new RtpPacketizer({ payloadType: 100 }).packetize(Buffer.from([9]), 960, audioLevelExtension(3, 200, false)))!;
    expect(p.extension!.profile).toBe(0xbede);
    expect([...p.extension!.data]).toEqual([0x30, 127, 0, 0]);
    expect(p.payload[0]).toBe(9);
    expect(() => audioLevelExtension(15, 0, true)).toThrow(TypeError);
  });

  it('measures PCM in dBov: full scale 0, a tenth of it 20, silence 127', () => {
    const square = (amp: number) => Int16Array.from({ length: 960 }, (_, i) => (i % 2 ? amp : -amp));
    expect(pcmLevelDbov(square(32767))).toBeCloseTo(0, 0);
    expect(pcmLevelDbov(square(3277))).toBeCloseTo(20, 0);
    expect(pcmLevelDbov(new Int16Array(960))).toBe(127);
    expect(pcmLevelDbov(new Int16Array(0))).toBe(127);
  });
});
