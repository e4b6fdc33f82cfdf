/**
 * One werift RTCPeerConnection set up for bench traffic on loopback: Opus
 * (and VP8 when asked), the MID header extension, host candidates on
 * 127.0.0.1 only, no STUN. It publishes Opus frames from the shared pacer or
 * synthetic VP8 simulcast (vp8Source.ts), and counts what it receives per
 * remote SSRC (loss and jitter, RtpStats).
 */
import { ntpTime, PictureLossIndication, RTCPeerConnection, RTCRtpCodecParameters, RtcpPayloadSpecificFeedback, RtcpSenderInfo, RtcpSrPacket, RtpHeader, RtpPacket, serializeSdesMid, useSdesMid, type RTCRtpTransceiver } from 'werift';
import { FRAME_TICKS, type Pacer } from './opusSource.js';
import { RtpStats } from './RtpStats.js';
import { SyntheticVp8, VIDEO_CLOCK_RATE, type VideoPacer } from './vp8Source.js';

export type MediaPeerOptions = {
  /** Opus payload type to offer (mediasoup's router uses 100; Janus takes what it is offered). */
  opusPayloadType?: number;
  /** Also negotiate VP8 video with this payload type (none by default). */
  vp8PayloadType?: number;
  /** Local IPv4 address to gather host candidates on (default 127.0.0.1). */
  host?: string;
};

/** Where simulcast video goes: one SSRC per layer (lowest first), the VP8 payload type, and the MID to stamp. */
export type SimulcastTarget = { ssrcs: number[]; payloadType: number; mid: string; midExtensionId: number };

export class MediaPeer {
  readonly pc: RTCPeerConnection;
  /** Receive statistics per remote SSRC. */
  readonly streams = new Map<number, RtpStats>();
  /** Arrival of the first packet of any stream (performance.now() clock), null until then. */
  firstPacketAt: number | null = null;
  #firstWaiters: Array<(at: number) => void> = [];
  #stopSending: (() => void) | null = null;
  #closed = false;

