/**
 * A lightweight Janus VideoRoom participant for the side-by-side bench runs:
 * the Janus API over its WebSocket transport (one socket per participant,
 * as a Parley client has), werift peer connections with the same AudioPeer
 * and statistics as ParleyClient, so both SFUs see the same client stack.
 *
 * Publisher: create session, attach janus.plugin.videoroom, join as
 * publisher, publish (offer from werift, answer from Janus).
 * Subscriber: create session, attach, list the room's participants, join as
 * subscriber to every feed (Janus offers one m-line per feed), start with the answer.
 */
import WebSocket from 'ws';
import { AudioPeer } from './AudioPeer.js';
import type { Pacer } from './opusSource.js';
import type { JoinTimes } from './ParleyClient.js';

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

/** Creates an audio-only VideoRoom (room ids are numbers in Janus). */
export async function createJanusRoom(wsUrl: string, room: number, maxPublishers = 1000): Promise<void> {
  const s = await JanusSession.connect(wsUrl);
  try {
    await s.create();
    const handle = await s.attachVideoRoom();
    await s.message(handle, { request: 'create', room, publishers: maxPublishers, audiocodec: 'opus', permanent: false, bitrate: 64000 });
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
  /** Subscribe to every publisher in the room at join time. */
  subscribe?: boolean;
};

export class JanusClient {
  readonly identity: string;
  readonly times: JoinTimes;
  readonly sendPeer: AudioPeer | null;
  readonly recvPeer: AudioPeer | null;
  readonly consumed: number;
  readonly #session: JanusSession;

  private constructor(identity: string, session: JanusSession, times: JoinTimes, sendPeer: AudioPeer | null, recvPeer: AudioPeer | null, consumed: number) {
    this.identity = identity;
    this.#session = session;
    this.times = times;
    this.sendPeer = sendPeer;
    this.recvPeer = recvPeer;
    this.consumed = consumed;
  }

  /** The clock in `times.start` starts before the WebSocket is opened; `joined` is when the session and handle exist. */
  static async join(options: JanusJoinOptions): Promise<JanusClient> {
    const start = performance.now();
    const session = await JanusSession.connect(options.wsUrl);
    const wsOpen = performance.now();
    let sendPeer: AudioPeer | null = null;
    let recvPeer: AudioPeer | null = null;
    try {
      await session.create();
      const joined = performance.now();
      let feeds: number[] = [];
      const [send, recv] = await Promise.all([
        options.publish ? publish(session, options.room, options.identity, options.publish, options.host) : null,
        options.subscribe
          ? (async () => {
              feeds = await listFeeds(session, options.room);
              return feeds.length ? subscribe(session, options.room, feeds, options.host) : null;
            })()
          : null,
      ]);
      sendPeer = send;
      recvPeer = recv;
      return new JanusClient(options.identity, session, { start, wsOpen, joined }, sendPeer, recvPeer, feeds.length);
    } catch (err) {
      await Promise.all([sendPeer?.close(), recvPeer?.close()]);
      session.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.sendPeer?.close(), this.recvPeer?.close()]);
    this.#session.close();
  }
}

async function listFeeds(session: JanusSession, room: number): Promise<number[]> {
  const handle = await session.attachVideoRoom();
  const { data } = await session.message(handle, { request: 'listparticipants', room });
  await session.request('detach', { handle_id: handle }).catch(() => undefined);
  return (data.participants as Array<{ id: number; publisher: boolean }>).filter((p) => p.publisher).map((p) => p.id);
}

async function publish(session: JanusSession, room: number, display: string, pacer: Pacer, host: string): Promise<AudioPeer> {
  const handle = await session.attachVideoRoom();
  await session.message(handle, { request: 'join', ptype: 'publisher', room, display });
  const peer = new AudioPeer({ opusPayloadType: 111, host });
  try {
    const transceiver = peer.addSender();
    await peer.pc.setLocalDescription(await peer.pc.createOffer());
    const { jsep } = await session.message(handle, { request: 'publish', audio: true, video: false, data: false }, { type: 'offer', sdp: peer.pc.localDescription!.sdp });
    if (!jsep) throw new Error('janus publish: no answer');
    await peer.pc.setRemoteDescription(jsep as { type: 'answer'; sdp: string });
    await peer.connected();
    peer.startSending(transceiver, pacer);
    return peer;
  } catch (err) {
    await peer.close();
    throw err;
  }
}

async function subscribe(session: JanusSession, room: number, feeds: number[], host: string): Promise<AudioPeer> {
  const handle = await session.attachVideoRoom();
  const { jsep } = await session.message(handle, { request: 'join', ptype: 'subscriber', room, streams: feeds.map((feed) => ({ feed })) });
  if (!jsep) throw new Error('janus subscribe: no offer');
  const peer = new AudioPeer({ opusPayloadType: 111, host });
  try {
    await peer.pc.setRemoteDescription(jsep as { type: 'offer'; sdp: string });
    await peer.pc.setLocalDescription(await peer.pc.createAnswer());
    await session.message(handle, { request: 'start' }, { type: 'answer', sdp: peer.pc.localDescription!.sdp });
    return peer;
  } catch (err) {
    await peer.close();
    throw err;
  }
}
