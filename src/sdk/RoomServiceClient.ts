/**
 * The server API client an app's backend uses (docs/server-api.md): one typed method per call, each
 * request signed with the app's API key. Uses only the global fetch (Node 20+).
 */
import { signApiRequest, type ApiKeyPair } from '../api/requestAuth.js';
import type { ApiCall, ApiParticipant, ApiRoom, ApiRoutes, ApiTrack, CreateTokenRequest, CreateTokenResponse } from '../api/types.js';
import type { PeerPermissions } from '../protocol/messages.js';
import { ApiError } from './ApiError.js';
import { API_ROUTES, fillPath, type PathParams } from '../api/routes.js';

export type RoomServiceClientOptions = {
  /** Lifetime of each request's token, in seconds (at most the gateway's api.maxRequestAgeSeconds). Default 60. */
  requestTtlSeconds?: number;
  /** Per-request timeout in ms. Default 10000. */
  timeoutMs?: number;
};

type Result<C extends ApiCall> = ApiRoutes[C]['result'];

export class RoomServiceClient {
  readonly #base: string;
  readonly #pair: ApiKeyPair;
  readonly #ttlSeconds: number | undefined;
  readonly #timeoutMs: number;

  /**
   * `url`: the gateway (any replica, or the load balancer in front of them), e.g. https://parley.example.com.
   * A path in it (a proxy's prefix the proxy strips) is kept in front of each call's path but not signed.
   */
  constructor(url: string, apiKey: string, apiSecret: string, options: RoomServiceClientOptions = {}) {
    this.#base = new URL(url).href.replace(/\/+$/, '');
    this.#pair = { key: apiKey, secret: apiSecret };
    this.#ttlSeconds = options.requestTtlSeconds;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** A join token for a participant (signed by the gateway). */
  createToken(request: CreateTokenRequest): Promise<CreateTokenResponse> {
    return this.#call('createToken', {}, request);
  }

  listRooms(): Promise<Result<'listRooms'>> {
    return this.#call('listRooms', {}, undefined);
  }

  getRoom(roomId: string): Promise<ApiRoom> {
    return this.#call('getRoom', { roomId }, undefined);
  }

  /** Ends the room: every participant gets `disconnecting` ERR_ROOM_CLOSED with `reason`. */
  closeRoom(roomId: string, reason?: string): Promise<Result<'closeRoom'>> {
    return this.#call('closeRoom', { roomId }, reason === undefined ? {} : { reason });
  }

  listParticipants(roomId: string): Promise<Result<'listParticipants'>> {
    return this.#call('listParticipants', { roomId }, undefined);
  }

  getParticipant(roomId: string, identity: string): Promise<ApiParticipant> {
    return this.#call('getParticipant', { roomId, identity }, undefined);
  }

  /** Removes a participant: they get `disconnecting` ERR_PEER_REMOVED with `reason`. */
  removeParticipant(roomId: string, identity: string, reason?: string): Promise<Result<'removeParticipant'>> {
    return this.#call('removeParticipant', { roomId, identity }, reason === undefined ? {} : { reason });
  }

  /** Mutes (or unmutes) one of a participant's tracks; its owner gets `mutedByModerator`. */
  muteTrack(roomId: string, identity: string, trackId: string, muted: boolean): Promise<ApiTrack> {
    return this.#call('muteTrack', { roomId, identity }, { trackId, muted });
  }

  /** Changes some of a participant's permissions; they get `permissionsChanged`. */
  updatePermissions(roomId: string, identity: string, permissions: Partial<PeerPermissions>): Promise<ApiParticipant> {
    return this.#call('updatePermissions', { roomId, identity }, { permissions });
  }

  async #call<C extends ApiCall>(call: C, params: PathParams, body: ApiRoutes[C]['body']): Promise<Result<C>> {
    const { method, path: pattern } = API_ROUTES[call];
    const path = fillPath(pattern, params);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const token = await signApiRequest(this.#pair, { method, path, body: text }, this.#ttlSeconds);
    const res = await fetch(`${this.#base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(text === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(text === undefined ? {} : { body: text }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const answer = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      throw new Error(`${method} ${path}: HTTP ${res.status} with a body that is not JSON: ${answer.slice(0, 200)}`);
    }
    if (res.ok) return parsed as Result<C>;
    const error = (parsed as { error?: { code?: unknown; message?: unknown; data?: Record<string, unknown> } }).error;
    if (typeof error?.code !== 'string') throw new Error(`${method} ${path}: HTTP ${res.status} without an error code`);
    throw new ApiError(error.code, res.status, typeof error.message === 'string' ? error.message : error.code, error.data);
  }
}
