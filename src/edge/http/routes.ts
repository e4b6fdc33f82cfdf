import { randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import type { Services } from '../../app/services.js';
import { isValidId, signJoinToken } from '../../auth/tokens.js';
import { Errors, toErrorBody } from '../../errors.js';
import { aiHealth } from './aiRoutes.js';
import { guard, readBody, send, sendJson } from './respond.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function healthRoutes(app: TemplatedApp, s: Services): void {
  app.get('/health', (res) => {
    const state = guard(res);
    // Liveness plus which AI engines serve which languages (from the AI workers' directory in Redis).
    void aiHealth(s).then((ai) => sendJson(res, state, 200, { status: 'ok', replicaId: s.replicaId, uptimeSeconds: Math.round(process.uptime()), ai }));
  });
  app.get('/ready', (res) => {
    const state = guard(res);
    void s.store.ping().then((redis) => {
      const workers = s.pool.states();
      const ready = redis && s.pool.ready && !s.lifecycle.shuttingDown;
      sendJson(res, state, ready ? 200 : 503, { ready, redis, shuttingDown: s.lifecycle.shuttingDown, workers });
    });
  });
  const metricsAuth = s.config.auth.metricsToken ? bearerCheck(s.config.auth.metricsToken) : null;
  app.get('/metrics', (res, req) => {
    const state = guard(res);
    if (metricsAuth && !metricsAuth(req.getHeader('authorization'))) {
      sendJson(res, state, 401, { error: { code: Errors.FORBIDDEN.code, message: 'metrics token required' } });
      return;
    }
    void s.metrics.text().then((text) => send(res, state, 200, s.metrics.contentType, text));
  });
}

const devTokenBody = z
  .object({ roomId: z.string(), displayName: z.string().min(1).max(64), role: z.enum(['speaker', 'listener']).optional() })
  .strict();

/** POST /dev/token — exists only in dev mode: anyone may mint a token, which is the point of dev mode. */
export function devTokenRoute(app: TemplatedApp, s: Services): void {
  app.post('/dev/token', (res) => {
    const state = guard(res);
    readBody(res, 4096)
      .then(async (buf) => {
        const parsed = devTokenBody.safeParse(JSON.parse(buf.toString('utf8') || '{}'));
        if (!parsed.success || !isValidId(parsed.data.roomId)) {
          sendJson(res, state, 400, { error: { code: Errors.INVALID_PARAMS.code, message: 'expected { roomId: [A-Za-z0-9_.-]{1,64}, displayName, role? }' } });
          return;
        }
        const identity = randomUUID();
        const { token, expiresAt } = await signJoinToken(s.tokenKey, {
          roomId: parsed.data.roomId,
          identity,
          tokenId: randomUUID(),
          displayName: parsed.data.displayName,
          role: parsed.data.role ?? 'speaker',
          ttlSeconds: s.config.auth.devTokenTtlSeconds,
        });
        sendJson(res, state, 200, { token, identity, expiresAt });
      })
      .catch((err: unknown) => {
        const tooLarge = err instanceof Error && err.message === 'too-large';
        const body = tooLarge ? { code: Errors.MESSAGE_TOO_LARGE.code, message: Errors.MESSAGE_TOO_LARGE.message } : err instanceof SyntaxError ? { code: Errors.BAD_JSON.code, message: Errors.BAD_JSON.message } : toErrorBody(err);
        sendJson(res, state, tooLarge ? 413 : 400, { error: body });
      });
  });
}

/** Serves the built web client (dist/web) from memory; `/` is index.html. */
export function staticRoutes(app: TemplatedApp, webDir: string): void {
  const files = new Map<string, { type: string; body: Buffer }>();
  if (existsSync(webDir)) {
    for (const name of readdirSync(webDir)) {
      files.set(`/${name}`, { type: MIME[extname(name)] ?? 'application/octet-stream', body: readFileSync(join(webDir, name)) });
    }
  }
  app.get('/*', (res, req) => {
    const state = guard(res);
    const url = req.getUrl();
    const file = files.get(url === '/' ? '/index.html' : url);
    if (!file) {
      const hint = files.size === 0 ? ' (web client not built: run "npm run build:web")' : '';
      sendJson(res, state, 404, { error: { code: Errors.NOT_FOUND.code, message: `${Errors.NOT_FOUND.message}${hint}` } });
      return;
    }
    send(res, state, 200, file.type, file.body);
  });
  app.any('/*', (res) => sendJson(res, guard(res), 405, { error: { code: Errors.NOT_FOUND.code, message: 'Method not allowed' } }));
}

/** GET /rooms/:roomId/connect — the least-loaded healthy replica for a (new or returning) peer of the room. */
export function connectRoute(app: TemplatedApp, s: Services): void {
  app.get('/rooms/:roomId/connect', (res, req) => {
    const state = guard(res);
    const roomId = req.getParameter(0) ?? '';
    if (!isValidId(roomId)) {
      sendJson(res, state, 400, { error: { code: Errors.INVALID_PARAMS.code, message: 'room id must be 1-64 characters of [A-Za-z0-9_.-]' } });
      return;
    }
    // Pages served by one replica ask the others when theirs is down: allow any origin (the answer is public).
    const cors = { 'access-control-allow-origin': '*' };
    const target = s.cluster.connectTarget();
    if (!target) {
      sendJson(res, state, 503, { error: { code: Errors.NOT_READY.code, message: 'no replica is accepting peers' } }, cors);
      return;
    }
    sendJson(res, state, 200, { url: target.url, replicaId: target.replicaId, roomId }, cors);
  });
}

/** POST /admin/drain — needs `Authorization: Bearer <auth.adminToken>`; absent when no admin token is configured. */
export function adminRoutes(app: TemplatedApp, s: Services): void {
  const authorized = bearerCheck(s.config.auth.adminToken);
  app.post('/admin/drain', (res, req) => {
    const state = guard(res);
    if (!authorized(req.getHeader('authorization'))) {
      sendJson(res, state, 401, { error: { code: Errors.FORBIDDEN.code, message: 'admin token required' } });
      return;
    }
    s.requestDrain();
    sendJson(res, state, 202, { draining: true, replicaId: s.replicaId, peers: s.sessions.size });
  });
}

/** A constant-time check of an `Authorization: Bearer <token>` header. */
function bearerCheck(token: string): (header: string) => boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  return (header) => {
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
