/**
 * A lightweight Parley participant for the bench: the gateway's WebSocket
 * signaling (docs/protocol.md) plus werift peer connections mapped onto
 * mediasoup's ICE-lite WebRtcTransports with bench/clients/sdp.ts. It can
 * publish looped Opus (50 packets/s) or synthetic VP8 simulcast (three layers,
 * vp8Source.ts), and subscribe to the audio or video producers the room has
 * when it joins (video at a chosen layer, through the tile it reports),
 * counting loss and jitter per stream.
 */
import { SignalingClient, testToken, type Response } from '../../src/devkit/signaling.js';
import { bothSides, layerSsrcs, negotiated, SignaledClient, startPublishing, timedJoin, type ClientMedia } from './BenchClient.js';
import { MediaPeer } from './MediaPeer.js';
import type { Pacer } from './opusSource.js';
import { offerToIceLite } from './negotiate.js';
import { audioRtpCapabilities, buildRemoteSdp, consumerSection, localDtlsParameters, parseLocalSdp, producerRtpParameters, simulcastRtpParameters, vp8RtpCapabilities, type IceLiteTransport, type MediaKind } from './sdp.js';
import { CAMERA_LAYERS, type VideoPacer } from './vp8Source.js';

export type { JoinTimes } from './BenchClient.js';

export type ParleyJoinOptions = {
  baseUrl: string;
  roomId: string;
  identity: string;
  /** The join token; left out, one is signed with the tests' secret (a gateway the bench started). */
  token?: string;
  /** Local IPv4 address the peer connections gather candidates on (default 127.0.0.1: loopback gateways). */
  host?: string;
  /** Publish looped Opus through this pacer. */
  publish?: Pacer;
  /** Publish synthetic VP8 simulcast (a camera) through this pacer. */
  publishVideo?: VideoPacer;
  /** Consume every producer of `kind` present at join time. */
  subscribe?: boolean;
  /** What to consume (default audio). */
  kind?: MediaKind;
  /** Video: the spatial layer to receive, by reporting a tile of that layer's size (default: the top one). */
  layer?: number;
  /** Do not consume the producers of the peer with this display name (a participant does not watch itself). */
  skip?: string;
  /** Languages sent with the join (the gateway's defaults otherwise). */
  spokenLanguage?: string;
  listeningLanguage?: string;
};

export class ParleyClient extends SignaledClient {
  /** Our peer id in the room. */
  readonly peerId: string;
  readonly #sig: SignalingClient;

  private constructor(identity: string, peerId: string, sig: SignalingClient, media: ClientMedia) {
    super(identity, media);
    this.peerId = peerId;
    this.#sig = sig;
  }

  /** Connects, joins and sets up media; the clock in `times.start` starts before the WebSocket is opened. */
  static async join(options: ParleyJoinOptions): Promise<ParleyClient> {
    const token = options.token ?? (await testToken(options.roomId, options.identity));
    return timedJoin(() => SignalingClient.connect(options.baseUrl), (sig) => sig.close(), async (sig, clock) => {
      const languages = { ...(options.spokenLanguage ? { spokenLanguage: options.spokenLanguage } : {}), ...(options.listeningLanguage ? { listeningLanguage: options.listeningLanguage } : {}) };
      const join = ok(await sig.request('join', { token, roomId: options.roomId, ...languages }), 'join');
      const joined = performance.now();
      const kind = options.kind ?? 'audio';
      const caps = kind === 'video' ? vp8RtpCapabilities(join.routerRtpCapabilities) : audioRtpCapabilities(join.routerRtpCapabilities);
      type Listed = { displayName: string; producers: Array<{ producerId: string; kind: string }> };
      const producers: string[] = options.subscribe
        ? (join.peers as Listed[]).filter((p) => p.displayName !== options.skip).flatMap((p) => p.producers.filter((x) => x.kind === kind).map((x) => x.producerId))
        : [];
      const host = options.host;
      const [sendPeer, recvPeer] = await bothSides(
        options.publish ? setUpSend(sig, options.publish, host) : options.publishVideo ? setUpVideoSend(sig, options.publishVideo, vp8PayloadType(join.routerRtpCapabilities), host) : null,
        producers.length ? setUpRecv(sig, producers, caps, kind, options.layer, host) : null,
      );
      return new ParleyClient(options.identity, join.peerId, sig, { times: { ...clock, joined }, sendPeer, recvPeer, consumed: producers.length });
    });
  }

