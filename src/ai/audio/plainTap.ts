/**
 * Taps a producer's RTP out of a mediasoup router: a PlainTransport (rtcp-mux,
 * no comedia) sends a consumer's packets to a UDP socket of ours, and each
 * Opus payload goes to a callback (RTCP and foreign packets are skipped).
 */
import type { Socket } from 'node:dgram';
import { withPlainLink } from './plainLink.js';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { isRtcp, parseRtpPacket, type RtpPacket } from './rtp.js';

export type PlainTapOptions = {
  router: types.Router;
  /** Producer whose audio to receive. */
  producerId: string;
  /** Called for each RTP packet of the consumer, in arrival order, with its arrival time (Date.now()). */
  onPayload: (payload: Buffer, packet: RtpPacket, arrivalMs: number) => void;
  /** Loopback by default: the media never leaves the host. */
  listenIp?: string;
  appData?: Record<string, unknown>;
};

export type PlainTapStats = {
  /** RTP packets delivered. */
  packets: number;
  /** RTCP packets seen (and skipped). */
  rtcp: number;
  /** Datagrams that were neither our consumer's RTP nor RTCP. */
  dropped: number;
};

export type PlainTapEvents = {
  /** Closed by `close()`, or because the producer, transport or router went away. */
  close: [];
};

/** One producer's audio, as Opus payloads on a local UDP socket. */
export class PlainTap extends EventEmitter<PlainTapEvents> {
  readonly transport: types.PlainTransport;
  readonly consumer: types.Consumer;
  readonly stats: PlainTapStats = { packets: 0, rtcp: 0, dropped: 0 };
  /** The payload type the consumer sends Opus with. */
  readonly payloadType: number;
  readonly ssrc: number;
  readonly #socket: Socket;
  #closed = false;

  private constructor(socket: Socket, transport: types.PlainTransport, consumer: types.Consumer, onPayload: PlainTapOptions['onPayload']) {
    super();
    this.#socket = socket;
    this.transport = transport;
    this.consumer = consumer;
    const codec = consumer.rtpParameters.codecs.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    if (!codec || ssrc === undefined) throw new TypeError(`consumer of producer ${consumer.producerId} does not carry Opus`);
    this.payloadType = codec.payloadType;
    this.ssrc = ssrc;
    socket.on('message', (msg) => {
      const arrivalMs = Date.now();
      if (isRtcp(msg)) {
        this.stats.rtcp++;
        return;
      }
      const pkt = parseRtpPacket(msg);
      if (!pkt || pkt.ssrc !== this.ssrc || pkt.payloadType !== this.payloadType) {
        this.stats.dropped++;
        return;
      }
      this.stats.packets++;
      onPayload(pkt.payload, pkt, arrivalMs);
    });
    consumer.on('producerclose', () => this.close());
    consumer.on('transportclose', () => this.close());
    transport.on('routerclose', () => this.close());
  }

  /** Binds the socket, creates and connects the transport, then consumes the producer (audio flows at once). */
  static async create(options: PlainTapOptions): Promise<PlainTap> {
    const { router, producerId } = options;
    const ip = options.listenIp ?? '127.0.0.1';
    if (!router.canConsume({ producerId, rtpCapabilities: router.rtpCapabilities })) {
      throw new TypeError(`cannot consume producer ${producerId} on router ${router.id}`);
    }
    return withPlainLink(router, ip, options.appData ?? {}, async ({ socket, transport }) => {
      const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities, paused: false });
      return new PlainTap(socket, transport, consumer, options.onPayload);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where mediasoup sends from and we send to (for tests and logs). */
  get localPort(): number {
    return this.#socket.address().port;
  }

  /** Closes consumer, transport and socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.consumer.close();
    this.transport.close();
    this.#socket.close();
    this.emit('close');
  }
}
