/**
 * One mediasoup session on one socket: the Device, a send and a recv transport, our producers
 * and the consumers of other peers' producers. A reconnect throws the Call away and builds a new
 * one (the server's media for the old socket is gone); local tracks outlive it.
 */

import { Device } from 'mediasoup-client';
import type { types as ms } from 'mediasoup-client';
import type { MediaKind, ProducerInfo, TransportOptions, VideoLayout } from '../protocol/messages.js';
import { ClientError, toClientError } from './errors.js';
import { Emitter } from './events.js';
import type { SignalingClient } from './signaling.js';
import { preferredVideoCodec, type VideoSendSettings } from './videoEncodings.js';

/** A remote track we receive. */
export type RemoteMedia = {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: MediaKind;
  /** 'mic', 'cam', 'screen' or 'translation:<lang>'. */
  source: string;
  track: MediaStreamTrack;
};

/** What this page receives of one remote audio (for the debug hook and tests): inbound-rtp totals. */
export type InboundAudio = { peerId: string; producerId: string; consumerId: string; source: string; bytesReceived: number; packetsReceived: number; totalAudioEnergy: number };

/** What this page encodes of one layer of a video it sends (for the debug hook and tests). */
export type OutboundVideo = { source: string; rid: string | null; frameWidth: number; frameHeight: number; framesEncoded: number; qualityLimitationReason: string | null };

/** What a viewer's page decodes of one video consumer (for the debug hook and tests). */
export type InboundVideo = { consumerId: string; producerId: string; peerId: string; source: string; frameWidth: number; frameHeight: number; framesDecoded: number; bytesReceived: number };

export type CallEvents = {
  consumeradded: [RemoteMedia];
  consumerremoved: [RemoteMedia];
  /** A transport failed: media cannot flow until the session reconnects. */
  transportfailed: ['send' | 'recv'];
  /** Something went wrong that does not end the call (a consume that failed, ...). */
  error: [ClientError];
};

type ConsumerEntry = { media: RemoteMedia; consumer: ms.Consumer };

export class Call extends Emitter<CallEvents> {
  readonly #signaling: SignalingClient;
  readonly #device: Device;
  readonly #send: ms.Transport;
  readonly #recv: ms.Transport;
  /** Our producers by source ('mic', 'cam'). */
  readonly #producers = new Map<string, ms.Producer>();
  /** Consumers by producer id. */
  readonly #consumers = new Map<string, ConsumerEntry>();
  /** Producer ids with a consume in flight. */
  readonly #consuming = new Set<string>();
  #closed = false;

  /** Loads a fresh Device with the router's capabilities and creates both transports (through `ice`'s TURN servers if any). */
  static async create(signaling: SignalingClient, routerRtpCapabilities: unknown, ice: IceSettings = { iceServers: [], iceTransportPolicy: 'all' }): Promise<Call> {
    const device = new Device();
    await device.load({ routerRtpCapabilities: routerRtpCapabilities as ms.RtpCapabilities });
    const [sendOptions, recvOptions] = await Promise.all([
      signaling.request('createTransport', { direction: 'send' }),
      signaling.request('createTransport', { direction: 'recv' }),
    ]);
    const send = device.createSendTransport({ ...toTransportOptions(sendOptions), ...ice });
    const recv = device.createRecvTransport({ ...toTransportOptions(recvOptions), ...ice });
    return new Call(signaling, device, send, recv);
  }

