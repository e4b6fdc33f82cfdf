/**
 * The call as the user sees it: join, stay joined across socket drops (same token, new media),
 * mute, camera and screen, languages, leave. Owns the SignalingClient, the current Call and the Roster.
 *
 * When to connect, join, re-join, follow a draining replica, renew the token or give up is decided by
 * the state table in sessionMachine.ts: this class feeds it events and performs the effects it returns.
 */

import type { MethodMap, NotificationMap, PeerInfo, PeerPermissions } from '../protocol/messages.js';
import { obtainToken } from './auth.js';
import { Call } from './call.js';
import type { RemoteMedia } from './call.js';
import type { PageConfig } from './config.js';
import { ClientError, ClientErrors, FINAL_DISCONNECTS, PRODUCER_GONE, toClientError } from './errors.js';
import { Emitter } from './events.js';
import { replicaUrls, toBaseUrl } from './failover.js';
import { LocalMic } from './localMic.js';
import { locateReplica } from './locate.js';
import { LocalVideo, type VideoSource } from './localVideo.js';
import { Roster } from './roster.js';
import { canJoin, initialState, isCurrent, shown, step } from './sessionMachine.js';
import type { ConnectionState, SessionEffect, SessionEvent, SessionState } from './sessionMachine.js';
import { SignalingClient, toSocketUrl } from './signaling.js';
import type { AnyNotification } from './signaling.js';

export type { ConnectionState } from './sessionMachine.js';

/** What a peer with `moderate` may ask of the server (the page shows the controls; the server checks). */
export type ModerationMethod = 'removePeer' | 'mutePeer' | 'closeRoom';

export type JoinForm = { roomId: string; displayName: string; spokenLanguage: string; listeningLanguage: string };

export type SessionEvents = {
  state: [ConnectionState];
  /** The roster (peers, their producers, pause states) changed. */
  roster: [];
  /** Our own mute/camera/language state or local tracks changed. */
  local: [];
  mediaadded: [RemoteMedia];
  mediaremoved: [RemoteMedia];
  /** A `caption` notification (any language; captions.ts validates and groups them). */
  caption: [NotificationMap['caption']];
  /** A `captionSpoken` notification: a translated voice started saying these words. */
  captionSpoken: [NotificationMap['captionSpoken']];
  /** The room's active speaker changed (a peerId, or null). */
  activeSpeaker: [string | null];
  /** Call settings the server sent with the join. */
  settings: [{ originalVolume: number }];
  /** An error to show; the call may or may not go on (see `state`). */
  error: [ClientError];
};

export class Session extends Emitter<SessionEvents> {
  readonly #config: PageConfig;
  readonly #roster = new Roster();
  #machine: SessionState;
  /** The state last emitted, so nested dispatches (an effect that makes the client emit) emit in order. */
  #shown: ConnectionState = 'idle';
  #signaling: SignalingClient | null = null;
  #call: Call | null = null;
  #form: JoinForm | null = null;
  #peerId: string | null = null;
  /** Settles the promise of the pending join(). */
  #settle: ((error: ClientError | null) => void) | null = null;
  /** The goodbye of the last leave(), which leave() waits for. */
  #closing: Promise<void> = Promise.resolve();
  readonly #mic: LocalMic;
  readonly #video = new LocalVideo(() => this.emit('local'));
  #activeSpeaker: string | null = null;
  /** What the server lets us do (from the join, then `permissionsChanged`); null before the first join. */
  #permissions: PeerPermissions | null = null;
  /** This page asked the server to close the room (so its ERR_ROOM_CLOSED is ours). */
  #endedRoom = false;
  lastError: ClientError | null = null;

  constructor(config: PageConfig) {
    super();
    this.#config = config;
    this.#mic = new LocalMic({ audioProcessing: config.audioProcessing }, () => this.emit('local'));
    this.#machine = initialState({ pageUrl: toBaseUrl(config.socketUrl), canRenewToken: !config.token });
  }

