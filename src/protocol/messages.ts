/**
 * The signaling protocol spoken over the gateway's WebSocket (`/ws`).
 * Shared by the server (src/edge) and the web client (src/web); documented in docs/protocol.md.
 * Pure types and constants only: no runtime imports, so the browser bundle stays small.
 */

/** Roles a join token may carry. */
export type PeerRole = 'speaker' | 'listener' | 'admin';

/** What a participant may do (docs/permissions.md); a token may carry its own, else its role's apply. */
export type PeerPermissions = {
  publishAudio: boolean;
  publishVideo: boolean;
  publishScreen: boolean;
  subscribe: boolean;
  translation: boolean;
  moderate: boolean;
};

/** Client -> server. `id` is chosen by the client and echoed in the response. */
export type RequestMessage<M extends MethodName = MethodName> = {
  type: 'request';
  id: number;
  method: M;
  data: MethodMap[M]['request'];
};

/** Server -> client, exactly one per request. */
export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; data: unknown }
  | { type: 'response'; id: number | null; ok: false; error: ErrorBody };

/** Server -> client, unsolicited. */
export type NotificationMessage<N extends NotificationName = NotificationName> = {
  type: 'notification';
  method: N;
  data: NotificationMap[N];
};

/** A coded error, as listed in docs/errors.md. */
export type ErrorBody = { code: string; message: string; data?: Record<string, unknown> };

export type MediaKind = 'audio' | 'video';

/** What every other participant sees of a peer. */
export type PeerInfo = {
  peerId: string;
  displayName: string;
  role: PeerRole;
  spokenLanguage: string;
  listeningLanguage: string;
  producers: ProducerInfo[];
};

export type ProducerInfo = {
  producerId: string;
  peerId: string;
  kind: MediaKind;
  paused: boolean;
  /** 'mic', 'cam', 'screen', or 'translation:<lang>' for the AI pipeline's tracks. */
  source: string;
  /** Video: the captured size and each simulcast layer's downscale, lowest first (e.g. [4, 2, 1]). */
  video?: VideoLayout;
};

/** A video producer's layers as its sender describes them. */
export type VideoLayout = { width: number; height: number; scales: number[] };

/** ICE/DTLS parameters for mediasoup-client's `device.createSendTransport` / `createRecvTransport`. */
export type TransportOptions = {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
  dtlsParameters: unknown;
  sctpParameters?: unknown;
};

export type MethodMap = {
  /** First call on a socket. The token names room, identity, display name, role and expiry. */
  join: {
    request: { token: string; roomId: string; spokenLanguage?: string; listeningLanguage?: string };
    response: {
      peerId: string;
      roomId: string;
      replicaId: string;
      /** True when this identity was already in the room (a reconnect): its old media is gone. */
      resumed: boolean;
      routerRtpCapabilities: unknown;
      peers: PeerInfo[];
      /** Volume (0..1) at which a speaker's original voice plays under its translation (config ai.originalVolume). */
      originalVolume: number;
      /** TURN servers with short-lived credentials for this peer (empty when none is configured). */
      iceServers: Array<{ urls: string[]; username: string; credential: string }>;
      /** 'relay': send media only through TURN (config turn.forceRelay). */
      iceTransportPolicy: 'all' | 'relay';
      /** Other live replicas (base URLs) to fail over to if this one becomes unreachable. */
      replicas: Array<{ replicaId: string; url: string }>;
      /** Who speaks now (see the activeSpeaker notification), null when nobody has yet. */
      activeSpeaker: string | null;
      /** This peer's role and permissions (the page shows moderation controls when `moderate`). */
      role: PeerRole;
      permissions: PeerPermissions;
    };
  };
  createTransport: {
    request: { direction: 'send' | 'recv' };
    response: TransportOptions;
  };
  connectTransport: {
    request: { transportId: string; dtlsParameters: unknown };
    response: Record<string, never>;
  };
  produce: {
    request: { transportId: string; kind: MediaKind; rtpParameters: unknown; source?: string; video?: VideoLayout };
    response: { producerId: string };
  };
  closeProducer: { request: { producerId: string }; response: Record<string, never> };
  pauseProducer: { request: { producerId: string }; response: Record<string, never> };
  resumeProducer: { request: { producerId: string }; response: Record<string, never> };
  /** Consumers start paused; call resumeConsumer once the client-side consumer exists. */
  consume: {
    request: { transportId: string; producerId: string; rtpCapabilities: unknown };
    response: { consumerId: string; producerId: string; peerId: string; kind: MediaKind; rtpParameters: unknown };
  };
  resumeConsumer: { request: { consumerId: string }; response: Record<string, never> };
  pauseConsumer: { request: { consumerId: string }; response: Record<string, never> };
  /**
   * The tile showing a video consumer: its size in device pixels and whether it is on screen. The server
   * picks the consumer's layer from it (and pauses it while hidden); the response says which.
   */
  setConsumerView: {
    request: { consumerId: string; width: number; height: number; visible: boolean };
    response: { paused: boolean; spatialLayer: number; temporalLayer: number };
  };
  /** Change spoken/listening language during the call. */
  updatePeer: {
    request: { spokenLanguage?: string; listeningLanguage?: string };
    response: Record<string, never>;
  };
  leave: { request: Record<string, never>; response: Record<string, never> };
  /** Moderation (needs `moderate`): remove another participant; they get `disconnecting` ERR_PEER_REMOVED with `reason`. */
  removePeer: { request: { peerId: string; reason?: string }; response: Record<string, never> };
  /** Moderation: mute (pause) or unmute another participant's track; its owner gets `mutedByModerator`. */
  mutePeer: { request: { peerId: string; producerId: string; muted: boolean }; response: Record<string, never> };
  /** Moderation: end the room for everyone (`disconnecting` ERR_ROOM_CLOSED with `reason`). */
  closeRoom: { request: { reason?: string }; response: Record<string, never> };
};

