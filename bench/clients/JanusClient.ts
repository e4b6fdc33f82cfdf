/**
 * A lightweight Janus VideoRoom participant for the side-by-side bench runs:
 * the Janus API over its WebSocket transport (one socket per participant,
 * as a Parley client has), werift peer connections with the same MediaPeer
 * and statistics as ParleyClient, so both SFUs see the same client stack.
 *
 * Publisher: create session, attach janus.plugin.videoroom, join as
 * publisher, publish (offer from werift, answer from Janus). A video
 * publisher sends the synthetic VP8 simulcast of vp8Source.ts, announced in
 * its offer as an SSRC simulcast group (a=ssrc-group:SIM), which Janus reads.
 * Subscriber: create session, attach, list the room's participants, join as
 * subscriber to every feed (Janus offers one m-line per stream), start with
 * the answer, and for video configure the substream (layer) to receive.
 */
import WebSocket from 'ws';
import { bothSides, layerSsrcs, negotiated, SignaledClient, startPublishing, timedJoin, type ClientMedia } from './BenchClient.js';
import { MediaPeer } from './MediaPeer.js';
import type { Pacer } from './opusSource.js';
import { parseLocalSdp } from './sdp.js';
import type { VideoPacer } from './vp8Source.js';

/** The VP8 payload type the video publishers offer (Janus forwards it to subscribers as offered). */
const VP8_PT = 96;

type JanusMessage = { janus: string; transaction?: string; session_id?: number; sender?: number; data?: any; plugindata?: { data: any }; jsep?: { type: string; sdp: string }; error?: { code: number; reason: string } };

/** One Janus API session over its own WebSocket. */
export class JanusSession {
  readonly ws: WebSocket;
  sessionId = 0;
  readonly #pending = new Map<string, { resolve: (m: JanusMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #next = 1;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as JanusMessage;
      if (!msg.transaction || msg.janus === 'ack') return;
      const p = this.#pending.get(msg.transaction);
      if (!p) return;
      clearTimeout(p.timer);
      this.#pending.delete(msg.transaction);
      if (msg.janus === 'error') p.reject(new Error(`janus error ${msg.error?.code}: ${msg.error?.reason}`));
      else if (msg.plugindata?.data?.error) p.reject(new Error(`videoroom error ${msg.plugindata.data.error_code}: ${msg.plugindata.data.error}`));
      else p.resolve(msg);
    });
  }

  static async connect(wsUrl: string): Promise<JanusSession> {
    const ws = new WebSocket(wsUrl, 'janus-protocol');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new JanusSession(ws);
  }

  /** Sends a Janus API request and resolves with its answer (success, or the plugin's event after the ack). */
  request(janus: string, fields: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<JanusMessage> {
    const transaction = `t${this.#next++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(new Error(`janus: no answer to ${janus} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(transaction, { resolve, reject, timer });
      const body = { janus, transaction, ...(this.sessionId ? { session_id: this.sessionId } : {}), ...fields };
      this.ws.send(JSON.stringify(body));
    });
  }

  async create(): Promise<void> {
    this.sessionId = (await this.request('create')).data.id;
  }

  async attachVideoRoom(): Promise<number> {
    return (await this.request('attach', { plugin: 'janus.plugin.videoroom' })).data.id;
  }

  /** A message to the plugin on `handleId`; resolves with the plugin's data and JSEP, if any. */
  async message(handleId: number, body: Record<string, unknown>, jsep?: { type: string; sdp: string }): Promise<{ data: any; jsep?: { type: string; sdp: string } }> {
    const res = await this.request('message', { handle_id: handleId, body, ...(jsep ? { jsep: { ...jsep, trickle: false } } : {}) });
    return { data: res.plugindata?.data, jsep: res.jsep };
  }

  close(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    if (this.ws.readyState === WebSocket.OPEN) {
      if (this.sessionId) this.ws.send(JSON.stringify({ janus: 'destroy', transaction: 'bye', session_id: this.sessionId }));
      this.ws.close();
    }
  }
}

/** Creates a VideoRoom (room ids are numbers in Janus): Opus, VP8; publishers capped at `bitrate` bit/s (REMB). */
export async function createJanusRoom(wsUrl: string, room: number, maxPublishers = 1000, bitrate = 64000): Promise<void> {
  const s = await JanusSession.connect(wsUrl);
  try {
    await s.create();
    const handle = await s.attachVideoRoom();
    await s.message(handle, { request: 'create', room, publishers: maxPublishers, audiocodec: 'opus', videocodec: 'vp8', permanent: false, bitrate });
  } finally {
    s.close();
  }
}

export type JanusJoinOptions = {
  wsUrl: string;
  /** Local address for the client's ICE candidates: JanusProcess.host. */
  host: string;
  room: number;
  identity: string;
  publish?: Pacer;
  /** Publish synthetic VP8 simulcast instead of audio. */
  publishVideo?: VideoPacer;
  /** Subscribe to every publisher in the room at join time. */
  subscribe?: boolean;
  /** Video: the simulcast substream to receive (default: Janus's, the top one). */
  layer?: number;
  /** Do not subscribe to the publisher with this display name. */
  skip?: string;
};