  protected async closeSignaling(): Promise<void> {
    await this.#sig.request('leave', {}, 3000).catch(() => undefined);
    await this.#sig.close().catch(() => undefined);
  }
}

function ok(res: Response, what: string): any {
  if (!res.ok) throw new Error(`${what} failed: ${res.error?.code} ${res.error?.message}`);
  return res.data;
}

async function createTransport(sig: SignalingClient, direction: 'send' | 'recv'): Promise<IceLiteTransport & { id: string }> {
  return ok(await sig.request('createTransport', { direction }), `createTransport ${direction}`);
}

async function setUpSend(sig: SignalingClient, pacer: Pacer, host?: string): Promise<MediaPeer> {
  const transport = await createTransport(sig, 'send');
  return negotiated(new MediaPeer({ host }), async (peer) => {
    const { transceiver, section } = await offerToIceLite(peer, transport, async (dtlsParameters) => {
      ok(await sig.request('connectTransport', { transportId: transport.id, dtlsParameters }), 'connectTransport send');
    });
    ok(await sig.request('produce', { transportId: transport.id, kind: 'audio', rtpParameters: producerRtpParameters(section), source: 'mic' }), 'produce');
    await startPublishing(peer, transceiver, { audio: pacer });
  });
}

function vp8PayloadType(router: { codecs?: Array<{ mimeType: string; preferredPayloadType?: number }> }): number {
  const vp8 = router.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
  if (vp8?.preferredPayloadType === undefined) throw new Error('the router offers no VP8 codec');
  return vp8.preferredPayloadType;
}

/** A camera: VP8 simulcast, three layers as the web client sends them (1280x720 scaled by 4, 2, 1). */
async function setUpVideoSend(sig: SignalingClient, pacer: VideoPacer, payloadType: number, host?: string): Promise<MediaPeer> {
  const transport = await createTransport(sig, 'send');
  return negotiated(new MediaPeer({ vp8PayloadType: payloadType, host }), async (peer) => {
    const { transceiver, section } = await offerToIceLite(
      peer,
      transport,
      async (dtlsParameters) => {
        ok(await sig.request('connectTransport', { transportId: transport.id, dtlsParameters }), 'connectTransport send');
      },
      'video',
    );
    const ssrcs = layerSsrcs(pacer);
    const top = pacer.layers[pacer.layers.length - 1]!;
    const video = { width: top.width, height: top.height, scales: pacer.layers.map((l) => top.height / l.height) };
    ok(await sig.request('produce', { transportId: transport.id, kind: 'video', rtpParameters: simulcastRtpParameters(section, ssrcs), source: 'cam', video }), 'produce video');
    await startPublishing(peer, transceiver, { video: pacer, ssrcs, payloadType: section.payloadType, section });
  });
}

async function setUpRecv(sig: SignalingClient, producerIds: string[], caps: Record<string, any>, kind: MediaKind, layer?: number, host?: string): Promise<MediaPeer> {
  const transport = await createTransport(sig, 'recv');
  const consumers = await Promise.all(producerIds.map(async (producerId) => ok(await sig.request('consume', { transportId: transport.id, producerId, rtpCapabilities: caps }), 'consume')));
  return negotiated(new MediaPeer(kind === 'video' ? { vp8PayloadType: caps.codecs[0].preferredPayloadType, host } : { host }), async (peer) => {
    const offer = buildRemoteSdp(transport, consumers.map((c) => consumerSection(c.rtpParameters, kind)), 'offer');
    await peer.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    // Connect before applying the answer (see negotiate.ts: ICE would otherwise race the request).
    const answer = await peer.pc.createAnswer();
    const local = parseLocalSdp(answer.sdp);
    ok(await sig.request('connectTransport', { transportId: transport.id, dtlsParameters: localDtlsParameters(local) }), 'connectTransport recv');
    await peer.pc.setLocalDescription(answer);
    await Promise.all(consumers.map(async (c) => ok(await sig.request('resumeConsumer', { consumerId: c.consumerId }), 'resumeConsumer')));
    if (kind === 'video' && layer !== undefined) {
      // The tile of a layer's own size: the server picks that layer (src/media/video/layers.ts).
      const { width, height } = CAMERA_LAYERS[Math.min(layer, CAMERA_LAYERS.length - 1)]!;
      await Promise.all(consumers.map(async (c) => ok(await sig.request('setConsumerView', { consumerId: c.consumerId, width, height, visible: true }), 'setConsumerView')));
    }
  });
}
