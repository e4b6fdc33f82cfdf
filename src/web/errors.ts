/**
 * Errors the browser client raises itself. Server errors keep the server's code (docs/errors.md);
 * codes made up here start with ERR_CLIENT_ so they never collide with the server catalogue.
 */

import type { ErrorBody } from '../protocol/messages.js';

export const ClientErrors = {
  TIMEOUT: 'ERR_CLIENT_TIMEOUT',
  SOCKET_CLOSED: 'ERR_CLIENT_SOCKET_CLOSED',
  CONNECT_FAILED: 'ERR_CLIENT_CONNECT_FAILED',
  TOKEN_UNAVAILABLE: 'ERR_CLIENT_TOKEN_UNAVAILABLE',
  MEDIA_DEVICE: 'ERR_CLIENT_MEDIA_DEVICE',
  MEDIA: 'ERR_CLIENT_MEDIA',
  SESSION_ENDED: 'ERR_CLIENT_SESSION_ENDED',
} as const;

/** A coded error as the UI shows it: the server's `{ code, message }` or one of ClientErrors. */
export class ClientError extends Error {
  readonly code: string;
  /** The server's `error.data`, when it sent one (e.g. `url` with ERR_REPLICA_DRAINING). */
  readonly data: Record<string, unknown> | null;

  constructor(code: string, message: string, data: Record<string, unknown> | null = null) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.data = data;
  }

  static fromBody(body: ErrorBody): ClientError {
    return new ClientError(body.code, body.message, body.data ?? null);
  }

  toBody(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Wraps anything thrown into a ClientError, keeping a code when there is one. */
export function toClientError(err: unknown, fallbackCode: string = ClientErrors.MEDIA): ClientError {
  if (err instanceof ClientError) return err;
  if (err instanceof Error) return new ClientError(fallbackCode, err.message || err.name);
  return new ClientError(fallbackCode, String(err));
}

/** A `consume` of a producer that has left the room (it may leave while the page asks). */
export const PRODUCER_GONE = 'ERR_PRODUCER_NOT_FOUND';

/** A `join` refused because the replica is draining; `error.data.url` names a live replica to join instead. */
export const REPLICA_DRAINING = 'ERR_REPLICA_DRAINING';

/** The live replica a draining one pointed to, if it named one. */
export function drainTarget(error: ClientError): string | null {
  const url = error.data?.url;
  return typeof url === 'string' && url !== '' ? url : null;
}

/** A moderator (or the server API) removed this peer; the message is the reason given, if any. */
export const PEER_REMOVED = 'ERR_PEER_REMOVED';

/** A moderator (or the server API) ended the room for everyone; the message is the reason given, if any. */
export const ROOM_CLOSED = 'ERR_ROOM_CLOSED';

/** `disconnecting` codes after which the page never reconnects, whatever the notification's `reconnect` says. */
export const FINAL_DISCONNECTS: ReadonlySet<string> = new Set([PEER_REMOVED, ROOM_CLOSED]);

/** Refusals of a token the page got from the dev endpoint that a fresh one fixes. */
export const RENEWABLE_TOKEN_ERRORS: ReadonlySet<string> = new Set(['ERR_TOKEN_USED', 'ERR_TOKEN_EXPIRED']);

/**
 * Server errors after which joining again with the same token cannot succeed; the client stops
 * reconnecting and shows them instead.
 */
export const FATAL_JOIN_ERRORS: ReadonlySet<string> = new Set([
  'ERR_TOKEN_INVALID',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_USED',
  'ERR_TOKEN_WRONG_ROOM',
  'ERR_FORBIDDEN',
  'ERR_ROOM_FULL',
  'ERR_ROOM_NOT_FOUND',
  'ERR_SESSION_REPLACED',
  PEER_REMOVED,
  ROOM_CLOSED,
  'ERR_INVALID_PARAMS',
]);
