/**
 * What the bench's two werift participants (ParleyClient, JanusClient) share, so both SFUs see
 * the same client stack: the join clock, the send and receive MediaPeers set up side by side
 * (neither left open when the other fails), the start of a publisher's stream once its peer
 * connection is up (Opus, or VP8 simulcast stamped with the offer's MID), and close.
 * The signaling (Parley's WebSocket protocol, the Janus API) stays in each client.
 */
import type { RTCRtpTransceiver } from 'werift';
import type { MediaPeer } from './MediaPeer.js';
import type { Pacer } from './opusSource.js';
import { MID_EXTENSION_URI, type LocalSection } from './sdp.js';
import type { VideoPacer } from './vp8Source.js';

/** Milestones of one join, performance.now() clock. */
export type JoinTimes = { start: number; wsOpen: number; joined: number; mediaUp?: number };

/** What ParleyClient and JanusClient have in common (and the load-client processes hold). */
export type BenchClient = { readonly times: JoinTimes; readonly sendPeer: MediaPeer | null; readonly recvPeer: MediaPeer | null; readonly consumed: number; close(): Promise<void> };

/** The media side of a joined client. */
export type ClientMedia = { times: JoinTimes; sendPeer: MediaPeer | null; recvPeer: MediaPeer | null; consumed: number };

/** A joined participant: its peers, and the signaling session a subclass closes after them. */
export abstract class SignaledClient implements BenchClient {
  readonly identity: string;
  readonly times: JoinTimes;
  readonly sendPeer: MediaPeer | null;
  readonly recvPeer: MediaPeer | null;
  /** Remote streams this client consumes. */
  readonly consumed: number;

  protected constructor(identity: string, media: ClientMedia) {
    this.identity = identity;
    this.times = media.times;
    this.sendPeer = media.sendPeer;
    this.recvPeer = media.recvPeer;
    this.consumed = media.consumed;
  }

  /** Closes both peer connections, then the signaling session. */
  async close(): Promise<void> {
    await Promise.all([this.sendPeer?.close(), this.recvPeer?.close()]);
    await this.closeSignaling();
  }

  protected abstract closeSignaling(): Promise<void>;
}

/**
 * Opens a signaling session on the join clock (`start` just before it is opened, `wsOpen` once it is),
 * then runs `setUp`; when that throws, the session is closed and the error rethrown.
 */
export async function timedJoin<S, R>(connect: () => Promise<S>, closeSession: (session: S) => Promise<unknown> | void, setUp: (session: S, clock: { start: number; wsOpen: number }) => Promise<R>): Promise<R> {
  const start = performance.now();
  const session = await connect();
  const wsOpen = performance.now();
  try {
    return await setUp(session, { start, wsOpen });
  } catch (err) {
    await Promise.resolve(closeSession(session)).catch(() => undefined);
    throw err;
  }
}

/** The send and receive sides, set up at once; when either fails, the other is closed and the error rethrown. */
export async function bothSides(send: Promise<MediaPeer | null> | null, recv: Promise<MediaPeer | null> | null): Promise<[MediaPeer | null, MediaPeer | null]> {
  const [s, r] = await Promise.allSettled([send ?? Promise.resolve(null), recv ?? Promise.resolve(null)]);
  if (s.status === 'fulfilled' && r.status === 'fulfilled') return [s.value, r.value];
  await Promise.all([s.status === 'fulfilled' ? s.value?.close() : null, r.status === 'fulfilled' ? r.value?.close() : null]);
  throw s.status === 'rejected' ? s.reason : (r as PromiseRejectedResult).reason;
}

/** Runs `negotiate` on a new peer and returns the peer; closes it when negotiation throws. */
export async function negotiated(peer: MediaPeer, negotiate: (peer: MediaPeer) => Promise<void>): Promise<MediaPeer> {
  try {
    await negotiate(peer);
    return peer;
  } catch (err) {
    await peer.close();
    throw err;
  }
}

/** One random SSRC per simulcast layer of `pacer`. */
export function layerSsrcs(pacer: VideoPacer): number[] {
  return pacer.layers.map(() => Math.floor(Math.random() * 0xfffffff0) + 1);
}

/** What a publisher sends: looped Opus, or VP8 simulcast on `ssrcs` (lowest layer first) as offered in `section`. */
export type Outgoing = { audio: Pacer } | { video: VideoPacer; ssrcs: number[]; payloadType: number; section: LocalSection };

/** Waits until the peer connection is up, then starts sending on `transceiver`. */
export async function startPublishing(peer: MediaPeer, transceiver: RTCRtpTransceiver, out: Outgoing): Promise<void> {
  await peer.connected();
  if ('audio' in out) {
    peer.startSending(transceiver, out.audio);
    return;
  }
  const midExtensionId = out.section.extensions.find((e) => e.uri === MID_EXTENSION_URI)?.id ?? 1;
  peer.startSimulcast(transceiver, out.video, { ssrcs: out.ssrcs, payloadType: out.payloadType, mid: out.section.mid, midExtensionId });
}
