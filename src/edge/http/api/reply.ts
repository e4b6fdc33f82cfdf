/** Answers of the server API: the result as JSON, or a coded error `{ error: { code, message } }` with its HTTP status. */
import type { HttpResponse } from 'uWebSockets.js';
import { Errors, toErrorBody, type ErrorDefinition } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import { sendJson } from '../respond.js';

const STATUS_BY_CODE = new Map<string, number>(Object.values(Errors).map((d: ErrorDefinition) => [d.code, d.httpStatus]));

/** The HTTP status and body for any thrown value (internals stay private and are logged). */
export function errorReply(err: unknown, log: Logger): { status: number; body: { error: ReturnType<typeof toErrorBody> } } {
  const error = toErrorBody(err);
  const status = STATUS_BY_CODE.get(error.code) ?? 500;
  if (status >= 500 && error.code !== Errors.API_DISABLED.code) log.warn({ err }, 'server api call failed');
  return { status, body: { error } };
}

export function sendApiError(res: HttpResponse, state: { aborted: boolean }, err: unknown, log: Logger): void {
  const { status, body } = errorReply(err, log);
  sendJson(res, state, status, body);
}
