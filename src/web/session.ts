/**
 * The call as the user sees it: join, stay joined across socket drops (same token, new media),
 * mute, camera and screen, languages, leave. Owns the SignalingClient, the current Call and the Roster.
 */

import type { NotificationMap, PeerInfo } from '../protocol/messages.js';
import { obtainToken } from './auth.js';
import { Call } from './call.js';
import type { RemoteMedia } from './call.js';
import type { PageConfig } from './config.js';
import { ClientError, ClientErrors, drainTarget, FATAL_JOIN_ERRORS, PRODUCER_GONE, RENEWABLE_TOKEN_ERRORS, REPLICA_DRAINING, toClientError } from './errors.js';
import { Emitter } from './events.js';
import { replicaUrls, sameReplica, toBaseUrl } from './failover.js';
import { locateReplica } from './locate.js';
import { LocalVideo, type VideoSource } from './localVideo.js';
import { captureMicrophone } from './media.js';
import { Roster } from './roster.js';
import { SignalingClient, toSocketUrl } from './signaling.js';
import type { AnyNotification } from './signaling.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** How many draining replicas in a row the first join follows before it gives up. */
const MAX_DRAIN_HOPS = 3;
/** How long the first join waits for the socket to a replica a draining one named. */
const MOVE_TIMEOUT_MS = 15_000;

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
  #state: ConnectionState = 'idle';
  #signaling: SignalingClient | null = null;
  #call: Call | null = null;
  #token: string | null = null;
  #form: JoinForm | null = null;
  #peerId: string | null = null;
  #joinedOnce = false;
  /** Successful re-joins (after a drop or a move to another replica) since the call started. */
  #reconnects = 0;
  /** Base URL of the replica last connected to. */
  #lastUrl: string;
  /** Bumped by join() and leave(), so a join that the user abandoned fails quietly. */
  #attempt = 0;
  /** Bumped whenever the media session is torn down, so stale async work can tell. */
  #generation = 0;
  #micTrack: MediaStreamTrack | null = null;
  readonly #video = new LocalVideo(() => this.emit('local'));
  #activeSpeaker: string | null = null;
  #muted = false;
  lastError: ClientError | null = null;

  constructor(config: PageConfig) {
    super();
    this.#config = config;
    this.#lastUrl = toBaseUrl(config.socketUrl);
  }

  get state(): ConnectionState { return this.#state; }
  get peerId(): string | null { return this.#peerId; }
  get muted(): boolean { return this.#muted; }
  get form(): JoinForm | null { return this.#form; }
  get micTrack(): MediaStreamTrack | null { return this.#micTrack; }
  get camTrack(): MediaStreamTrack | null { return this.#video.track('cam'); }
  get screenTrack(): MediaStreamTrack | null { return this.#video.track('screen'); }
  get activeSpeaker(): string | null { return this.#activeSpeaker; }
  /** Base URL of the replica in use (or being reconnected to). */
  get url(): string { return this.#signaling?.baseUrl ?? this.#lastUrl; }
  get reconnects(): number { return this.#reconnects; }
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

  /** Gets a token, the microphone and a socket, then joins. Rejects (and shows why) on failure. */
  async join(form: JoinForm): Promise<void> {
    if (this.#state === 'connecting' || this.#state === 'connected' || this.#state === 'reconnecting') {
      throw new ClientError('ERR_WRONG_STATE', 'Already in a call');
    }
    const attempt = ++this.#attempt;
    this.#form = { ...form };
    this.#joinedOnce = false;
    this.#reconnects = 0;
    this.#peerId = null;
    this.#setState('connecting');
    try {
      const [token] = await Promise.all([
        obtainToken(this.#config, form.roomId, form.displayName),
        this.#config.role === 'listener' ? null : this.#ensureMicrophone(),
      ]);
      if (attempt !== this.#attempt) throw new ClientError(ClientErrors.SESSION_ENDED, 'Join cancelled');
      this.#token = token.token;
      const signaling = await this.#createSignaling(form.roomId);
      if (attempt !== this.#attempt) throw new ClientError(ClientErrors.SESSION_ENDED, 'Join cancelled');
      this.#signaling = signaling;
      this.#wire(signaling);
      await signaling.connect();
      await this.#joinFollowingDrain(signaling);
      this.#joinedOnce = true;
    } catch (err) {
      const error = toClientError(err, ClientErrors.CONNECT_FAILED);
      if (attempt !== this.#attempt) {
        if (this.#state === 'idle') this.#stopLocalTracks(); // the user left while joining
        return;
      }
      this.#teardown();
      this.#signaling?.close(error);
      this.#signaling = null;
      this.#stopLocalTracks();
      this.#fail(error);
      throw error;
    }
  }

  /** Says goodbye to the server, closes everything and returns to idle. */
  async leave(): Promise<void> {
    this.#attempt++;
    const signaling = this.#signaling;
    this.#signaling = null;
    this.#teardown();
    if (signaling?.connected) await signaling.request('leave', {}, 2_000).catch(() => undefined);
    signaling?.close(null);
    this.#stopLocalTracks();
    this.#peerId = null;
    this.#roster.clear();
    this.emit('roster');
    this.#setState('idle');
  }

  async setMuted(muted: boolean): Promise<void> {
    this.#muted = muted;
    if (this.#micTrack) this.#micTrack.enabled = !muted;
    this.emit('local');
    try {
      await this.#call?.setPaused('mic', muted);
    } catch (err) {
      this.#report(toClientError(err));
    }
  }

  async setCamera(on: boolean): Promise<void> {
    await this.setVideo('cam', on);
  }

  /** Turns the camera or the screen share on or off (sent at once when in a call). */
  async setVideo(source: VideoSource, on: boolean): Promise<void> {
    try {
      await this.#video.set(source, on, this.#state === 'connected' ? this.#call : null);
    } catch (err) {
      this.#report(toClientError(err));
    }
  }

  async setLanguages(languages: { spokenLanguage?: string; listeningLanguage?: string }): Promise<void> {
    if (!this.#form) return;
    Object.assign(this.#form, languages);
    this.emit('local');
    if (this.#state !== 'connected' || !this.#signaling) return;
    try {
      await this.#signaling.request('updatePeer', languages);
    } catch (err) {
      this.#report(toClientError(err));
    }
  }

  /**
   * A client for the replica the cluster suggests for this room (`/rooms/<id>/connect` on the
   * page's own replica), else the page's own one. Later failovers ask every known replica.
   */
  async #createSignaling(roomId: string): Promise<SignalingClient> {
    const pageUrl = toBaseUrl(this.#config.socketUrl);
    const located = await locateReplica([pageUrl], roomId);
    const first = located && !sameReplica(located, pageUrl) ? located : null;
    return new SignalingClient({
      url: first ? toSocketUrl(first, this.#config.socketUrl) : this.#config.socketUrl,
      replicas: first ? [first, pageUrl] : [pageUrl],
      locate: (failedUrl, known) => locateReplica([...known, pageUrl], roomId, failedUrl),
    });
  }

  /** The first join: a replica that refuses because it is draining names another one, which we follow. */
  async #joinFollowingDrain(signaling: SignalingClient): Promise<void> {
    for (let hops = 0; ; hops++) {
      try {
        await this.#establish(signaling);
        return;
      } catch (err) {
        const error = toClientError(err, ClientErrors.CONNECT_FAILED);
        if (error.code !== REPLICA_DRAINING || hops >= MAX_DRAIN_HOPS) throw error;
        const opened = nextOpen(signaling, MOVE_TIMEOUT_MS);
        signaling.moveTo(drainTarget(error), REPLICA_DRAINING);
        await opened;
      }
    }
  }

  /** Join on the current socket, build media, send our tracks and receive everyone else's. */
  async #establish(signaling: SignalingClient): Promise<void> {
    const generation = this.#generation;
    const form = this.#form;
    if (!form || !this.#token) throw new ClientError('ERR_WRONG_STATE', 'No join details');
    const joined = await signaling.request('join', {
      token: this.#token,
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
    const relay = this.#config.relay || joined.iceTransportPolicy === 'relay';
    const call = await Call.create(signaling, joined.routerRtpCapabilities, { iceServers: joined.iceServers ?? [], iceTransportPolicy: relay ? 'relay' : 'all' });
    if (generation !== this.#generation || signaling !== this.#signaling) {
      call.close();
      throw new ClientError(ClientErrors.SOCKET_CLOSED, 'Connection dropped while joining');
    }
    this.#call = call;
    call.on('consumeradded', (media) => this.emit('mediaadded', media));
    call.on('consumerremoved', (media) => this.emit('mediaremoved', media));
    call.on('error', (error) => this.#report(error));
    call.on('transportfailed', (direction) => signaling.retry(`${direction} transport failed`));
    await this.#produceLocal(call);
    await Promise.all(this.#roster.producers().map((p) => call.ensureConsumer(p)));
    if (generation !== this.#generation) throw new ClientError(ClientErrors.SOCKET_CLOSED, 'Connection dropped while joining');
    signaling.resetBackoff();
    if (this.#joinedOnce) this.#reconnects++;
    this.#setState('connected');
  }

  async #produceLocal(call: Call): Promise<void> {
    const jobs: Array<Promise<unknown>> = [];
    if (this.#micTrack && call.canProduce('audio')) jobs.push(call.produce(this.#micTrack, 'mic', this.#muted));
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

  #wire(signaling: SignalingClient): void {
    signaling.on('notification', (msg) => {
      if (signaling === this.#signaling) this.#onNotification(msg);
    });
    signaling.on('servererror', (error) => this.#report(error));
    signaling.on('close', ({ retryInMs }) => {
      if (signaling !== this.#signaling || retryInMs === null || !this.#joinedOnce) return;
      this.#teardown();
      this.#setState('reconnecting');
    });
    signaling.on('open', ({ reconnect, url }) => {
      if (signaling !== this.#signaling) return;
      this.#lastUrl = toBaseUrl(url);
      // Before the first join succeeded, join() itself handles every socket.
      if (!reconnect || !this.#joinedOnce) return;
      this.#establish(signaling).catch((err: unknown) => this.#onRejoinFailed(signaling, toClientError(err)));
    });
    signaling.on('ended', (error) => {
      if (signaling !== this.#signaling) return;
      this.#signaling = null;
      this.#teardown();
      this.#stopLocalTracks();
      if (error && this.#joinedOnce) this.#fail(error);
    });
  }

  #onRejoinFailed(signaling: SignalingClient, error: ClientError): void {
    if (signaling !== this.#signaling) return;
    this.#teardown();
    // A dev token we minted ourselves is single use and expires: once spent (we were removed from the room
    // meanwhile, e.g. our replica died) or expired, mint a new one and join again as a new participant.
    if (RENEWABLE_TOKEN_ERRORS.has(error.code) && !this.#config.token && this.#form) {
      this.#setState('reconnecting');
      const form = this.#form;
      obtainToken(this.#config, form.roomId, form.displayName).then(
        (fresh) => {
          if (signaling !== this.#signaling) return;
          this.#token = fresh.token;
          signaling.retry(error.code);
        },
        (err: unknown) => this.#onRejoinFailed(signaling, toClientError(err)),
      );
      return;
    }
    if (FATAL_JOIN_ERRORS.has(error.code)) {
      signaling.close(error);
      return;
    }
    if (error.code === REPLICA_DRAINING) {
      this.#setState('reconnecting');
      signaling.moveTo(drainTarget(error), REPLICA_DRAINING);
      return;
    }
    if (error.code !== ClientErrors.SOCKET_CLOSED) this.#report(error);
    this.#setState('reconnecting');
    signaling.retry(error.code);
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
      case 'disconnecting':
        if (msg.data.reconnect) this.#setState('reconnecting');
        return;
      case 'replicas': // the signaling client keeps the list
        return;
      case 'activeSpeaker':
        this.#setActiveSpeaker(msg.data.peerId);
        return;
    }
    this.emit('roster');
  }

  async #ensureMicrophone(): Promise<void> {
    if (this.#micTrack && this.#micTrack.readyState === 'live') return;
    this.#micTrack = await captureMicrophone({ audioProcessing: this.#config.audioProcessing });
    this.#micTrack.enabled = !this.#muted;
    this.emit('local');
  }

  /** Drops the current media session (client side). */
  #teardown(): void {
    this.#generation++;
    const call = this.#call;
    this.#call = null;
    if (!call) return;
    for (const media of call.remoteMedia()) this.emit('mediaremoved', media);
    call.close();
  }

  #stopLocalTracks(): void {
    this.#micTrack?.stop();
    this.#micTrack = null;
    this.#video.stopAll();
    this.#muted = false;
    this.emit('local');
  }

  #fail(error: ClientError): void {
    this.#report(error);
    this.#setState('disconnected');
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

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('state', state);
  }
}

/** Resolves on the client's next `open`; rejects when it ends or nothing opens within `timeoutMs`. */
function nextOpen(signaling: SignalingClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: ClientError | null): void => {
      clearTimeout(timer);
      stopOpen();
      stopEnded();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new ClientError(ClientErrors.CONNECT_FAILED, 'No replica answered')), timeoutMs);
    const stopOpen = signaling.on('open', () => done(null));
    const stopEnded = signaling.on('ended', (err) => done(err ?? new ClientError(ClientErrors.SESSION_ENDED, 'Connection closed')));
  });
}