  get state(): ConnectionState { return shown(this.#machine); }
  get peerId(): string | null { return this.#peerId; }
  /** Whether the microphone sends nothing (muted by the user or a moderator, or not allowed). */
  get muted(): boolean { return this.#mic.muted; }
  /** Why the microphone is muted, and what the page says about it (moderation.ts). */
  get mic(): LocalMic['state'] { return this.#mic.state; }
  get permissions(): PeerPermissions | null { return this.#permissions; }
  get endedRoom(): boolean { return this.#endedRoom; }
  get form(): JoinForm | null { return this.#form; }
  get micTrack(): MediaStreamTrack | null { return this.#mic.track; }
  get camTrack(): MediaStreamTrack | null { return this.#video.track('cam'); }
  get screenTrack(): MediaStreamTrack | null { return this.#video.track('screen'); }
  get activeSpeaker(): string | null { return this.#activeSpeaker; }
  /** Base URL of the replica in use (or being reconnected to). */
  get url(): string { return this.#signaling?.baseUrl ?? this.#machine.url; }
  get reconnects(): number { return this.#machine.reconnects; }
  peers(): PeerInfo[] { return this.#roster.peers(); }
  remoteMedia(): RemoteMedia[] { return this.#call?.remoteMedia() ?? []; }
  inboundAudio(producerId?: string): ReturnType<Call['audioStats']> { return this.#call?.audioStats(producerId) ?? Promise.resolve([]); }
  iceRoutes(): ReturnType<Call['iceRoutes']> { return this.#call?.iceRoutes() ?? Promise.resolve([]); }
  videoStats(): ReturnType<Call['videoStats']> { return this.#call?.videoStats() ?? Promise.resolve([]); }
  sendStats(): ReturnType<Call['sendStats']> { return this.#call?.sendStats() ?? Promise.resolve([]); }

  /** Tells the server how large the tile of a video consumer is (device pixels) and whether it shows. */
  async setVideoView(consumerId: string, view: { width: number; height: number; visible: boolean }): Promise<void> {
    try {
      await this.#call?.setView(consumerId, view);
    } catch (err) {
      const error = toClientError(err);
      if (error.code !== 'ERR_CONSUMER_NOT_FOUND' && error.code !== ClientErrors.SOCKET_CLOSED) this.#report(error);
    }
  }

  /** Gets a token, the microphone and a socket, then joins. Rejects (and shows why) on failure; resolves quietly if left meanwhile. */
  join(form: JoinForm): Promise<void> {
    if (!canJoin(this.#machine)) return Promise.reject(new ClientError('ERR_WRONG_STATE', 'Already in a call'));
    this.#form = { ...form };
    this.#peerId = null;
    this.#permissions = null;
    this.#endedRoom = false;
    return new Promise((resolve, reject) => {
      this.#settle = (error) => (error ? reject(error) : resolve());
      this.#dispatch({ type: 'user.join' });
    });
  }

  /** Says goodbye to the server, closes everything and returns to idle. */
  async leave(): Promise<void> {
    this.#dispatch({ type: 'user.leave' });
    await this.#closing;
  }

  async setMuted(muted: boolean): Promise<void> {
    try {
      await this.#mic.setMuted(muted, this.#call);
    } catch (err) {
      this.#report(toClientError(err));
    }
  }

  /** A moderator's request; shows what went wrong and resolves false then. */
  async moderate<M extends ModerationMethod>(method: M, params: MethodMap[M]['request']): Promise<boolean> {
    const signaling = this.#signaling;
    if (!signaling || this.state !== 'connected') return false;
    if (method === 'closeRoom') this.#endedRoom = true; // before the answer: the room's close may overtake it
    try {
      await signaling.request(method, params);
      return true;
    } catch (err) {
      const error = toClientError(err);
      if (method === 'closeRoom' && error.code === ClientErrors.SOCKET_CLOSED) return true; // the room closed our socket first
      if (method === 'closeRoom') this.#endedRoom = false;
      this.#report(error);
      return false;
    }
  }

  async setCamera(on: boolean): Promise<void> {
    await this.setVideo('cam', on);
  }

  /** Turns the camera or the screen share on or off (sent at once when in a call). */
  async setVideo(source: VideoSource, on: boolean): Promise<void> {
    try {
      await this.#video.set(source, on, this.state === 'connected' ? this.#call : null);
    } catch (err) {
      this.#report(toClientError(err));
    }
  }

  async setLanguages(languages: { spokenLanguage?: string; listeningLanguage?: string }): Promise<void> {
    if (!this.#form) return;
    Object.assign(this.#form, languages);
    this.emit('local');
    if (this.state !== 'connected' || !this.#signaling) return;
    try {
      await this.#signaling.request('updatePeer', languages);
    } catch (err) {
      this.#report(toClientError(err));
    }
  }

  /** Feeds `event` to the machine, performs what it decided, then tells the page if the state changed. */
  #dispatch(event: SessionEvent): void {
    const { state, effects } = step(this.#machine, event);
    this.#machine = state;
    for (const effect of effects) this.#perform(effect);
    const now = shown(this.#machine);
    if (now === this.#shown) return;
    this.#shown = now;
    this.emit('state', now);
  }

  #perform(effect: SessionEffect): void {
    switch (effect.type) {
      case 'prepare':
        void this.#prepare(effect.call);
        return;
      case 'connect':
        this.#connect(effect.call, effect.replica, effect.replicas);
        return;
      case 'join': {
        const first = this.state === 'connecting';
        this.#establish(effect.gen, effect.token).then(
          () => this.#dispatch({ type: 'join.done', gen: effect.gen }),
          (err: unknown) => this.#dispatch({ type: 'join.failed', gen: effect.gen, error: toClientError(err, first ? ClientErrors.CONNECT_FAILED : ClientErrors.MEDIA) }),
        );
        return;
      }
      case 'hopTimer': // no need to cancel it: once the hop is over, its gen is stale and the machine ignores it
        setTimeout(() => this.#dispatch({ type: 'hop.timeout', gen: effect.gen }), effect.ms);
        return;
      case 'renewToken': {
        const form = this.#form as JoinForm;
        obtainToken(this.#config, form.roomId, form.displayName).then(
          (fresh) => this.#dispatch({ type: 'token.renewed', gen: effect.gen, token: fresh.token }),
          (err: unknown) => this.#dispatch({ type: 'token.failed', gen: effect.gen, error: toClientError(err) }),
        );
        return;
      }
      case 'teardown':
        this.#teardown();
        return;
      case 'retry':
        this.#signaling?.retry(effect.reason);
        return;
      case 'moveTo':
        this.#signaling?.moveTo(effect.url, effect.reason);
        return;
      case 'resetBackoff':
        this.#signaling?.resetBackoff();
        return;
      case 'close':
        this.#closeSignaling(effect.error, effect.goodbye);
        return;
      case 'stopLocal':
        this.#stopLocalTracks();
        return;
      case 'clearRoster':
        this.#peerId = null;
        this.#roster.clear();
        this.emit('roster');
        return;
      case 'report':
        this.#report(effect.error);
        return;
      case 'settle': {
        const settle = this.#settle;
        this.#settle = null;
        settle?.(effect.error);
        return;
      }
    }
  }

  /** Token and microphone at once, then which replica the cluster suggests for the room (null: ours). */
  async #prepare(call: number): Promise<void> {
    const form = this.#form as JoinForm;
    let result: SessionEvent;
    try {
      const [token] = await Promise.all([
        obtainToken(this.#config, form.roomId, form.displayName),
        this.#config.role === 'listener' ? null : this.#mic.capture(),
      ]);
      const located = await locateReplica([this.#machine.pageUrl], form.roomId);
      result = { type: 'prepare.done', call, token: token.token, located };
    } catch (err) {
      result = { type: 'prepare.failed', call, error: toClientError(err, ClientErrors.CONNECT_FAILED) };
    }
    this.#dispatch(result);
  }

  /** Opens the call's socket. Failovers later ask every known replica (and the page's own) where to go. */
  #connect(call: number, replica: string | null, replicas: string[]): void {
    const pageUrl = this.#machine.pageUrl;
    const roomId = (this.#form as JoinForm).roomId;
    const signaling = new SignalingClient({
      url: replica ? toSocketUrl(replica, this.#config.socketUrl) : this.#config.socketUrl,
      replicas,
      locate: (failedUrl, known) => locateReplica([...known, pageUrl], roomId, failedUrl),
    });
    this.#signaling = signaling;
    this.#wire(signaling, call);
    // A first socket that never opens ends the client, and its `ended` event fails the join.
    signaling.connect().catch(() => undefined);
  }

  /** Stops the call's client for good; with `goodbye`, tells the server first (waiting at most 2 s). */
  #closeSignaling(error: ClientError | null, goodbye: boolean): void {
    const signaling = this.#signaling;
    this.#signaling = null;
    if (!signaling) return;
    if (!goodbye || !signaling.connected) {
      signaling.close(error);
      return;
    }
    this.#closing = signaling.request('leave', {}, 2_000).then(
      () => signaling.close(null),
      () => signaling.close(null),
    );
  }

  /** Join on the current socket, build media, send our tracks and receive everyone else's. */
  async #establish(gen: number, token: string): Promise<void> {
    const signaling = this.#signaling;
    const form = this.#form;
    if (!signaling || !form) throw new ClientError('ERR_WRONG_STATE', 'No join details');
    const joined = await signaling.request('join', {
      token,
      roomId: form.roomId,
      spokenLanguage: form.spokenLanguage,
      listeningLanguage: form.listeningLanguage,
    });
    signaling.setReplicas(replicaUrls(joined.replicas)); // an older server sends none: keep what we know
    if (typeof joined.originalVolume === 'number') this.emit('settings', { originalVolume: joined.originalVolume });
    this.#peerId = joined.peerId;
    this.#setActiveSpeaker(joined.activeSpeaker ?? null);
    this.#roster.reset(joined.peers, joined.peerId);
    this.emit('roster');
    await this.#applyPermissions(joined.permissions ?? null, null); // an older server sends none: all allowed
    const relay = this.#config.relay || joined.iceTransportPolicy === 'relay';
    const call = await Call.create(signaling, joined.routerRtpCapabilities, { iceServers: joined.iceServers ?? [], iceTransportPolicy: relay ? 'relay' : 'all' });
    if (!isCurrent(this.#machine, { gen })) {
      call.close(); // the socket dropped (or the user left) while it was built: never install it
      throw new ClientError(ClientErrors.SOCKET_CLOSED, 'Connection dropped while joining');
    }
    this.#call = call;
    call.on('consumeradded', (media) => this.emit('mediaadded', media));
    call.on('consumerremoved', (media) => this.emit('mediaremoved', media));
    call.on('error', (error) => this.#report(error));
    call.on('transportfailed', (direction) => this.#dispatch({ type: 'media.failed', gen, reason: `${direction} transport failed` }));
    await this.#produceLocal(call);
    await Promise.all(this.#roster.producers().map((p) => call.ensureConsumer(p)));
  }

  async #produceLocal(call: Call): Promise<void> {
    const jobs: Array<Promise<unknown>> = [];
    const mic = this.#mic.produce(call);
    if (mic) jobs.push(mic);
    jobs.push(...this.#video.produceAll(call));
    const results = await Promise.allSettled(jobs);
    for (const result of results) {
      if (result.status === 'rejected') {
        const error = toClientError(result.reason);
        if (error.code === ClientErrors.SOCKET_CLOSED) throw error;
        this.#report(error); // e.g. ERR_FORBIDDEN for a listener token: stay in the call, receive only
      }
    }
  }

  /** Every event of the call's client goes to the machine tagged with `call`; a closed client's are ignored there. */
  #wire(signaling: SignalingClient, call: number): void {
    signaling.on('open', ({ url }) => this.#dispatch({ type: 'socket.opened', call, url: toBaseUrl(url) }));
    signaling.on('close', ({ retryInMs }) => this.#dispatch({ type: 'socket.closed', call, retrying: retryInMs !== null }));
    signaling.on('ended', (error) => this.#dispatch({ type: 'socket.ended', call, error }));
    signaling.on('servererror', (error) => this.#report(error));
    signaling.on('notification', (msg) => {
      if (!isCurrent(this.#machine, { call })) return;
      if (msg.method !== 'disconnecting') return this.#onNotification(msg);
      // Removed, or the room closed: final, even from a server that would say otherwise.
      this.#dispatch({ type: 'server.disconnecting', call, reconnect: msg.data.reconnect && !FINAL_DISCONNECTS.has(msg.data.code) });
    });
  }

  #onNotification(msg: AnyNotification): void {
    const call = this.#call;
    switch (msg.method) {
      case 'peerJoined':
      case 'peerUpdated':
        if (msg.data.peer.peerId === this.#peerId) return;
        this.#roster.upsertPeer(msg.data.peer);
        for (const producer of msg.data.peer.producers ?? []) void call?.ensureConsumer(producer);
        break;
      case 'peerLeft':
        for (const producerId of this.#roster.removePeer(msg.data.peerId)) call?.producerClosed(producerId);
        break;
      case 'newProducer':
        if (msg.data.peerId === this.#peerId) return;
        this.#roster.addProducer(msg.data);
        void call?.ensureConsumer(msg.data);
        break;
      case 'producerClosed':
        this.#roster.removeProducer(msg.data.producerId);
        call?.producerClosed(msg.data.producerId);
        break;
      case 'producerPaused':
      case 'producerResumed':
        this.#roster.setPaused(msg.data.producerId, msg.method === 'producerPaused');
        break;
      case 'caption':
        this.emit('caption', msg.data);
        return;
      case 'captionSpoken':
        this.emit('captionSpoken', msg.data);
        return;
      case 'translationDropped':
        // Shown, not kept as lastError: the call itself is fine, only this utterance goes untranslated.
        this.emit('error', new ClientError(msg.data.code, `Translation: ${msg.data.message}`));
        return;
      case 'consumerClosed': {
        call?.consumerClosed(msg.data.consumerId);
        // The server replaced what carried a producer still in the room (a pipe copy after a fault): consume
        // it again now rather than wait for an announcement that will not come. If it has just left, the
        // server answers not found and its producerClosed follows.
        const producer = this.#roster.producer(msg.data.producerId);
        if (producer && call) void call.ensureConsumer(producer, [PRODUCER_GONE]);
        return;
      }
      case 'disconnecting': // a state event: see #wire
      case 'replicas': // the signaling client keeps the list
        return;
      case 'activeSpeaker':
        this.#setActiveSpeaker(msg.data.peerId);
        return;
      case 'mutedByModerator':
        void this.#moderated(msg.data.producerId, msg.data.muted);
        return;
      case 'permissionsChanged':
        this.#applyPermissions(msg.data.permissions, call).catch((err: unknown) => this.#report(toClientError(err)));
        return;
    }
    this.emit('roster');
  }

  /** A moderator paused or resumed one of our producers: the microphone follows moderation.ts; a camera or screen they pause is turned off. */
  async #moderated(producerId: string, muted: boolean): Promise<void> {
    const call = this.#call;
    if (!call) return;
    try {
      if (call.producerId('mic') === producerId) await this.#mic.moderated(muted, call);
      for (const source of ['cam', 'screen'] as const) {
        if (muted && call.producerId(source) === producerId) await this.#video.set(source, false, call);
      }
    } catch (err) {
      this.#report(toClientError(err));
    }
  }

  /** What we may send now; the server has closed the producers of what we may no longer send. */
  async #applyPermissions(permissions: PeerPermissions | null, call: Call | null): Promise<void> {
    this.#permissions = permissions;
    const video = { cam: permissions?.publishVideo ?? true, screen: permissions?.publishScreen ?? true };
    for (const source of ['cam', 'screen'] as const) {
      if (video[source] || !this.#video.track(source)) continue;
      call?.forgetProducer(source);
      await this.#video.set(source, false, null);
    }
    await this.#mic.setAllowed(permissions?.publishAudio ?? true, call);
    this.emit('local');
  }

  /** Drops the current media session (client side). */
  #teardown(): void {
    const call = this.#call;
    this.#call = null;
    if (!call) return;
    for (const media of call.remoteMedia()) this.emit('mediaremoved', media);
    call.close();
  }

  #stopLocalTracks(): void {
    this.#mic.stop();
    this.#video.stopAll();
  }

  #report(error: ClientError): void {
    this.lastError = error;
    console.warn(`[parley] ${error.code}: ${error.message}`);
    this.emit('error', error);
  }

  #setActiveSpeaker(peerId: string | null): void {
    if (peerId === this.#activeSpeaker) return;
    this.#activeSpeaker = peerId;
    this.emit('activeSpeaker', peerId);
  }
}
