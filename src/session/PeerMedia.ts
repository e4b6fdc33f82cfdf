import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { Errors, ParleyError, createError, type ErrorDefinition } from '../errors.js';
import type { RoomRouter } from '../media/RoomRouters.js';
import type { VideoLayout } from '../media/video/layers.js';
import { VideoConsumers } from '../media/video/VideoConsumers.js';
import type { MediaKind, TransportOptions } from '../protocol/messages.js';

/**
 * A sender asked for a keyframe is not asked again sooner than this (ms): layer switches and viewers'
 * PLIs arriving together cost one keyframe, not one each.
 */
const KEYFRAME_REQUEST_DELAY_MS = 1000;

export type PeerMediaLimits = { maxTransports: number; maxProducers: number };

export type PeerMediaEvents = {
  transportclosed: [transportId: string];
  /** A consumer closed because its producer went away (not by this peer's request). */
  consumerclosed: [consumerId: string, producerId: string];
};

/**
 * The mediasoup objects of one connected peer: its WebRTC transports (on its
 * worker's WebRtcServer), producers and consumers. Closing cascades to all of them.
 */
export class PeerMedia {
  readonly observer = new EventEmitter<PeerMediaEvents>();
  readonly room: RoomRouter;
  /** The layers of this peer's video consumers (what its page shows decides). */
  readonly video = new VideoConsumers();
  readonly #limits: PeerMediaLimits;
  readonly #transports = new Map<string, types.WebRtcTransport>();
  /** Transports the client connected (their DTLS parameters given); one connect each. */
  readonly #connected = new Set<string>();
  readonly #producers = new Map<string, types.Producer>();
  readonly #consumers = new Map<string, types.Consumer>();
  #closed = false;