export type MethodName = keyof MethodMap;

export type NotificationMap = {
  peerJoined: { peer: PeerInfo };
  peerUpdated: { peer: PeerInfo };
  peerLeft: { peerId: string };
  newProducer: ProducerInfo;
  producerClosed: { producerId: string; peerId: string };
  producerPaused: { producerId: string; peerId: string };
  producerResumed: { producerId: string; peerId: string };
  consumerClosed: { consumerId: string; producerId: string };
  /** A line of live captions: the speaker's words (`original`) or their translation into `language`. */
  caption: {
    utteranceId: string;
    speakerPeerId: string;
    language: string;
    text: string;
    original: boolean;
    final: boolean;
    /** Simultaneous translation: the prefix of `text` that is committed (never changes); the rest is tentative. */
    committed?: string;
  };
  /** A translated voice started speaking `text` (the next words of that utterance's caption in `language`). */
  captionSpoken: { utteranceId: string; speakerPeerId: string; language: string; text: string };
  /** An utterance of `speakerPeerId` will not be translated: `code` says why (ERR_AI_SATURATED: every AI worker is full). */
  translationDropped: { utteranceId: string; speakerPeerId: string; code: string; message: string };
  /** The live replicas other than this one changed (started, gone, draining): where to go if this one fails. */
  replicas: { replicas: Array<{ replicaId: string; url: string }> };
  /** The peer who speaks now in this room (their own voice or its translation); null when nobody has yet. */
  activeSpeaker: { peerId: string | null };
  /** A moderator muted or unmuted one of this peer's own tracks. */
  mutedByModerator: { producerId: string; muted: boolean };
  /** This peer's permissions changed (a moderator or the server API); tracks it may no longer publish were closed. */
  permissionsChanged: { permissions: PeerPermissions };
  /** The server closes this socket next; `code` says why (e.g. ERR_SESSION_REPLACED). */
  disconnecting: { code: string; message: string; reconnect: boolean; url?: string };
};

export type NotificationName = keyof NotificationMap;

export const METHOD_NAMES: readonly MethodName[] = [
  'join', 'createTransport', 'connectTransport', 'produce', 'closeProducer', 'pauseProducer',
  'resumeProducer', 'consume', 'resumeConsumer', 'pauseConsumer', 'setConsumerView', 'updatePeer', 'leave',
  'removePeer', 'mutePeer', 'closeRoom',
];

/** WebSocket close codes the server uses (4000-4999 are application codes). */
export const CLOSE_CODES = {
  normal: 1000,
  tooLarge: 1009,
  /** Another socket joined with the same identity. */
  replaced: 4001,
  /** The peer was removed (left, kicked, grace expired). */
  removed: 4002,
  /** The replica is draining or shutting down; reconnect (possibly elsewhere). */
  goingAway: 4003,
  /** Too many protocol errors or a flood; the client should back off. */
  policy: 4008,
} as const;
