/**
 * A lightweight Parley participant for the bench: the gateway's WebSocket
 * signaling (docs/protocol.md) plus werift peer connections mapped onto
 * mediasoup's ICE-lite WebRtcTransports with bench/clients/sdp.ts. It can
 * publish looped Opus (50 packets/s) and subscribe to the audio producers the
 * room has when it joins, counting loss and jitter per stream.
 */
import { SignalingClient, testToken, type Response } from '../../tests/helpers/signaling.js';
import { AudioPeer } from './AudioPeer.js';
import type { Pacer } from './opusSource.js';
import { offerToIceLite } from './negotiate.js';
import { audioRtpCapabilities, buildRemoteSdp, consumerSection, localDtlsParameters, parseLocalSdp, producerRtpParameters, type IceLiteTransport } from './sdp.js';

export type ParleyJoinOptions = {
  baseUrl: string;
  roomId: string;
  identity: string;
  /** Publish looped Opus through this pacer. */
  publish?: Pacer;
  /** Consume every audio producer present at join time. */
  subscribe?: boolean;
  /** Languages sent with the join (the gateway's defaults otherwise). */
  spokenLanguage?: string;
  listeningLanguage?: string;
};

/** Milestones of one join, performance.now() clock. */
export type JoinTimes = { start: number; wsOpen: number; joined: number; mediaUp?: number };

export class ParleyClient {
  readonly identity: string;
  /** Our peer id in the room. */
  readonly peerId: string;
  readonly times: JoinTimes;
  readonly sendPeer: AudioPeer | null;
  readonly recvPeer: AudioPeer | null;
  /** Remote audio streams this client consumes. */
  readonly consumed: number;
  readonly #sig: SignalingClient;

  private constructor(identity: string, peerId: string, sig: SignalingClient, times: JoinTimes, sendPeer: AudioPeer | null, recvPeer: AudioPeer | null, consumed: number) {
    this.identity = identity;
    this.peerId = peerId;
    this.#sig = sig;
    this.times = times;
    this.sendPeer = sendPeer;
    this.recvPeer = recvPeer;
    this.consumed = consumed;
  }

  /** Connects, joins and sets up media; the clock in `times.start` starts before the WebSocket is opened. */
  static async join(options: ParleyJoinOptions): Promise<ParleyClient> {
    const token = await testToken(options.roomId, options.identity);
    const start = performance.now();
    const sig = await SignalingClient.connect(options.baseUrl);
    const wsOpen = performance.now();
    let sendPeer: AudioPeer | null = null;
    let recvPeer: AudioPeer | null = null;
    try {
      const languages = { ...(options.spokenLanguage ? { spokenLanguage: options.spokenLanguage } : {}), ...(options.listeningLanguage ? { listeningLanguage: options.listeningLanguage } : {}) };
      const join = ok(await sig.request('join', { token, roomId: options.roomId, ...languages }), 'join');
      const joined = performance.now();
      const caps = audioRtpCapabilities(join.routerRtpCapabilities);
      const producers: string[] = options.subscribe
        ? join.peers.flatMap((p: { producers: Array<{ producerId: string; kind: string }> }) => p.producers.filter((x) => x.kind === 'audio').map((x) => x.producerId))
        : [];
      const [send, recv] = await Promise.all([
        options.publish ? setUpSend(sig, options.publish) : null,
        producers.length ? setUpRecv(sig, producers, caps) : null,
      ]);
      sendPeer = send;
      recvPeer = recv;
      return new ParleyClient(options.identity, join.peerId, sig, { start, wsOpen, joined }, sendPeer, recvPeer, producers.length);
    } catch (err) {
      await Promise.all([sendPeer?.close(), recvPeer?.close(), sig.close()]);
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.sendPeer?.close(), this.recvPeer?.close()]);
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

async function setUpSend(sig: SignalingClient, pacer: Pacer): Promise<AudioPeer> {
  const transport = await createTransport(sig, 'send');
  const peer = new AudioPeer();
  try {
    const { transceiver, section } = await offerToIceLite(peer, transport, async (dtlsParameters) => {
      ok(await sig.request('connectTransport', { transportId: transport.id, dtlsParameters }), 'connectTransport send');
    });
    ok(await sig.request('produce', { transportId: transport.id, kind: 'audio', rtpParameters: producerRtpParameters(section), source: 'mic' }), 'produce');
    await peer.connected();
    peer.startSending(transceiver, pacer);
    return peer;
  } catch (err) {
    await peer.close();
    throw err;
  }
}

async function setUpRecv(sig: SignalingClient, producerIds: string[], caps: Record<string, unknown>): Promise<AudioPeer> {
  const transport = await createTransport(sig, 'recv');
  const consumers = await Promise.all(producerIds.map(async (producerId) => ok(await sig.request('consume', { transportId: transport.id, producerId, rtpCapabilities: caps }), 'consume')));
  const peer = new AudioPeer();
  try {
    const offer = buildRemoteSdp(transport, consumers.map((c) => consumerSection(c.rtpParameters)), 'offer');
    await peer.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    // Connect before applying the answer (see negotiate.ts: ICE would otherwise race the request).
    const answer = await peer.pc.createAnswer();
    const local = parseLocalSdp(answer.sdp);
    ok(await sig.request('connectTransport', { transportId: transport.id, dtlsParameters: localDtlsParameters(local) }), 'connectTransport recv');
    await peer.pc.setLocalDescription(answer);
    await Promise.all(consumers.map(async (c) => ok(await sig.request('resumeConsumer', { consumerId: c.consumerId }), 'resumeConsumer')));
    return peer;
  } catch (err) {
    await peer.close();
    throw err;
  }
}