  constructor(room: RoomRouter, limits: PeerMediaLimits) {
    this.room = room;
    this.#limits = limits;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get counts(): { transports: number; producers: number; consumers: number } {
    return { transports: this.#transports.size, producers: this.#producers.size, consumers: this.#consumers.size };
  }

  producerIds(): string[] {
    return [...this.#producers.keys()];
  }

  /** This peer's producers, for metrics. */
  producers(): types.Producer[] {
    return [...this.#producers.values()];
  }

  async createTransport(direction: 'send' | 'recv', peerId: string): Promise<TransportOptions> {
    this.#assertOpen();
    if (this.#transports.size >= this.#limits.maxTransports) throw createError(Errors.TRANSPORT_LIMIT, `limit ${this.#limits.maxTransports}`);
    const transport = await this.room.router.createWebRtcTransport({
      webRtcServer: this.room.slot.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 600_000,
      appData: { peerId, direction },
    });
    if (this.#closed) {
      transport.close();
      throw createError(Errors.WRONG_STATE, 'peer left while the transport was being created');
    }
    this.#transports.set(transport.id, transport);
    transport.observer.once('close', () => {
      this.#transports.delete(transport.id);
      this.#connected.delete(transport.id);
      this.observer.emit('transportclosed', transport.id);
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.#transport(transportId);
    // Not dtlsState: a client that applies the answer first may complete ICE, and mediasoup start DTLS,
    // before this request arrives; only a second connect of the same transport is out of order.
    if (this.#connected.has(transportId)) throw createError(Errors.WRONG_STATE, 'transport already connected');
    this.#connected.add(transportId);
    try {
      await clientInput(() => transport.connect({ dtlsParameters }), Errors.INVALID_PARAMS);
    } catch (err) {
      this.#connected.delete(transportId);
      throw err;
    }
  }

  async produce(transportId: string, kind: MediaKind, rtpParameters: types.RtpParameters, appData: Record<string, unknown>): Promise<types.Producer> {
    const transport = this.#transport(transportId);
    if (transport.appData.direction !== 'send') throw createError(Errors.WRONG_STATE, 'produce needs a send transport');
    if (this.#producers.size >= this.#limits.maxProducers) throw createError(Errors.PRODUCER_LIMIT, `limit ${this.#limits.maxProducers}`);
    const producer = await clientInput(() => transport.produce({ kind, rtpParameters, appData, ...(kind === 'video' ? { keyFrameRequestDelay: KEYFRAME_REQUEST_DELAY_MS } : {}) }), Errors.INVALID_PARAMS);
    this.#producers.set(producer.id, producer);
    // Its room and peer actor hear of the close from RoomProducers, which published it.
    producer.observer.once('close', () => this.#producers.delete(producer.id));
    return producer;
  }

  producer(producerId: string): types.Producer {
    const p = this.#producers.get(producerId);
    if (!p) throw createError(Errors.PRODUCER_NOT_FOUND, producerId);
    return p;
  }

  /** Consumes `producerId` (paused; the client resumes it); a video consumer's layers follow its tile (`layout`: the sender's layers). */
  async consume(transportId: string, producerId: string, rtpCapabilities: types.RtpCapabilities, layout: VideoLayout | null = null): Promise<types.Consumer> {
    const transport = this.#transport(transportId);
    if (transport.appData.direction !== 'recv') throw createError(Errors.WRONG_STATE, 'consume needs a recv transport');
    if (!this.room.router.canConsume({ producerId, rtpCapabilities })) throw createError(Errors.CANNOT_CONSUME, producerId);
    const consumer = await clientInput(() => transport.consume({ producerId, rtpCapabilities, paused: true }), Errors.CANNOT_CONSUME);
    this.#consumers.set(consumer.id, consumer);
    consumer.on('producerclose', () => this.observer.emit('consumerclosed', consumer.id, producerId));
    consumer.observer.once('close', () => this.#consumers.delete(consumer.id));
    this.video.add(consumer, layout);
    return consumer;
  }

  /** Closes every consumer (the peer may no longer subscribe); its client is told of each (consumerClosed). */
  closeConsumers(): void {
    for (const [id, consumer] of this.#consumers) {
      consumer.close();
      this.observer.emit('consumerclosed', id, consumer.producerId);
    }
  }

  /** The client pauses or resumes a consumer; a video consumer also stays paused while its tile is hidden. */
  async setConsumerPaused(consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.consumer(consumerId);
    if (this.video.has(consumerId)) return this.video.setClientPaused(consumerId, paused);
    if (paused) await consumer.pause();
    else await consumer.resume();
  }

  consumer(consumerId: string): types.Consumer {
    const c = this.#consumers.get(consumerId);
    if (!c) throw createError(Errors.CONSUMER_NOT_FOUND, consumerId);
    return c;
  }

  /**
   * Caps what this peer receives (bits/s over its recv transports), as a slow downlink would: mediasoup's
   * bandwidth allocation then sends its video consumers lower layers.
   */
  async limitDownlink(bitsPerSecond: number): Promise<void> {
    for (const t of this.#transports.values()) if (t.appData.direction === 'recv') await t.setMaxOutgoingBitrate(bitsPerSecond);
  }

  /** Closes every transport (and so every producer and consumer). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#transports.values()) t.close();
    this.#transports.clear();
    this.#connected.clear();
  }

  #transport(transportId: string): types.WebRtcTransport {
    this.#assertOpen();
    const t = this.#transports.get(transportId);
    if (!t) throw createError(Errors.TRANSPORT_NOT_FOUND, transportId);
    return t;
  }

  #assertOpen(): void {
    if (this.#closed) throw createError(Errors.WRONG_STATE, 'media of this peer is closed');
  }
}

/**
 * mediasoup refuses bad client-supplied parameters (duplicate ssrc, unsupported codec, malformed
 * DTLS) with plain errors: report those as the client's fault, with mediasoup's reason.
 */
async function clientInput<T>(call: () => Promise<T>, def: ErrorDefinition): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ParleyError) throw err;
    throw createError(def, err instanceof Error ? err.message.slice(0, 200) : String(err));
  }
}
