/**
 * One werift RTCPeerConnection set up for audio-only bench traffic on
 * loopback: Opus, the MID header extension, host candidates on 127.0.0.1
 * only, no STUN. It publishes Opus frames from the shared pacer and counts
 * what it receives per remote SSRC (loss and jitter, RtpStats).
 */
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, useSdesMid, type RTCRtpTransceiver } from 'werift';
import { FRAME_TICKS, type Pacer } from './opusSource.js';
import { RtpStats } from './RtpStats.js';

export type AudioPeerOptions = {
  /** Opus payload type to offer (mediasoup's router uses 100; Janus takes what it is offered). */
  opusPayloadType?: number;
  /** Local IPv4 address to gather host candidates on (default 127.0.0.1). */
  host?: string;
};

export class AudioPeer {
  readonly pc: RTCPeerConnection;
  /** Receive statistics per remote SSRC. */
  readonly streams = new Map<number, RtpStats>();
  /** Arrival of the first packet of any stream (performance.now() clock), null until then. */
  firstPacketAt: number | null = null;
  #firstWaiters: Array<(at: number) => void> = [];
  #stopSending: (() => void) | null = null;
  #closed = false;

  constructor(options: AudioPeerOptions = {}) {
    this.pc = new RTCPeerConnection({
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: options.opusPayloadType ?? 100, parameters: 'minptime=10;useinbandfec=1' })],
        video: [],
      },
      headerExtensions: { audio: [useSdesMid()], video: [] },
      iceUseIpv4: true,
      iceUseIpv6: false,
      iceUseTcp: false,
      iceInterfaceAddresses: { udp4: options.host ?? '127.0.0.1' },
      iceAdditionalHostAddresses: [options.host ?? '127.0.0.1'],
    });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.#onRtp(rtp));
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

  #onRtp(rtp: RtpPacket): void {
    const now = performance.now();
    const ssrc = rtp.header.ssrc;
    let stats = this.streams.get(ssrc);
    if (!stats) {
      stats = new RtpStats(48000);
      this.streams.set(ssrc, stats);
      if (this.firstPacketAt === null) {
        this.firstPacketAt = now;
        for (const w of this.#firstWaiters.splice(0)) w(now);
      }
    }
    stats.onPacket(rtp.header.sequenceNumber, rtp.header.timestamp, now);
  }
}
