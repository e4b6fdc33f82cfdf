/**
 * A small SDP mapper between mediasoup's transport/RTP parameters and a
 * WebRTC stack's offer/answer (werift here). Opus audio and VP8 video, BUNDLE,
 * rtcp-mux, UDP candidates only: what the bench clients need, nothing more.
 *
 * mediasoup's WebRtcTransport is ICE-lite and, as used here, always the DTLS
 * server: the remote side we describe says `setup:passive` in an answer and
 * `setup:actpass` in an offer (the client answers `active`).
 */

export const MID_EXTENSION_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';

/** What `createTransport` answers (mediasoup's WebRtcTransport parameters). */
export type IceLiteTransport = {
  iceParameters: { usernameFragment: string; password: string; iceLite?: boolean };
  iceCandidates: Array<{ foundation: string; priority: number; ip?: string; address?: string; protocol: 'udp' | 'tcp'; port: number; type: string }>;
  dtlsParameters: { role?: string; fingerprints: Array<{ algorithm: string; value: string }> };
};

export type HeaderExtension = { id: number; uri: string };

export type MediaKind = 'audio' | 'video';

/** One m-section as the remote (mediasoup) side describes it. */
export type RemoteSection = {
  /** 'audio' (Opus) when absent; 'video' is VP8. */
  kind?: MediaKind;
  mid: string;
  payloadType: number;
  /** The remote sends (a consumer): 'sendonly'; the remote receives (a producer): 'recvonly'. */
  direction: 'sendonly' | 'recvonly';
  extensions: HeaderExtension[];
  /** SSRC and CNAME the remote sends with (consumers only). */
  ssrc?: number;
  cname?: string;
};

/** What a local (client) SDP says about one audio or video m-section. */
export type LocalSection = { mid: string; payloadType: number; ssrc?: number; cname?: string; extensions: HeaderExtension[] };

export type LocalSdp = {
  fingerprint: { algorithm: string; value: string };
  setup: 'active' | 'passive' | 'actpass';
  audio: LocalSection[];
  /** Video sections (VP8 payload type). */
  video: LocalSection[];
};

/** Builds the SDP of the mediasoup side: an answer to the client's offer, or an offer the client answers. */
export function buildRemoteSdp(transport: IceLiteTransport, sections: RemoteSection[], type: 'offer' | 'answer', sessionVersion = 1): string {
  const fingerprint = pickFingerprint(transport.dtlsParameters.fingerprints);
  const candidates = transport.iceCandidates.filter((c) => c.protocol === 'udp');
  if (candidates.length === 0) throw new TypeError('transport has no UDP ICE candidate');
  const lines = [
    'v=0',
    `o=- 10000 ${sessionVersion} IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${sections.map((s) => s.mid).join(' ')}`,
    'a=msid-semantic: WMS *',
    `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
  ];
  for (const section of sections) {
    const first = candidates[0]!;
    const kind = section.kind ?? 'audio';
    lines.push(
      `m=${kind} ${first.port} UDP/TLS/RTP/SAVPF ${section.payloadType}`,
      `c=IN IP4 ${first.ip ?? first.address}`,
      `a=mid:${section.mid}`,
      `a=${section.direction}`,
      `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
      `a=ice-pwd:${transport.iceParameters.password}`,
      ...candidates.map((c) => `a=candidate:${c.foundation} 1 udp ${c.priority} ${c.ip ?? c.address} ${c.port} typ host`),
      'a=end-of-candidates',
      `a=setup:${type === 'answer' ? 'passive' : 'actpass'}`,
      'a=rtcp-mux',
      'a=rtcp-rsize',
      ...codecLines(kind, section.payloadType),
      ...section.extensions.map((e) => `a=extmap:${e.id} ${e.uri}`),
    );
    if (section.ssrc !== undefined) {
      const cname = section.cname ?? 'sfu';
      lines.push(`a=msid:${cname} ${section.mid}`, `a=ssrc:${section.ssrc} cname:${cname}`, `a=ssrc:${section.ssrc} msid:${cname} ${section.mid}`);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

function codecLines(kind: MediaKind, pt: number): string[] {
  if (kind === 'video') return [`a=rtpmap:${pt} VP8/90000`, `a=rtcp-fb:${pt} nack`, `a=rtcp-fb:${pt} nack pli`];
  return [`a=rtpmap:${pt} opus/48000/2`, `a=fmtp:${pt} minptime=10;useinbandfec=1`];
}

/** Reads the parts of a local SDP the mediasoup side needs (fingerprint, setup role, audio and video sections). */
export function parseLocalSdp(sdp: string): LocalSdp {
  const lines = sdp.split(/\r?\n/).filter(Boolean);
  let fingerprint: LocalSdp['fingerprint'] | undefined;
  let setup: LocalSdp['setup'] | undefined;
  const audio: LocalSection[] = [];
  const video: LocalSection[] = [];
  let current: LocalSection | null = null;
  let codec = /opus\/48000/i;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const kind = line.startsWith('m=audio') ? audio : line.startsWith('m=video') ? video : null;
      codec = kind === video ? /VP8\/90000/i : /opus\/48000/i;
      current = kind ? { mid: '', payloadType: -1, extensions: [] } : null;
      if (current) kind!.push(current);
      continue;
    }
    const attr = /^a=([^:]+)(?::(.*))?$/.exec(line);
    if (!attr) continue;
    const [, name, value = ''] = attr;
    if (name === 'fingerprint' && !fingerprint) {
      const [algorithm, hash] = value.split(' ');
      fingerprint = { algorithm: algorithm!.toLowerCase(), value: hash! };
    } else if (name === 'setup' && !setup) {
      setup = value as LocalSdp['setup'];
    } else if (current && name === 'mid') {
      current.mid = value;
    } else if (current && name === 'rtpmap' && codec.test(value) && current.payloadType < 0) {
      current.payloadType = Number(value.split(' ')[0]);
    } else if (current && name === 'extmap') {
      const [id, uri] = value.split(' ');
      current.extensions.push({ id: Number(id!.split('/')[0]), uri: uri! });
    } else if (current && name === 'ssrc' && current.ssrc === undefined) {
      const m = /^(\d+) cname:(.+)$/.exec(value);
      if (m) {
        current.ssrc = Number(m[1]);
        current.cname = m[2];
      }
    }
  }
  if (!fingerprint) throw new TypeError('local SDP has no a=fingerprint');
  if (!setup) throw new TypeError('local SDP has no a=setup');
  return { fingerprint, setup, audio, video };
}

