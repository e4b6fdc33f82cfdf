import { describe, expect, it } from 'vitest';
import { RtpStats, combineStats } from '../bench/clients/RtpStats.js';
import { withSimulcastGroup } from '../bench/clients/JanusClient.js';
import { audioRtpCapabilities, buildRemoteSdp, consumerSection, localDtlsParameters, MID_EXTENSION_URI, parseLocalSdp, producerRtpParameters, simulcastRtpParameters, vp8RtpCapabilities, type IceLiteTransport } from '../bench/clients/sdp.js';
import { CAMERA_LAYERS, frameBytes, packetizeVp8, SyntheticVp8 } from '../bench/clients/vp8Source.js';

const transport: IceLiteTransport = {
  iceParameters: { usernameFragment: 'ufragAB', password: 'pwd0123456789', iceLite: true },
  iceCandidates: [
    { foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', protocol: 'udp', port: 40001, type: 'host' },
    { foundation: 'tcpcandidate', priority: 1076276479, ip: '127.0.0.1', protocol: 'tcp', port: 40001, type: 'host' },
  ],
  dtlsParameters: {
    role: 'auto',
    fingerprints: [
      { algorithm: 'sha-1', value: 'AA:BB' },
      { algorithm: 'sha-256', value: '01:02:03' },
    ],
  },
};

const weriftOffer = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 100',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:x',
  'a=ice-pwd:y',
  'a=fingerprint:SHA-256 DE:AD:BE:EF',
  'a=setup:actpass',
  'a=sendonly',
  'a=mid:0',
  'a=rtcp-mux',
  'a=ssrc:12345 cname:client-cname',
  'a=rtpmap:100 opus/48000/2',
  'a=fmtp:100 minptime=10;useinbandfec=1',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:1',
  'a=ssrc:555 cname:client-cname',
  'a=rtpmap:96 VP8/90000',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid',
  '',
].join('\r\n');

describe('bench SDP mapper', () => {
  it('describes an ICE-lite mediasoup answer with UDP candidates only and the sha-256 fingerprint', () => {
    const sdp = buildRemoteSdp(transport, [{ mid: '0', payloadType: 100, direction: 'recvonly', extensions: [{ id: 1, uri: MID_EXTENSION_URI }] }], 'answer');
    expect(sdp).toContain('a=ice-lite');
    expect(sdp).toContain('a=group:BUNDLE 0');
    expect(sdp).toContain('a=fingerprint:sha-256 01:02:03');
    expect(sdp).toContain('a=ice-ufrag:ufragAB');
    expect(sdp).toContain('a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 40001 typ host');
    expect(sdp).not.toContain('tcpcandidate');
    expect(sdp).toContain('a=setup:passive');
    expect(sdp).toContain('a=recvonly');
    expect(sdp).toContain('a=rtpmap:100 opus/48000/2');
    expect(sdp).toContain(`a=extmap:1 ${MID_EXTENSION_URI}`);
    expect(sdp.endsWith('\r\n')).toBe(true);
  });

  it('offers consumers as send-only sections with their SSRC, setup actpass', () => {
    const section = consumerSection({ mid: '3', codecs: [{ payloadType: 100 }], encodings: [{ ssrc: 777 }], headerExtensions: [{ id: 1, uri: MID_EXTENSION_URI }, { id: 10, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }], rtcp: { cname: 'pub' } });
    const sdp = buildRemoteSdp(transport, [section, { ...section, mid: '4', ssrc: 778 }], 'offer');
    expect(sdp).toContain('a=group:BUNDLE 3 4');
    expect(sdp).toContain('a=setup:actpass');
    expect(sdp).toContain('a=ssrc:777 cname:pub');
    expect(sdp).toContain('a=ssrc:778 cname:pub');
    expect(sdp.match(/^m=audio/gm)).toHaveLength(2);
    expect(sdp).not.toContain('audio-level');
  });

  it('refuses a transport without UDP candidates', () => {
    expect(() => buildRemoteSdp({ ...transport, iceCandidates: transport.iceCandidates.filter((c) => c.protocol === 'tcp') }, [], 'offer')).toThrow(TypeError);
  });

  it('reads the local offer: fingerprint, DTLS role, the audio section and its producer parameters', () => {
    const local = parseLocalSdp(weriftOffer);
    expect(local.fingerprint).toEqual({ algorithm: 'sha-256', value: 'DE:AD:BE:EF' });
    expect(local.audio).toHaveLength(1);
    expect(local.audio[0]).toMatchObject({ mid: '0', payloadType: 100, ssrc: 12345, cname: 'client-cname' });
    expect(localDtlsParameters(local)).toEqual({ role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'DE:AD:BE:EF' }] });
    expect(localDtlsParameters({ ...local, setup: 'passive' }).role).toBe('server');
    const rtp = producerRtpParameters(local.audio[0]!) as { mid: string; encodings: unknown; codecs: Array<{ payloadType: number }>; headerExtensions: unknown };
    expect(rtp.mid).toBe('0');
    expect(rtp.encodings).toEqual([{ ssrc: 12345 }]);
    expect(rtp.codecs[0]!.payloadType).toBe(100);
    expect(rtp.headerExtensions).toEqual([{ id: 1, uri: MID_EXTENSION_URI }]);
  });

  it('builds consume capabilities from the router, Opus only', () => {
    const caps = audioRtpCapabilities({
      codecs: [
        { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2 },
        { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 101, clockRate: 90000 },
      ],
      headerExtensions: [{ kind: 'audio', uri: MID_EXTENSION_URI, preferredId: 1 }],
    }) as { codecs: Array<{ preferredPayloadType: number }>; headerExtensions: Array<{ preferredId: number }> };
    expect(caps.codecs).toHaveLength(1);
    expect(caps.codecs[0]!.preferredPayloadType).toBe(100);
    expect(caps.headerExtensions[0]!.preferredId).toBe(1);
    expect(() => audioRtpCapabilities({ codecs: [] })).toThrow(TypeError);
  });
});