  private constructor(signaling: SignalingClient, device: Device, send: ms.Transport, recv: ms.Transport) {
    super();
    this.#signaling = signaling;
    this.#device = device;
    this.#send = send;
    this.#recv = recv;
    for (const transport of [send, recv]) {
      transport.on('connect', ({ dtlsParameters }, callback, errback) => {
        signaling
          .request('connectTransport', { transportId: transport.id, dtlsParameters })
          .then(() => callback(), errback);
      });
      transport.on('connectionstatechange', (state) => {
        if (state === 'failed' && !this.#closed) this.emit('transportfailed', transport.direction);
      });
    }
    send.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = typeof appData['source'] === 'string' ? appData['source'] : kind === 'audio' ? 'mic' : 'cam';
      const video = appData['video'] as VideoLayout | undefined;
      signaling
        .request('produce', { transportId: send.id, kind, rtpParameters, source, ...(video ? { video } : {}) })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  canProduce(kind: MediaKind): boolean {
    return this.#device.canProduce(kind);
  }

  /**
   * Sends `track` as `source` (video with `video`'s simulcast layers, in the browser's preferred codec);
   * replaces an earlier producer of the same source. Returns the producer id.
   */
  async produce(track: MediaStreamTrack, source: string, paused = false, video?: VideoSendSettings): Promise<string> {
    this.#assertOpen();
    await this.closeProducer(source);
    const codec = video ? preferredVideoCodec(this.#device.rtpCapabilities.codecs ?? [], browserVideoCodecs()) : undefined;
    const producer = await this.#send.produce({
      track,
      stopTracks: false,
      zeroRtpOnPause: true,
      appData: { source, ...(video ? { video: video.layout } : {}) },
      ...(track.kind === 'audio' ? { codecOptions: { opusStereo: false, opusFec: true } } : {}),
      ...(video ? { encodings: video.encodings, codecOptions: { videoGoogleStartBitrate: 1000 }, ...(codec ? { codec } : {}) } : {}),
    });
    if (this.#closed) {
      producer.close();
      throw new ClientError('ERR_WRONG_STATE', 'Call closed while producing');
    }
    this.#producers.set(source, producer);
    producer.on('transportclose', () => this.#producers.delete(source));
    if (paused) await this.setPaused(source, true);
    return producer.id;
  }

  producerId(source: string): string | null {
    return this.#producers.get(source)?.id ?? null;
  }

  /** Stops sending `source` (client and server side). No-op when there is no such producer. */
  async closeProducer(source: string): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    this.#producers.delete(source);
    producer.close();
    if (!this.#closed) await this.#signaling.request('closeProducer', { producerId: producer.id });
  }

  /** The server closed our producer of `source` (e.g. a permission was taken away): close it here only. */
  forgetProducer(source: string): void {
    const producer = this.#producers.get(source);
    this.#producers.delete(source);
    producer?.close();
  }

  /**
   * Pauses or resumes `source` locally first (so muting is immediate), then on the server unless
   * `tellServer` is false (the server did it already, e.g. a moderator's mute).
   */
  async setPaused(source: string, paused: boolean, tellServer = true): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer || this.#closed) return;
    if (paused) producer.pause();
    else producer.resume();
    if (!tellServer) return;
    await this.#signaling.request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
  }

  /**
   * Consumes a producer of another peer unless already done; errors are emitted, not thrown, except
   * `quiet` ones (a re-consume that finds the producer gone has nothing to report).
   */
  async ensureConsumer(info: ProducerInfo, quiet: readonly string[] = []): Promise<void> {
    const { producerId } = info;
    if (this.#closed || this.#consumers.has(producerId) || this.#consuming.has(producerId)) return;
    if (!this.#device.loaded) return;
    this.#consuming.add(producerId);
    try {
      const res = await this.#signaling.request('consume', {
        transportId: this.#recv.id,
        producerId,
        rtpCapabilities: this.#device.rtpCapabilities,
      });
      if (this.#closed || !this.#consuming.has(producerId)) {
        // The producer went away (or the call ended) while we waited; the server closes its side.
        return;
      }
      const consumer = await this.#recv.consume({
        id: res.consumerId,
        producerId: res.producerId,
        kind: res.kind,
        rtpParameters: res.rtpParameters as ms.RtpParameters,
        // One stream per peer for mic + camera lets the browser lip-sync them; SDP wants a token.
        ...(info.source === 'mic' || info.source === 'cam' ? { streamId: `peer-${res.peerId.replace(/[^\w-]/g, '_')}` } : {}),
      });
      if (this.#closed || !this.#consuming.has(producerId)) {
        consumer.close();
        return;
      }
      const media: RemoteMedia = {
        consumerId: consumer.id,
        producerId,
        peerId: res.peerId,
        kind: res.kind,
        source: info.source,
        track: consumer.track,
      };
      this.#consumers.set(producerId, { media, consumer });
      consumer.on('transportclose', () => this.#drop(producerId));
      consumer.on('trackended', () => this.#drop(producerId));
      this.emit('consumeradded', media);
      await this.#signaling.request('resumeConsumer', { consumerId: consumer.id });
    } catch (err) {
      const error = toClientError(err);
      if (!this.#closed && !quiet.includes(error.code)) this.emit('error', error);
    } finally {
      this.#consuming.delete(producerId);
    }
  }

  /** The remote producer closed: drop its consumer (or cancel a consume in flight). */
  producerClosed(producerId: string): void {
    this.#consuming.delete(producerId);
    this.#drop(producerId);
  }

  /** The server closed one of our consumers. */
  consumerClosed(consumerId: string): void {
    for (const [producerId, entry] of this.#consumers) {
      if (entry.media.consumerId === consumerId) this.#drop(producerId);
    }
  }

  remoteMedia(): RemoteMedia[] {
    return [...this.#consumers.values()].map((e) => e.media);
  }

  /** The page shows consumer `consumerId` in a tile this large (device pixels), or not at all: the server picks its layer. */
  async setView(consumerId: string, view: { width: number; height: number; visible: boolean }): Promise<void> {
    if (this.#closed) return;
    await this.#signaling.request('setConsumerView', { consumerId, ...view });
  }

  /** What this page encodes of each layer of each video it sends, lowest layer first. */
  async sendStats(): Promise<OutboundVideo[]> {
    const out: OutboundVideo[] = [];
    for (const [source, producer] of this.#producers) {
      if (producer.kind !== 'video' || producer.closed) continue;
      const layers: OutboundVideo[] = [];
      (await producer.getStats()).forEach((s: { type?: string; rid?: string; frameWidth?: number; frameHeight?: number; framesEncoded?: number; qualityLimitationReason?: string }) => {
        if (s.type !== 'outbound-rtp') return;
        layers.push({ source, rid: s.rid ?? null, frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0, framesEncoded: s.framesEncoded ?? 0, qualityLimitationReason: s.qualityLimitationReason ?? null });
      });
      out.push(...layers.sort((a, b) => (a.rid ?? '').localeCompare(b.rid ?? '')));
    }
    return out;
  }

  /** What this page decodes of each video consumer (frame size of the layer it gets now, frames decoded). */
  async videoStats(): Promise<InboundVideo[]> {
    const entries = [...this.#consumers.values()].filter((e) => e.media.kind === 'video' && !e.consumer.closed);
    return Promise.all(
      entries.map(async ({ media, consumer }) => {
        const out: InboundVideo = { consumerId: media.consumerId, producerId: media.producerId, peerId: media.peerId, source: media.source, frameWidth: 0, frameHeight: 0, framesDecoded: 0, bytesReceived: 0 };
        (await consumer.getStats()).forEach((s: { type?: string; frameWidth?: number; frameHeight?: number; framesDecoded?: number; bytesReceived?: number }) => {
          if (s.type !== 'inbound-rtp') return;
          out.frameWidth = s.frameWidth ?? 0;
          out.frameHeight = s.frameHeight ?? 0;
          out.framesDecoded += s.framesDecoded ?? 0;
          out.bytesReceived += s.bytesReceived ?? 0;
        });
        return out;
      }),
    );
  }

  /** Inbound audio stats of every audio consumer, or only of the consumers of `producerId` (one getStats each). */
  async audioStats(producerId?: string): Promise<InboundAudio[]> {
    const entries = [...this.#consumers.values()].filter((e) => e.media.kind === 'audio' && !e.consumer.closed && (producerId === undefined || e.media.producerId === producerId));
    return Promise.all(
      entries.map(async ({ media, consumer }) => {
        let bytesReceived = 0;
        let packetsReceived = 0;
        let totalAudioEnergy = 0;
        const report = await consumer.getStats();
        report.forEach((stat: { type?: string; bytesReceived?: number; packetsReceived?: number; totalAudioEnergy?: number }) => {
          if (stat.type !== 'inbound-rtp') return;
          bytesReceived += stat.bytesReceived ?? 0;
          packetsReceived += stat.packetsReceived ?? 0;
          totalAudioEnergy += stat.totalAudioEnergy ?? 0;
        });
        return { peerId: media.peerId, producerId: media.producerId, consumerId: media.consumerId, source: media.source, bytesReceived, packetsReceived, totalAudioEnergy };
      }),
    );
  }

  /** The ICE route each transport uses now: the selected pair's local candidate type ('relay' through TURN) and protocols. */
  async iceRoutes(): Promise<IceRoute[]> {
    return Promise.all(
      [this.#send, this.#recv].map(async (transport) => {
        const stats = new Map<string, Record<string, unknown>>();
        (await transport.getStats()).forEach((s: Record<string, unknown>) => stats.set(s['id'] as string, s));
        const pair = [...stats.values()].find((s) => s['type'] === 'candidate-pair' && (s['selected'] === true || s['nominated'] === true) && s['state'] === 'succeeded');
        const local = pair ? stats.get(pair['localCandidateId'] as string) : undefined;
        return {
          direction: transport.direction,
          localType: (local?.['candidateType'] as string | undefined) ?? null,
          protocol: (local?.['protocol'] as string | undefined) ?? null,
          relayProtocol: (local?.['relayProtocol'] as string | undefined) ?? null,
        };
      }),
    );
  }

  /** Closes transports, producers and consumers on this side only. Local tracks are not stopped. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#consuming.clear();
    for (const producerId of [...this.#consumers.keys()]) this.#drop(producerId);
    this.#producers.clear();
    this.#send.close();
    this.#recv.close();
    this.removeAllListeners();
  }

  #drop(producerId: string): void {
    const entry = this.#consumers.get(producerId);
    if (!entry) return;
    this.#consumers.delete(producerId);
    if (!entry.consumer.closed) entry.consumer.close();
    this.emit('consumerremoved', entry.media);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClientError('ERR_WRONG_STATE', 'Call is closed');
  }
}

/** How a transport reaches the server, from getStats() (null until ICE has a selected pair). */
export type IceRoute = { direction: 'send' | 'recv'; localType: string | null; protocol: string | null; relayProtocol: string | null };

/** TURN servers and policy for both transports, as the join response gives them. */
export type IceSettings = { iceServers: RTCIceServer[]; iceTransportPolicy: RTCIceTransportPolicy };

/** The browser's video codecs in its own order of preference (empty when it does not say). */
function browserVideoCodecs(): string[] {
  const caps = typeof RTCRtpSender !== 'undefined' && typeof RTCRtpSender.getCapabilities === 'function' ? RTCRtpSender.getCapabilities('video') : null;
  return caps?.codecs.map((c) => c.mimeType) ?? [];
}

function toTransportOptions(options: TransportOptions): ms.TransportOptions {
  return {
    id: options.id,
    iceParameters: options.iceParameters as ms.IceParameters,
    iceCandidates: options.iceCandidates as ms.IceCandidate[],
    dtlsParameters: options.dtlsParameters as ms.DtlsParameters,
    ...(options.sctpParameters ? { sctpParameters: options.sctpParameters as ms.SctpParameters } : {}),
  };
}