/** mediasoup `dtlsParameters` for `connectTransport` from the local SDP (the client's DTLS role follows its a=setup). */
export function localDtlsParameters(local: LocalSdp): { role: 'client' | 'server'; fingerprints: Array<{ algorithm: string; value: string }> } {
  return { role: local.setup === 'passive' ? 'server' : 'client', fingerprints: [local.fingerprint] };
}

/** mediasoup `rtpParameters` for `produce` from the local offer's audio section. */
export function producerRtpParameters(section: LocalSection): Record<string, unknown> {
  if (section.ssrc === undefined) throw new TypeError(`audio section ${section.mid} has no SSRC`);
  if (section.payloadType < 0) throw new TypeError(`audio section ${section.mid} has no Opus codec`);
  return {
    mid: section.mid,
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: section.payloadType,
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1 },
        rtcpFeedback: [],
      },
    ],
    headerExtensions: section.extensions.filter((e) => e.uri === MID_EXTENSION_URI),
    encodings: [{ ssrc: section.ssrc }],
    rtcp: { cname: section.cname ?? 'bench', reducedSize: true },
  };
}

type RouterCaps = { codecs?: Array<Record<string, any>>; headerExtensions?: Array<Record<string, any>> };

/** Opus-only `rtpCapabilities` for `consume`, taking payload type and extension ids from the router's. */
export function audioRtpCapabilities(router: RouterCaps): Record<string, unknown> {
  const opus = router.codecs?.find((c) => String(c.mimeType).toLowerCase() === 'audio/opus');
  if (!opus) throw new TypeError('router offers no Opus codec');
  const mid = router.headerExtensions?.find((e) => e.kind === 'audio' && e.uri === MID_EXTENSION_URI);
  return {
    codecs: [{ kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: opus.preferredPayloadType, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
    headerExtensions: mid ? [{ kind: 'audio', uri: MID_EXTENSION_URI, preferredId: mid.preferredId, direction: 'sendrecv' }] : [],
  };
}

/** VP8-only video `rtpCapabilities` for `consume` (no RTX, no bandwidth-estimation feedback: each consumer gets its preferred layer). */
export function vp8RtpCapabilities(router: RouterCaps): Record<string, unknown> {
  const vp8 = router.codecs?.find((c) => String(c.mimeType).toLowerCase() === 'video/vp8');
  if (!vp8) throw new TypeError('router offers no VP8 codec');
  const mid = router.headerExtensions?.find((e) => e.kind === 'video' && e.uri === MID_EXTENSION_URI);
  return {
    codecs: [{ kind: 'video', mimeType: 'video/VP8', preferredPayloadType: vp8.preferredPayloadType, clockRate: 90000, parameters: {}, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
    headerExtensions: mid ? [{ kind: 'video', uri: MID_EXTENSION_URI, preferredId: mid.preferredId, direction: 'sendrecv' }] : [],
  };
}

/**
 * mediasoup `rtpParameters` for a VP8 simulcast producer: one encoding per layer SSRC (lowest first), sent
 * with the payload type, MID and MID extension id the local section `section` negotiated.
 */
export function simulcastRtpParameters(section: LocalSection, ssrcs: number[]): Record<string, unknown> {
  const payloadType = section.payloadType;
  if (payloadType < 0) throw new TypeError(`video section ${section.mid} has no VP8 codec`);
  return {
    mid: section.mid,
    codecs: [{ mimeType: 'video/VP8', payloadType, clockRate: 90000, parameters: {}, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }],
    headerExtensions: section.extensions.filter((e) => e.uri === MID_EXTENSION_URI),
    encodings: ssrcs.map((ssrc) => ({ ssrc, scalabilityMode: 'L1T1' })),
    rtcp: { cname: section.cname ?? 'bench', reducedSize: true },
  };
}

/** The remote m-section that describes a mediasoup consumer (what the client receives). */
export function consumerSection(rtp: { mid?: string; codecs: Array<{ payloadType: number }>; encodings?: Array<{ ssrc?: number }>; headerExtensions?: HeaderExtension[]; rtcp?: { cname?: string } }, kind: MediaKind = 'audio'): RemoteSection {
  if (rtp.mid === undefined) throw new TypeError('consumer rtpParameters carry no mid');
  return {
    kind,
    mid: rtp.mid,
    payloadType: rtp.codecs[0]!.payloadType,
    direction: 'sendonly',
    extensions: (rtp.headerExtensions ?? []).filter((e) => e.uri === MID_EXTENSION_URI),
    ssrc: rtp.encodings?.[0]?.ssrc,
    cname: rtp.rtcp?.cname,
  };
}

function pickFingerprint(fingerprints: IceLiteTransport['dtlsParameters']['fingerprints']): { algorithm: string; value: string } {
  const fp = fingerprints.find((f) => f.algorithm === 'sha-256') ?? fingerprints[0];
  if (!fp) throw new TypeError('transport has no DTLS fingerprint');
  return fp;
}