  constructor(options: MediaPeerOptions = {}) {
    this.pc = new RTCPeerConnection({
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: options.opusPayloadType ?? 100, parameters: 'minptime=10;useinbandfec=1' })],
        video: options.vp8PayloadType === undefined ? [] : [vp8Codec(options.vp8PayloadType)],
      },
      headerExtensions: { audio: [useSdesMid()], video: [useSdesMid()] },
      iceUseIpv4: true,
      iceUseIpv6: false,
      iceUseTcp: false,
      iceInterfaceAddresses: { udp4: options.host ?? '127.0.0.1' },
      iceAdditionalHostAddresses: [options.host ?? '127.0.0.1'],
    });
    this.pc.onTrack.subscribe((track) => {
      const clockRate = track.kind === 'video' ? VIDEO_CLOCK_RATE : 48000;
      track.onReceiveRtp.subscribe((rtp) => this.#onRtp(rtp, clockRate));
    });
  }

  /** Adds a send-only audio transceiver (call before creating the offer). */
  addSender(): RTCRtpTransceiver {
    return this.pc.addTransceiver('audio', { direction: 'sendonly' });
  }

  /** Sends the pacer's Opus frames on `transceiver` (RTP timestamps follow the frame index). */
  startSending(transceiver: RTCRtpTransceiver, pacer: Pacer): void {
    if (this.#stopSending) return;
    const base = Math.floor(Math.random() * 0xffff);
    this.#stopSending = pacer.add((frame, index) => {
      const header = new RtpHeader({ sequenceNumber: (base + index) & 0xffff, timestamp: ((base + index) * FRAME_TICKS) >>> 0, marker: false, payloadType: 100 });
      void transceiver.sender.sendRtp(new RtpPacket(header, frame)).catch(() => undefined);
    });
  }

  /** Adds a send-only video transceiver (needs `vp8PayloadType`; call before creating the offer). */
  addVideoSender(): RTCRtpTransceiver {
    return this.pc.addTransceiver('video', { direction: 'sendonly' });
  }

  /**
   * Sends every layer of the pacer's VP8 simulcast on the connection's DTLS transport, one SSRC per layer
   * (werift's own sender sends one SSRC; the SFU learns the layers' SSRCs from signaling or the SDP), with
   * an RTCP sender report per layer every second as a browser sends them: an SFU aligns the layers'
   * timestamps from those reports, and mediasoup does not switch a viewer between layers without them.
   */
  startSimulcast(transceiver: RTCRtpTransceiver, pacer: VideoPacer, target: SimulcastTarget): void {
    if (this.#stopSending) return;
    const dtls = transceiver.sender.dtlsTransport;
    const mid = serializeSdesMid(target.mid);
    const seqs = target.ssrcs.map(() => Math.floor(Math.random() * 0xffff));
    const sent = target.ssrcs.map(() => ({ packets: 0, octets: 0 }));
    const base = Math.floor(Math.random() * 0xffffffff);
    const camera = new SyntheticVp8(pacer.layers);
    const onRtcp = dtls.onRtcp.subscribe((packet) => {
      if (!(packet instanceof RtcpPayloadSpecificFeedback)) return;
      const fb = packet.feedback;
      if (fb instanceof PictureLossIndication) camera.requestKeyFrame(target.ssrcs.indexOf(fb.mediaSsrc));
      else if ('fir' in fb) for (const entry of fb.fir) camera.requestKeyFrame(target.ssrcs.indexOf(entry.ssrc));
    });
    let last: { at: number; timestamp: number } | null = null;
    const reports = setInterval(() => {
      if (!last) return;
      const rtpTimestamp = (base + last.timestamp + Math.round(((performance.now() - last.at) * VIDEO_CLOCK_RATE) / 1000)) >>> 0;
      const packets = target.ssrcs.map((ssrc, layer) => new RtcpSrPacket({ ssrc, senderInfo: new RtcpSenderInfo({ ntpTimestamp: ntpTime(), rtpTimestamp, packetCount: sent[layer]!.packets, octetCount: sent[layer]!.octets }) }));
      void dtls.sendRtcp(packets).catch(() => undefined);
    }, 1000);
    const stopFrames = pacer.add((index) => {
      const frames = camera.frames(index);
      last = { at: performance.now(), timestamp: frames[0]?.timestamp ?? 0 };
      for (const frame of frames) {
        const ssrc = target.ssrcs[frame.layer];
        if (ssrc === undefined) continue;
        const counts = sent[frame.layer]!;
        counts.packets += frame.payloads.length;
        for (const p of frame.payloads) counts.octets += p.length;
        frame.payloads.forEach((payload, i) => {
          const header = new RtpHeader({
            ssrc,
            payloadType: target.payloadType,
            sequenceNumber: (seqs[frame.layer] = (seqs[frame.layer]! + 1) & 0xffff),
            timestamp: (base + frame.timestamp) >>> 0,
            marker: i === frame.payloads.length - 1,
            extension: true,
            extensions: [{ id: target.midExtensionId, payload: mid }],
          });
          void dtls.sendRtp(payload, header).catch(() => undefined);
        });
      }
    });
    this.#stopSending = () => {
      clearInterval(reports);
      onRtcp.unSubscribe();
      stopFrames();
    };
  }

  /** Waits until ICE and DTLS are up (the connection state is 'connected'). */
  async connected(timeoutMs = 15_000): Promise<void> {
    if (this.pc.connectionState === 'connected') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unSubscribe();
        reject(new Error(`peer connection not connected after ${timeoutMs} ms (state ${this.pc.connectionState}, ice ${this.pc.iceConnectionState})`));
      }, timeoutMs);
      const sub = this.pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          sub.unSubscribe();
          resolve();
        } else if (state === 'failed' || state === 'closed') {
          clearTimeout(timer);
          sub.unSubscribe();
          reject(new Error(`peer connection ${state}`));
        }
      });
    });
  }

  /** Resolves with the first packet's arrival time (at once when it already came). */
  firstPacket(timeoutMs = 10_000): Promise<number> {
    if (this.firstPacketAt !== null) return Promise.resolve(this.firstPacketAt);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no RTP packet received in ${timeoutMs} ms`)), timeoutMs);
      this.#firstWaiters.push((at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }

  /** Restarts every stream's counters (end of warm-up). */
  resetStats(): void {
    for (const s of this.streams.values()) s.reset();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopSending?.();
    await this.pc.close().catch(() => undefined);
  }

  #onRtp(rtp: RtpPacket, clockRate: number): void {
    const now = performance.now();
    const ssrc = rtp.header.ssrc;
    let stats = this.streams.get(ssrc);
    if (!stats) {
      stats = new RtpStats(clockRate);
      this.streams.set(ssrc, stats);
      if (this.firstPacketAt === null) {
        this.firstPacketAt = now;
        for (const w of this.#firstWaiters.splice(0)) w(now);
      }
    }
    stats.onPacket(rtp.header.sequenceNumber, rtp.header.timestamp, now);
  }
}

function vp8Codec(payloadType: number): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: VIDEO_CLOCK_RATE, payloadType, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] });
}
