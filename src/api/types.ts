/**
 * The server API's contract (docs/server-api.md): what an app's backend sends and gets back, shared by the
 * gateway's routes (src/edge/http/api) and the server SDK (src/sdk). Pure types: no runtime imports.
 */
import type { MediaKind, PeerPermissions, PeerRole } from '../protocol/messages.js';

export type ApiTrack = {
  /** The producer id (the same on every replica). */
  trackId: string;
  kind: MediaKind;
  /** 'mic', 'cam', 'screen', or 'translation:<lang>' for a translated voice. */
  source: string;
  /** Paused by its owner or muted by a moderator. */
  muted: boolean;
};

export type ApiParticipant = {
  identity: string;
  name: string;
  role: PeerRole;
  permissions: PeerPermissions;
  /** The gateway replica holding the participant's connection. */
  replicaId: string;
  spokenLanguage: string;
  listeningLanguage: string;
  /** ms since epoch. */
  joinedAt: number;
  tracks: ApiTrack[];
};

export type ApiRoom = {
  roomId: string;
  /** ms since epoch. */
  createdAt: number;
  participants: number;
  /** Replicas hosting at least one participant. */
  replicas: string[];
  /** True while some participant listens in a language another speaks (the gateway translates). */
  translation: boolean;
};

/** `POST /api/v1/tokens` */
export type CreateTokenRequest = {
  roomId: string;
  identity: string;
  name?: string;
  /** Default 'speaker'. */
  role?: PeerRole;
  /** Permissions that differ from the role's defaults. */
  permissions?: Partial<PeerPermissions>;
  /** The languages the participant starts with when its page names none. */
  languages?: { spoken?: string; listening?: string };
  /** Default 3600. */
  ttlSeconds?: number;
  /** Default true: the token admits its participant once (docs/protocol.md, single-use tokens). */
  singleUse?: boolean;
};
export type CreateTokenResponse = { token: string; identity: string; expiresAt: number };

/** The calls of the server API: method -> path -> body -> result. Paths use `:roomId` and `:identity`. */
export type ApiRoutes = {
  createToken: { method: 'POST'; path: '/api/v1/tokens'; body: CreateTokenRequest; result: CreateTokenResponse };
  listRooms: { method: 'GET'; path: '/api/v1/rooms'; body: undefined; result: { rooms: ApiRoom[] } };
  getRoom: { method: 'GET'; path: '/api/v1/rooms/:roomId'; body: undefined; result: ApiRoom };
  closeRoom: { method: 'POST'; path: '/api/v1/rooms/:roomId/close'; body: { reason?: string }; result: Record<string, never> };
  listParticipants: { method: 'GET'; path: '/api/v1/rooms/:roomId/participants'; body: undefined; result: { participants: ApiParticipant[] } };
  getParticipant: { method: 'GET'; path: '/api/v1/rooms/:roomId/participants/:identity'; body: undefined; result: ApiParticipant };
  removeParticipant: { method: 'POST'; path: '/api/v1/rooms/:roomId/participants/:identity/remove'; body: { reason?: string }; result: Record<string, never> };
  muteTrack: { method: 'POST'; path: '/api/v1/rooms/:roomId/participants/:identity/mute'; body: { trackId: string; muted: boolean }; result: ApiTrack };
  updatePermissions: {
    method: 'POST';
    path: '/api/v1/rooms/:roomId/participants/:identity/permissions';
    body: { permissions: Partial<PeerPermissions> };
    result: ApiParticipant;
  };
};
export type ApiCall = keyof ApiRoutes;

/**
 * Request authentication: `Authorization: Bearer <jwt>`, HS256 with an API secret, header `kid` = the API
 * key. Claims: `iat`, `exp` (at most api.maxRequestAgeSeconds after iat), `jti` (single use: a replay is
 * refused), `method`, `path` (as sent, without the query), `sha256` (hex SHA-256 of the body; of "" for GET).
 */
export type ApiRequestClaims = { jti: string; iat: number; exp: number; method: string; path: string; sha256: string };

/** What the gateway does for the routes; any replica serves any call (acts reach the hosting replica by RPC). */
export interface RoomAdmin {
  listRooms(): Promise<ApiRoom[]>;
  getRoom(roomId: string): Promise<ApiRoom>;
  listParticipants(roomId: string): Promise<ApiParticipant[]>;
  getParticipant(roomId: string, identity: string): Promise<ApiParticipant>;
  removeParticipant(roomId: string, identity: string, reason: string): Promise<void>;
  muteTrack(roomId: string, identity: string, trackId: string, muted: boolean): Promise<ApiTrack>;
  updatePermissions(roomId: string, identity: string, permissions: Partial<PeerPermissions>): Promise<ApiParticipant>;
  /** `spare`: a participant to leave in for now (a moderator ending the room over its own socket goes last). */
  closeRoom(roomId: string, reason: string, options?: { spare?: string }): Promise<void>;
}

/** Webhook event kinds (docs/webhooks.md). */
export type WebhookEventKind =
  | 'room_started'
  | 'room_finished'
  | 'participant_joined'
  | 'participant_left'
  | 'track_published'
  | 'track_unpublished'
  | 'translation_started'
  | 'translation_stopped';

/**
 * One webhook delivery's body. `id` is unique per event (receivers de-duplicate on it: delivery is at least
 * once); `seq` orders a room's events. Headers: `Parley-Key` (the API key), `Parley-Signature`
 * (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the key's secret>`).
 */
export type WebhookEvent = {
  id: string;
  event: WebhookEventKind;
  roomId: string;
  /**
   * The room change the event came from: a room's changes count up by one, and the events of one change (e.g.
   * track_unpublished, participant_left, room_finished as the last peer leaves) share its seq, in a fixed
   * order (their ids end in _0, _1, ...). docs/webhooks.md has what receivers may rely on.
   */
  seq: number;
  /** ms since epoch, when the gateway saw it happen. */
  createdAt: number;
  participant?: { identity: string; name: string; role: PeerRole; replicaId: string };
  track?: { trackId: string; kind: MediaKind; source: string };
  /** translation_started/stopped: whose speech, into which language. */
  translation?: { speakerIdentity: string; language: string };
};
