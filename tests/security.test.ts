/**
 * The security pass at the edge, each item against a real gateway and Redis: origin checks, per-address
 * connection and message limits (and who decides the address), single-use tokens, protected admin and
 * metrics endpoints, TURN credentials in the join response, and secrets kept out of a full run's logs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../src/app/gateway.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { TEST_SECRET, spawnGateway, startTestGateway } from '../src/devkit/gateway.js';
import { SignalingClient, testToken } from '../src/devkit/signaling.js';

let redis: EmbeddedRedis;
let open: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
});
afterEach(async () => {
  for (const o of open.reverse()) await o.close().catch(() => undefined);
  open = [];
});
afterAll(async () => {
  await redis?.stop();
});

async function gateway(overrides: Record<string, Record<string, unknown>>): Promise<Gateway> {
  const g = await startTestGateway(redis.url, overrides);
  open.push(g);
  return g;
}

async function client(url: string, headers: Record<string, string> = {}): Promise<SignalingClient> {
  const c = await SignalingClient.connect(url, { headers });
  open.push(c);
  return c;
}

/** The HTTP status and body of a refused upgrade (null when the upgrade succeeded). */
function refusedUpgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(null);
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

describe('edge security', () => {
  it('accepts only the configured browser origins', async () => {
    const g = await gateway({ http: { allowedOrigins: ['https://app.example.com'] } });
    expect(await refusedUpgrade(g.url, { origin: 'https://evil.example.com' })).toMatchObject({ status: 403 });
    expect(await refusedUpgrade(g.url, { origin: 'https://app.example.com' })).toBeNull();
  });

  it('caps connections per address; the address comes from X-Forwarded-For only with trustProxy', async () => {
    const g = await gateway({ http: { trustProxy: true, maxConnectionsPerIp: 3 } });
    const a = [];
    for (let i = 0; i < 3; i++) a.push(await client(g.url, { 'x-forwarded-for': '10.0.0.1' }));
    const refused = await refusedUpgrade(g.url, { 'x-forwarded-for': '10.0.0.1, 192.168.1.1' });
    expect(refused?.status).toBe(429);
    expect(JSON.parse(refused!.body).error.code).toBe('ERR_TOO_MANY_CONNECTIONS');
    expect(await refusedUpgrade(g.url, { 'x-forwarded-for': '10.0.0.2' })).toBeNull();
    await a[0]!.close();
    await new Promise((r) => setTimeout(r, 100));
    await client(g.url, { 'x-forwarded-for': '10.0.0.1' });

    // Without trustProxy the header is ignored: every one of these is 127.0.0.1.
    const direct = await gateway({ http: { maxConnectionsPerIp: 2 } });
    await client(direct.url, { 'x-forwarded-for': '10.0.0.7' });
    await client(direct.url, { 'x-forwarded-for': '10.0.0.8' });
    expect((await refusedUpgrade(direct.url, { 'x-forwarded-for': '10.0.0.9' }))?.status).toBe(429);
  });

  it('shares one message budget among all connections of an address', async () => {
    const g = await gateway({ http: { trustProxy: true, ipRateLimitPerSecond: 1, ipRateLimitBurst: 20 } });
    const [a, b] = [await client(g.url, { 'x-forwarded-for': '10.0.1.1' }), await client(g.url, { 'x-forwarded-for': '10.0.1.1' })];
    const other = await client(g.url, { 'x-forwarded-for': '10.0.1.2' });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).request('leave')));
    const limited = answers.filter((r) => r.error?.code === 'ERR_RATE_LIMITED').length;
    // 20 of the burst (plus at most a token or two refilled meanwhile) pass, whichever socket sent them.
    expect(limited).toBeGreaterThanOrEqual(8);
    expect(answers.filter((r) => r.error?.code === 'ERR_NOT_JOINED').length).toBeGreaterThanOrEqual(20);
    expect((await other.request('leave')).error?.code).toBe('ERR_NOT_JOINED');
  });

  it('a single-use token resumes its participant and brings them back after a removal they did not choose, but not after they left', async () => {
    const g = await gateway({ rooms: { reconnectGraceMs: 300 } });
    const tokenId = randomUUID();
    const token = await testToken('sec-room', 'alice', { tokenId });
    const first = await client(g.url);
    expect((await first.request('join', { token, roomId: 'sec-room' })).ok).toBe(true);
    // Same token again while alice is in the room: a reconnect, allowed.
    const again = await client(g.url);
    const resumed = await again.request('join', { token, roomId: 'sec-room' });
    expect(resumed.ok).toBe(true);
    expect(resumed.data.resumed).toBe(true);
    // Dropped and removed after the reconnect grace (not a leave): the token brings alice back.
    await again.close();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await g.services.rooms.get('sec-room'))?.peers['alice']).toBeUndefined();
    const back = await client(g.url);
    expect((await back.request('join', { token, roomId: 'sec-room' })).ok).toBe(true);
    expect((await back.request('leave')).ok).toBe(true);
    // Alice left: the token is spent.
    const replay = await client(g.url);
    expect((await replay.request('join', { token, roomId: 'sec-room' })).error?.code).toBe('ERR_TOKEN_USED');
    // A token without jti stays reusable; a token of another room, identity or issuer secret is refused as before.
    const reusable = await testToken('sec-room', 'bob');
    for (let i = 0; i < 2; i++) {
      const c = await client(g.url);
      expect((await c.request('join', { token: reusable, roomId: 'sec-room' })).ok).toBe(true);
      await c.request('leave');
    }
    const c = await client(g.url);
    expect((await c.request('join', { token: reusable, roomId: 'other-room' })).error?.code).toBe('ERR_TOKEN_WRONG_ROOM');
    expect((await c.request('join', { token: await testToken('sec-room', 'eve', { secret: 'not-the-secret-0123456789' }), roomId: 'sec-room' })).error?.code).toBe('ERR_TOKEN_INVALID');
    expect((await c.request('join', { token: await testToken('sec-room', 'eve', { ttlSeconds: -10 }), roomId: 'sec-room' })).error?.code).toBe('ERR_TOKEN_EXPIRED');
  });

  it('protects /metrics and /admin/drain with their bearer tokens', async () => {
    const g = await gateway({ auth: { metricsToken: 'metrics-secret-1', adminToken: 'admin-secret-1' } });
    expect((await fetch(`${g.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${g.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${g.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-1' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('parley_peers');
    const drain = await fetch(`${g.url}/admin/drain`, { method: 'POST', headers: { authorization: 'Bearer metrics-secret-1' } });
    expect(drain.status).toBe(401);
    expect((await drain.json()).error.code).toBe('ERR_FORBIDDEN');
    // With no admin token configured the endpoint does not exist at all.
    const plain = await gateway({});
    expect((await fetch(`${plain.url}/admin/drain`, { method: 'POST', headers: { authorization: 'Bearer ' } })).status).toBe(405);
  });

  it('hands each peer its own expiring TURN credential, never the secret', async () => {
    const g = await gateway({ turn: { urls: ['turn:127.0.0.1:3478?transport=tcp'], secret: 'turn-secret-1', credentialTtlSeconds: 300, forceRelay: true } });
    const c = await client(g.url);
    const joined = await c.request('join', { token: await testToken('turn-room', 'carol'), roomId: 'turn-room' });
    expect(joined.ok).toBe(true);
    const [server] = joined.data.iceServers;
    expect(server.urls).toEqual(['turn:127.0.0.1:3478?transport=tcp']);
    const [expiry, who] = server.username.split(':');
    expect(who).toBe('carol');
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(290);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThanOrEqual(301);
    expect(JSON.stringify(joined.data)).not.toContain('turn-secret-1');
    expect(joined.data.iceTransportPolicy).toBe('relay');
    const none = await gateway({});
    const d = await client(none.url);
    const plain = await d.request('join', { token: await testToken('turn-room2', 'dave'), roomId: 'turn-room2' });
    expect(plain.data).toMatchObject({ iceServers: [], iceTransportPolicy: 'all' });
  });

  it('never writes a configured secret or a join token to the logs of a full run, even at trace level', async () => {
    const secrets = { admin: `admin-${randomUUID()}`, metrics: `metrics-${randomUUID()}`, turn: `turn-${randomUUID()}` };
    const gw = await spawnGateway(redis.url, {
      replicaId: 'sec-logs',
      env: {
        PARLEY_LOG_LEVEL: 'trace',
        PARLEY_AUTH_ADMIN_TOKEN: secrets.admin,
        PARLEY_AUTH_METRICS_TOKEN: secrets.metrics,
        PARLEY_TURN_SECRET: secrets.turn,
        PARLEY_TURN_URLS: '["turn:127.0.0.1:3478"]',
      },
    });
    open.push({ close: () => gw.kill() });
    const dev = await (await fetch(`${gw.url}/dev/token`, { method: 'POST', body: JSON.stringify({ roomId: 'logs-room', displayName: 'Lo' }) })).json();
    const c = await client(gw.url, { authorization: `Bearer ${secrets.admin}` });
    const joined = await c.request('join', { token: dev.token, roomId: 'logs-room' });
    expect(joined.ok).toBe(true);
    await c.request('createTransport', { direction: 'send' });
    await c.request('join', { token: dev.token, roomId: 'logs-room' }); // refused: already joined
    await c.sendAnonymous(`{"type":"request","id":1,"method":"join","data":{"token":"${dev.token}"`); // truncated
    await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${secrets.metrics}` } });
    await fetch(`${gw.url}/admin/drain`, { method: 'POST', headers: { authorization: 'Bearer wrong-token' } });
    expect((await fetch(`${gw.url}/admin/drain`, { method: 'POST', headers: { authorization: `Bearer ${secrets.admin}` } })).status).toBe(202);
    await gw.exited;
    const logs = gw.logs();
    expect(logs).toContain('"msg":"request"'); // trace level really logged the requests, parameters included
    for (const [name, value] of Object.entries({ ...secrets, authSecret: TEST_SECRET, joinToken: dev.token, turnCredential: joined.data.iceServers[0].credential })) {
      expect(logs.includes(value), `${name} appears in the logs`).toBe(false);
    }
  });
});
