/**
 * The catalogue of coded errors. Every code is documented in docs/errors.md
 * (a test checks both lists match). Codes are never reused for another meaning.
 */

export type ErrorDefinition = { code: string; message: string; httpStatus: number };

/** An error the gateway reports to a client as `{ code, message }`. */
export class ParleyError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly data?: Record<string, unknown>;

  constructor(def: ErrorDefinition, detail?: string, data?: Record<string, unknown>) {
    super(detail ? `${def.message}: ${detail}` : def.message);
    this.name = 'ParleyError';
    this.code = def.code;
    this.httpStatus = def.httpStatus;
    this.data = data;
  }
}

/** A call made in a state that does not allow it (mediasoup's naming). */
export class InvalidStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}

function define(code: string, message: string, httpStatus = 400): ErrorDefinition {
  return { code, message, httpStatus };
}

export const Errors = {
  BAD_JSON: define('ERR_BAD_JSON', 'Message is not valid JSON'),
  BAD_MESSAGE: define('ERR_BAD_MESSAGE', 'Message does not have the request shape'),
  MESSAGE_TOO_LARGE: define('ERR_MESSAGE_TOO_LARGE', 'Message exceeds the size limit', 413),
  UNKNOWN_METHOD: define('ERR_UNKNOWN_METHOD', 'Unknown method', 404),
  INVALID_PARAMS: define('ERR_INVALID_PARAMS', 'Invalid request parameters'),
  RATE_LIMITED: define('ERR_RATE_LIMITED', 'Too many messages; slow down', 429),
  TOO_MANY_CONNECTIONS: define('ERR_TOO_MANY_CONNECTIONS', 'Too many connections from this address', 429),
  NOT_JOINED: define('ERR_NOT_JOINED', 'Join a room first', 409),
  ALREADY_JOINED: define('ERR_ALREADY_JOINED', 'This connection already joined a room', 409),
  TOKEN_INVALID: define('ERR_TOKEN_INVALID', 'Join token is invalid', 401),
  TOKEN_EXPIRED: define('ERR_TOKEN_EXPIRED', 'Join token has expired', 401),
  TOKEN_WRONG_ROOM: define('ERR_TOKEN_WRONG_ROOM', 'Join token is for another room', 403),
  TOKEN_USED: define('ERR_TOKEN_USED', 'Join token was already used', 401),
  FORBIDDEN: define('ERR_FORBIDDEN', 'The role in the token does not allow this', 403),
  ROOM_FULL: define('ERR_ROOM_FULL', 'Room has reached its peer limit', 409),
  ROOM_NOT_FOUND: define('ERR_ROOM_NOT_FOUND', 'Room does not exist', 404),
  TRANSPORT_NOT_FOUND: define('ERR_TRANSPORT_NOT_FOUND', 'No such transport on this peer', 404),
  TRANSPORT_LIMIT: define('ERR_TRANSPORT_LIMIT', 'Too many transports for this peer', 409),
  PRODUCER_NOT_FOUND: define('ERR_PRODUCER_NOT_FOUND', 'No such producer', 404),
  PRODUCER_LIMIT: define('ERR_PRODUCER_LIMIT', 'Too many producers for this peer', 409),
  CONSUMER_NOT_FOUND: define('ERR_CONSUMER_NOT_FOUND', 'No such consumer on this peer', 404),
  CANNOT_CONSUME: define('ERR_CANNOT_CONSUME', 'The given RTP capabilities cannot consume this producer'),
  WRONG_STATE: define('ERR_WRONG_STATE', 'Call not allowed in the current state', 409),
  SESSION_REPLACED: define('ERR_SESSION_REPLACED', 'The same identity joined from another connection', 409),
  PEER_REMOVED: define('ERR_PEER_REMOVED', 'The peer was removed from the room', 410),
  ROOM_CLOSED: define('ERR_ROOM_CLOSED', 'The room was ended by a moderator', 410),
  PARTICIPANT_NOT_FOUND: define('ERR_PARTICIPANT_NOT_FOUND', 'No such participant in the room', 404),
  API_UNAUTHORIZED: define('ERR_API_UNAUTHORIZED', 'Server API request is not signed by a known API key', 401),
  API_REQUEST_EXPIRED: define('ERR_API_REQUEST_EXPIRED', 'Server API request signature has expired', 401),
  API_REPLAYED: define('ERR_API_REPLAYED', 'Server API request was already used', 401),
  API_DISABLED: define('ERR_API_DISABLED', 'The server API is off, or no API key is configured', 503),
  MEDIA_RESTART: define('ERR_MEDIA_RESTART', 'Media for this room restarted; reconnect', 503),
  REPLICA_DRAINING: define('ERR_REPLICA_DRAINING', 'This replica is draining; join another (see data.url)', 503),
  REPLICA_UNREACHABLE: define('ERR_REPLICA_UNREACHABLE', 'Another replica of the room did not answer', 503),
  UNSUPPORTED_LANGUAGE: define('ERR_UNSUPPORTED_LANGUAGE', 'No engine serves this language or language pair', 400),
  MODEL_MISSING: define('ERR_MODEL_MISSING', 'The model this engine needs is not installed', 503),
  ENGINE_FAILED: define('ERR_ENGINE_FAILED', 'A speech or translation engine failed or timed out', 502),
  UTTERANCE_DROPPED: define('ERR_UTTERANCE_DROPPED', 'An utterance was dropped (too old, queue full, or engine failure)', 503),
  AI_SATURATED: define('ERR_AI_SATURATED', 'Translation is saturated: no AI worker can take another speaker now', 503),
  STREAM_STALLED: define('ERR_STREAM_STALLED', 'A speech stream stopped sending audio before its end', 503),
  PLAYOUT_BEHIND: define('ERR_PLAYOUT_BEHIND', 'A translated segment was dropped: its voice was too far behind the speaker', 503),
  NOT_READY: define('ERR_NOT_READY', 'Gateway is not ready', 503),
  SHUTTING_DOWN: define('ERR_SHUTTING_DOWN', 'Gateway is shutting down', 503),
  NOT_FOUND: define('ERR_NOT_FOUND', 'Not found', 404),
  INTERNAL: define('ERR_INTERNAL', 'Internal error', 500),
} as const satisfies Record<string, ErrorDefinition>;

export function createError(def: ErrorDefinition, detail?: string, data?: Record<string, unknown>): ParleyError {
  return new ParleyError(def, detail, data);
}

/** Maps any thrown value to the `{ code, message }` a client sees; internals stay private. */
export function toErrorBody(err: unknown): { code: string; message: string; data?: Record<string, unknown> } {
  if (err instanceof ParleyError) return { code: err.code, message: err.message, ...(err.data ? { data: err.data } : {}) };
  if (err instanceof InvalidStateError) return { code: Errors.WRONG_STATE.code, message: err.message };
  if (err instanceof TypeError) return { code: Errors.INVALID_PARAMS.code, message: err.message };
  return { code: Errors.INTERNAL.code, message: Errors.INTERNAL.message };
}
