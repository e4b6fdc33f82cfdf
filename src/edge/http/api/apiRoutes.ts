/**
 * The server API on the gateway port (docs/server-api.md): one route per call of API_ROUTES. A call
 * reads its body (up to API_BODY_LIMIT), authenticates (authenticate.ts), validates its path
 * parameters and body (schemas.ts), then runs its handler (handlers.ts). Any replica serves any call.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { ApiCall } from '../../../api/types.js';
import type { Services } from '../../../app/services.js';
import { isValidId } from '../../../auth/tokens.js';
import { Errors, createError } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import { API_ROUTES, paramNames } from '../../../api/routes.js';
import { guard, readBody, sendJson } from '../respond.js';
import { apiEnabled, authenticate } from './authenticate.js';
import { API_HANDLERS, type ApiHandler, type ApiParams } from './handlers.js';
import { sendApiError } from './reply.js';
import { API_BODIES } from './schemas.js';

/** The largest request body the API reads, in bytes. */
export const API_BODY_LIMIT = 16 * 1024;

/** What a call needs from the request, read before the handler returns (uWS's request object dies then). */
type Incoming = { path: string; authorization: string; params: ApiParams; body: Promise<Buffer> };

export function apiRoutes(app: TemplatedApp, s: Services): void {
  const log = s.log.child({ module: 'api' });
  for (const call of Object.keys(API_ROUTES) as ApiCall[]) register(app, s, log, call);
  // Anything else under /api/v1 (an unknown path, or a known one with the wrong method).
  app.any('/api/v1/*', (res, req) => {
    const state = guard(res);
    const what = `${req.getMethod().toUpperCase()} ${req.getUrl()}`;
    sendApiError(res, state, apiEnabled(s.config) ? createError(Errors.NOT_FOUND, `no server API call ${what}`) : createError(Errors.API_DISABLED), log);
  });
}

function register<C extends ApiCall>(app: TemplatedApp, s: Services, log: Logger, call: C): void {
  const { method, path } = API_ROUTES[call];
  const names = paramNames(path);
  const on = method === 'GET' ? app.get.bind(app) : app.post.bind(app);
  on(path, (res, req) => {
    const state = guard(res);
    if (!apiEnabled(s.config)) {
      sendApiError(res, state, createError(Errors.API_DISABLED), log);
      return;
    }
    const incoming = read(res, req, names, method === 'POST');
    serve(s, log, call, incoming).then(
      (result) => sendJson(res, state, 200, result),
      (err: unknown) => sendApiError(res, state, err, log),
    );
  });
}

function read(res: HttpResponse, req: HttpRequest, names: ReadonlyArray<keyof ApiParams>, hasBody: boolean): Incoming {
  const params: ApiParams = { roomId: '', identity: '' };
  names.forEach((name, i) => (params[name] = req.getParameter(i) ?? ''));
  return {
    path: req.getUrl(),
    authorization: req.getHeader('authorization'),
    params,
    body: hasBody ? readBody(res, API_BODY_LIMIT) : Promise.resolve(Buffer.alloc(0)),
  };
}

async function serve<C extends ApiCall>(s: Services, log: Logger, call: C, incoming: Incoming): Promise<unknown> {
  const { method } = API_ROUTES[call];
  const raw = await incoming.body.catch((err: unknown) => {
    throw err instanceof Error && err.message === 'too-large' ? createError(Errors.MESSAGE_TOO_LARGE, `over ${API_BODY_LIMIT} bytes`) : err;
  });
  const claims = await authenticate(s.config, s.store, incoming.authorization, { method, path: incoming.path, body: raw });
  for (const [name, value] of Object.entries(incoming.params)) {
    if (value !== '' && !isValidId(value)) throw createError(Errors.INVALID_PARAMS, `${name} must be 1-64 characters of [A-Za-z0-9_.-]`);
  }
  const body = parseBody(call, raw);
  if (method !== 'GET') log.info({ call, jti: claims.jti, ...nonEmpty(incoming.params) }, 'server api call');
  return (API_HANDLERS[call] as ApiHandler<C>)(s, incoming.params, body as never);
}

/** The validated body of a call (an empty POST body counts as `{}`). */
function parseBody(call: ApiCall, raw: Buffer): unknown {
  const schema = API_BODIES[call];
  if (!schema) return undefined;
  let json: unknown;
  try {
    json = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch {
    throw createError(Errors.BAD_JSON);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw createError(Errors.INVALID_PARAMS, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return parsed.data;
}

function nonEmpty(params: ApiParams): Partial<ApiParams> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== ''));
}