describe('bench video clients: SDP, simulcast parameters, synthetic VP8', () => {
  it('reads the video section and describes a VP8 simulcast producer with one encoding per layer', () => {
    const local = parseLocalSdp(weriftOffer);
    expect(local.video).toHaveLength(1);
    expect(local.video[0]).toMatchObject({ mid: '1', payloadType: 96, ssrc: 555 });
    const rtp = simulcastRtpParameters(local.video[0]!, [11, 22, 33]) as { mid: string; codecs: Array<{ mimeType: string; payloadType: number }>; encodings: unknown; headerExtensions: unknown };
    expect(rtp.mid).toBe('1');
    expect(rtp.codecs[0]).toMatchObject({ mimeType: 'video/VP8', payloadType: 96 });
    expect(rtp.encodings).toEqual([11, 22, 33].map((ssrc) => ({ ssrc, scalabilityMode: 'L1T1' })));
    expect(rtp.headerExtensions).toEqual([{ id: 1, uri: MID_EXTENSION_URI }]);
  });

  it('offers video consumers as VP8 m-sections and asks for VP8 only', () => {
    const section = consumerSection({ mid: '2', codecs: [{ payloadType: 101 }], encodings: [{ ssrc: 9 }], rtcp: { cname: 'cam' } }, 'video');
    const sdp = buildRemoteSdp(transport, [section], 'offer');
    expect(sdp).toMatch(/^m=video \d+ UDP\/TLS\/RTP\/SAVPF 101$/m);
    expect(sdp).toContain('a=rtpmap:101 VP8/90000');
    expect(sdp).toContain('a=rtcp-fb:101 nack pli');
    expect(sdp).not.toContain('opus');
    const caps = vp8RtpCapabilities({ codecs: [{ kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100 }, { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 101 }] }) as { codecs: Array<{ mimeType: string; preferredPayloadType: number }> };
    expect(caps.codecs.map((c) => [c.mimeType, c.preferredPayloadType])).toEqual([['video/VP8', 101]]);
    expect(() => vp8RtpCapabilities({ codecs: [] })).toThrow(TypeError);
  });

  it('announces the layers to Janus as an SSRC simulcast group in the video section only', () => {
    const sdp = withSimulcastGroup(weriftOffer, [11, 22, 33]);
    const [audio, video] = sdp.split(/\r\n(?=m=video)/) as [string, string];
    expect(audio).toContain('a=ssrc:12345 cname:client-cname');
    expect(video).not.toContain('a=ssrc:555');
    expect(video).toContain('a=ssrc-group:SIM 11 22 33');
    for (const ssrc of [11, 22, 33]) expect(video).toContain(`a=ssrc:${ssrc} cname:bench`);
    expect(sdp.endsWith('\r\n')).toBe(true);
  });

  it('packetizes a key frame with the RFC 7741 descriptor, the VP8 key-frame tag, start code and size', () => {
    const layer = CAMERA_LAYERS[2]!;
    const packets = packetizeVp8(layer, true, 0x1234);
    expect(packets.length).toBeGreaterThan(1);
    const first = packets[0]!;
    expect(first[0]).toBe(0x90); // X=1, S=1, PID=0
    expect(first[1]).toBe(0x80); // I=1
    expect(((first[2]! & 0x7f) << 8) | first[3]!).toBe(0x1234);
    expect(first[2]! & 0x80).toBe(0x80); // 15-bit picture id
    expect(first[4]! & 0x01).toBe(0); // P=0: key frame
    expect([...first.subarray(7, 10)]).toEqual([0x9d, 0x01, 0x2a]);
    expect(first.readUInt16LE(10)).toBe(1280);
    expect(first.readUInt16LE(12)).toBe(720);
    for (const p of packets.slice(1)) expect(p[0]).toBe(0x80); // continuation: S=0
    for (const p of packets) expect(p.length).toBeLessThanOrEqual(1100);
    const body = packets.reduce((n, p) => n + p.length - 4, 0);
    expect(body).toBe(frameBytes(layer, true));
    const delta = packetizeVp8(CAMERA_LAYERS[0]!, false, 1);
    expect(delta[0]![4]! & 0x01).toBe(1);
  });

  it('averages each layer\'s bitrate over a key-frame interval', () => {
    for (const layer of CAMERA_LAYERS) {
      const bytes = frameBytes(layer, true) + 59 * frameBytes(layer, false);
      expect(Math.abs((bytes * 8) / 2 - layer.bitrate) / layer.bitrate).toBeLessThan(0.01);
    }
  });

  it('sends a key frame first, then when a layer is asked for one, and periodically', () => {
    const camera = new SyntheticVp8();
    expect(camera.frames(0).map((f) => f.key)).toEqual([true, true, true]);
    const keys = Array.from({ length: 60 }, (_, i) => camera.frames(i + 1)[0]!.key);
    expect(keys.filter(Boolean)).toHaveLength(1);
    camera.requestKeyFrame(1);
    camera.requestKeyFrame(7); // not a layer: ignored
    const periodic = (i: number) => camera.frames(i)[0]!.key; // layer 0 was not asked
    const asked = camera.frames(100);
    expect(asked[1]!.key).toBe(true);
    expect(asked[0]!.key).toBe(periodic(100 + 60));
    const after = Array.from({ length: 59 }, (_, i) => camera.frames(101 + i)[1]!.key);
    expect(after.filter(Boolean).length).toBeLessThanOrEqual(1);
  });
});