export class JanusClient extends SignaledClient {
  readonly #session: JanusSession;

  private constructor(identity: string, session: JanusSession, media: ClientMedia) {
    super(identity, media);
    this.#session = session;
  }

  /** The clock in `times.start` starts before the WebSocket is opened; `joined` is when the session and handle exist. */
  static async join(options: JanusJoinOptions): Promise<JanusClient> {
    return timedJoin(() => JanusSession.connect(options.wsUrl), (session) => session.close(), async (session, clock) => {
      await session.create();
      const joined = performance.now();
      let feeds: number[] = [];
      const [sendPeer, recvPeer] = await bothSides(
        options.publish || options.publishVideo ? publish(session, options, options.identity) : null,
        options.subscribe
          ? (async () => {
              feeds = await listFeeds(session, options.room, options.skip);
              return feeds.length ? subscribe(session, options.room, feeds, options.host, options.layer) : null;
            })()
          : null,
      );
      return new JanusClient(options.identity, session, { times: { ...clock, joined }, sendPeer, recvPeer, consumed: feeds.length });
    });
  }

  protected async closeSignaling(): Promise<void> {
    this.#session.close();
  }
}

async function listFeeds(session: JanusSession, room: number, skip?: string): Promise<number[]> {
  const handle = await session.attachVideoRoom();
  const { data } = await session.message(handle, { request: 'listparticipants', room });
  await session.request('detach', { handle_id: handle }).catch(() => undefined);
  return (data.participants as Array<{ id: number; publisher: boolean; display?: string }>).filter((p) => p.publisher && p.display !== skip).map((p) => p.id);
}

async function publish(session: JanusSession, options: JanusJoinOptions, display: string): Promise<MediaPeer> {
  const handle = await session.attachVideoRoom();
  await session.message(handle, { request: 'join', ptype: 'publisher', room: options.room, display });
  const video = options.publishVideo;
  return negotiated(new MediaPeer({ opusPayloadType: 111, host: options.host, ...(video ? { vp8PayloadType: VP8_PT } : {}) }), async (peer) => {
    const transceiver = video ? peer.addVideoSender() : peer.addSender();
    await peer.pc.setLocalDescription(await peer.pc.createOffer());
    let offer = peer.pc.localDescription!.sdp;
    const ssrcs = video ? layerSsrcs(video) : [];
    if (video) offer = withSimulcastGroup(offer, ssrcs);
    const { jsep } = await session.message(handle, { request: 'publish', audio: !video, video: !!video, data: false }, { type: 'offer', sdp: offer });
    if (!jsep) throw new Error('janus publish: no answer');
    await peer.pc.setRemoteDescription(jsep as { type: 'answer'; sdp: string });
    await startPublishing(peer, transceiver, video ? { video, ssrcs, payloadType: VP8_PT, section: parseLocalSdp(offer).video[0]! } : { audio: options.publish! });
  });
}

async function subscribe(session: JanusSession, room: number, feeds: number[], host: string, layer?: number): Promise<MediaPeer> {
  const handle = await session.attachVideoRoom();
  const { jsep } = await session.message(handle, { request: 'join', ptype: 'subscriber', room, streams: feeds.map((feed) => ({ feed })) });
  if (!jsep) throw new Error('janus subscribe: no offer');
  return negotiated(new MediaPeer({ opusPayloadType: 111, vp8PayloadType: VP8_PT, host }), async (peer) => {
    await peer.pc.setRemoteDescription(jsep as { type: 'offer'; sdp: string });
    await peer.pc.setLocalDescription(await peer.pc.createAnswer());
    await session.message(handle, { request: 'start' }, { type: 'answer', sdp: peer.pc.localDescription!.sdp });
    const videoMids = parseLocalSdp(jsep.sdp).video.map((v) => v.mid);
    if (layer !== undefined && videoMids.length) {
      await session.message(handle, { request: 'configure', streams: videoMids.map((mid) => ({ mid, substream: layer })) });
    }
  });
}

/**
 * The offer's video section announces the simulcast layers as Chrome's SSRC simulcast does: its own
 * a=ssrc lines replaced by one per layer (lowest first) and an a=ssrc-group:SIM of them.
 */
export function withSimulcastGroup(sdp: string, ssrcs: number[]): string {
  const sections = sdp.split(/\r\n(?=m=)/);
  return sections
    .map((section) => {
      if (!section.startsWith('m=video')) return section;
      const lines = section.split('\r\n').filter((l) => l && !l.startsWith('a=ssrc'));
      return [...lines, `a=ssrc-group:SIM ${ssrcs.join(' ')}`, ...ssrcs.map((s) => `a=ssrc:${s} cname:bench`)].join('\r\n');
    })
    .join('\r\n')
    .replace(/(\r\n)?$/, '\r\n');
}
