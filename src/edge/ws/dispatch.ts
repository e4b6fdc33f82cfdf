import type { Services } from '../../app/services.js';
import { Errors, ParleyError, createError, toErrorBody } from '../../errors.js';
import type { MethodName, ResponseMessage } from '../../protocol/messages.js';
import { HANDLERS } from './handlers/index.js';
import type { ConnectionState, MethodHandler } from './types.js';

type Envelope = { id: number; method: string; data: unknown };

function parseEnvelope(text: string): Envelope {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw createError(Errors.BAD_JSON);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) throw createError(Errors.BAD_MESSAGE, 'expected an object');
  const { type, id, method, data } = msg as Record<string, unknown>;
  if (type !== 'request') throw createError(Errors.BAD_MESSAGE, 'type must be "request"');
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw createError(Errors.BAD_MESSAGE, 'id must be a non-negative integer');
  if (typeof method !== 'string') throw createError(Errors.BAD_MESSAGE, 'method must be a string', { id });
  if (data !== undefined && (data === null || typeof data !== 'object' || Array.isArray(data))) {
    throw createError(Errors.BAD_MESSAGE, 'data must be an object', { id });
  }
  return { id, method, data: data ?? {} };
}

/** Best effort: the request id of a message we refuse before parsing it fully. */
function idOf(err: ParleyError): number | null {
  const id = err.data?.id;
  return typeof id === 'number' ? id : null;
}

function reply(conn: ConnectionState, message: ResponseMessage): void {
  if (!conn.closed) conn.link.send(message);
}

/**
 * Handles one WebSocket frame: size and rate limits, envelope, method lookup,
 * join check, parameter validation, then the method's handler. Every refusal is
 * a coded error response; nothing here closes the connection.
 */
export async function dispatch(conn: ConnectionState, services: Services, frame: { text: string | null; bytes: number }): Promise<void> {
  const started = performance.now();
  let method = 'unknown';
  let id: number | null = null;
  try {
    if (frame.bytes > services.config.http.maxMessageBytes) {
      throw createError(Errors.MESSAGE_TOO_LARGE, `${frame.bytes} > ${services.config.http.maxMessageBytes} bytes`);
    }
    // Every frame spends a token, but the envelope is read first so a refusal can name the request id.
    const allowed = conn.limiter.take();
    if (frame.text === null) throw createError(Errors.BAD_MESSAGE, 'binary frames are not accepted');
    const env = parseEnvelope(frame.text);
    id = env.id;
    // Parameters only at trace level; credentials in them (the join token) are censored by the logger.
    services.log.trace({ connection: conn.id, id, method: env.method.slice(0, 64), data: env.data }, 'request');
    if (!allowed) throw createError(Errors.RATE_LIMITED);
    if (!Object.hasOwn(HANDLERS, env.method)) throw createError(Errors.UNKNOWN_METHOD, env.method.slice(0, 64));
    method = env.method;
    const handler = HANDLERS[env.method as MethodName] as MethodHandler<MethodName>;
    const session = conn.session;
    if (!handler.beforeJoin && !session) throw createError(Errors.NOT_JOINED);
    if (session && !handler.beforeJoin && !session.media) throw createError(Errors.WRONG_STATE, 'media is reconnecting');
    const parsed = handler.params.safeParse(env.data);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ');
      throw createError(Errors.INVALID_PARAMS, detail.slice(0, 300));
    }
    const data = await handler.handle({ conn, services, session: session! }, parsed.data);
    reply(conn, { type: 'response', id, ok: true, data });
    services.metrics.observeRequest(method, 'ok', performance.now() - started);
  } catch (err) {
    const body = toErrorBody(err);
    if (!(err instanceof ParleyError)) services.log.error({ err, method, connection: conn.id }, 'request failed');
    if (id === null && err instanceof ParleyError) id = idOf(err);
    services.log.debug({ connection: conn.id, id, method, code: body.code }, 'request refused');
    reply(conn, { type: 'response', id, ok: false, error: body });
    services.metrics.observeRequest(method, body.code, performance.now() - started);
  }
}