/** Feeds packets sent every 20 ms (960 ticks at 48 kHz) arriving at `arrival(i)`. */
function feed(stats: RtpStats, seqs: number[], arrival: (i: number) => number, firstSeq = seqs[0]!): void {
  for (const seq of seqs) {
    const i = (seq - firstSeq + 65536) % 65536;
    stats.onPacket(seq & 0xffff, (i * 960) >>> 0, arrival(i));
  }
}

describe('RtpStats (RFC 3550 loss and jitter)', () => {
  it('counts no loss and zero jitter for a perfectly paced stream', () => {
    const s = new RtpStats();
    feed(s, Array.from({ length: 100 }, (_, i) => i), (i) => i * 20);
    expect(s.snapshot()).toMatchObject({ received: 100, expected: 100, lost: 0, lossRatio: 0 });
    expect(s.snapshot().jitterMs).toBeCloseTo(0, 6);
  });

  it('counts sequence gaps as loss, across the 16-bit wrap', () => {
    const s = new RtpStats();
    const seqs = Array.from({ length: 20 }, (_, i) => (65530 + i) & 0xffff).filter((q) => q !== 65534 && q !== 2);
    feed(s, seqs, (i) => i * 20, 65530);
    expect(s.snapshot()).toMatchObject({ received: 18, expected: 20, lost: 2 });
    expect(s.snapshot().lossRatio).toBeCloseTo(0.1, 6);
  });

  it('does not let duplicates hide loss, and tolerates reordering', () => {
    const s = new RtpStats();
    feed(s, [0, 1, 3, 2, 2, 5], (i) => i * 20);
    expect(s.snapshot()).toMatchObject({ received: 5, expected: 6, lost: 1, duplicates: 1 });
  });

  it('estimates jitter with the 1/16 gain: alternating 0/10 ms delays converge near 10 ms', () => {
    const s = new RtpStats();
    feed(s, Array.from({ length: 400 }, (_, i) => i), (i) => i * 20 + (i % 2) * 10);
    expect(s.snapshot().jitterMs).toBeGreaterThan(9);
    expect(s.snapshot().jitterMs).toBeLessThan(10.01);
  });

  it('restarts counts on reset and combines streams', () => {
    const s = new RtpStats();
    feed(s, [0, 2], (i) => i * 20);
    s.reset();
    feed(s, [3, 4, 5], (i) => i * 20, 0);
    expect(s.snapshot()).toMatchObject({ received: 3, expected: 3, lost: 0 });
    const other = new RtpStats();
    feed(other, [0, 1, 3], (i) => i * 20);
    const all = combineStats([s.snapshot(), other.snapshot()]);
    expect(all).toMatchObject({ received: 6, expected: 7, lost: 1 });
    expect(() => new RtpStats(0)).toThrow(TypeError);
  });
});
