/**
 * The server API (docs/server-api.md) against real gateways: two replicas sharing one embedded Redis,
 * driven through the SDK client (src/sdk) and, for what the SDK never sends, plain fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/app/gateway.js';
import { signApiRequest, type ApiKeyPair } from '../src/api/requestAuth.js';
import { startTestGateway, TEST_SECRET } from '../src/devkit/gateway.js';
import { waitFor } from '../src/devkit/media.js';
import { SignalingClient, testToken, OPUS_SEND, TEST_DTLS } from '../src/devkit/signaling.js';
import { ApiError, createJoinToken, RoomServiceClient } from '../src/sdk/index.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';

const CURRENT: ApiKeyPair = { key: 'app-key-2', secret: 'current-api-secret-0123456789abcdefghij' };
const OLD: ApiKeyPair = { key: 'app-key-1', secret: 'old-api-secret-0123456789abcdefghijklmno' };
const API = { api: { keys: [OLD, CURRENT], maxRequestAgeSeconds: 120 } };


let redis: EmbeddedRedis;
let a: Gateway;
let b: Gateway;
/** A third replica whose API is off. */
let off: Gateway;
const clients: SignalingClient[] = [];

/** The SDK client for a gateway, signing with `pair`. */
function api(g: Gateway, pair: ApiKeyPair = CURRENT): RoomServiceClient {
  return new RoomServiceClient(g.url, pair.key, pair.secret);
}

/** The coded error a call fails with (fails the test when it succeeds). */
async function refused(call: Promise<unknown>): Promise<{ code: string; status: number }> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the call should have been refused').toBeInstanceOf(ApiError);
  const { code, status } = err as ApiError;
  return { code, status };
}

/** A raw request: `token` signed by the caller, the body sent as given. */
async function raw(g: Gateway, method: string, path: string, token: string | null, body?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${g.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body === undefined ? {} : { body }) });
  return { status: res.status, json: await res.json() };
}

async function joined(g: Gateway, roomId: string, identity: string, token?: string): Promise<{ c: SignalingClient; data: any }> {
  const c = await SignalingClient.connect(g.url);
  clients.push(c);
  const res = await c.request('join', { token: token ?? (await testToken(roomId, identity)), roomId });
  expect(res.ok, JSON.stringify(res.error)).toBe(true);
  return { c, data: res.data };
}

/** A peer producing (synthetic) audio on `g`; resolves with its client and its producer id. */
async function producing(g: Gateway, roomId: string, identity: string): Promise<{ c: SignalingClient; producerId: string }> {
  const { c } = await joined(g, roomId, identity);
  const send = await c.request('createTransport', { direction: 'send' });
  expect((await c.request('connectTransport', { transportId: send.data.id, dtlsParameters: TEST_DTLS })).ok).toBe(true);
  const produced = await c.request('produce', { transportId: send.data.id, kind: 'audio', rtpParameters: OPUS_SEND, source: 'mic' });
  expect(produced.ok, JSON.stringify(produced.error)).toBe(true);
  return { c, producerId: produced.data.producerId as string };
}

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  [a, b, off] = await Promise.all([startTestGateway(redis.url, API), startTestGateway(redis.url, API), startTestGateway(redis.url, { api: { enabled: false, keys: [CURRENT] } })]);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([a, b, off].map((g) => g?.close()));
  await redis?.stop();
}, 60_000);

describe('request authentication', () => {
  const token = { roomId: 'auth-room', identity: 'zoe' };

  it('accepts requests signed with any configured key (rotation)', async () => {
    for (const pair of [OLD, CURRENT]) expect((await api(a, pair).createToken(token)).identity).toBe('zoe');
  });

  it('refuses an unknown key, a wrong secret, a bad signature and a missing token as unauthorized', async () => {
    expect(await refused(api(a, { key: 'nobody', secret: CURRENT.secret }).createToken(token))).toEqual({ code: 'ERR_API_UNAUTHORIZED', status: 401 });
    expect(await refused(api(a, { key: CURRENT.key, secret: OLD.secret }).createToken(token))).toEqual({ code: 'ERR_API_UNAUTHORIZED', status: 401 });
    const signed = await signApiRequest(CURRENT, { method: 'GET', path: '/api/v1/rooms' });
    const [head, payload, sig] = signed.split('.') as [string, string, string];
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), path: '/api/v1/rooms/x' })).toString('base64url')}.${sig}`;
    const bad = await raw(a, 'GET', '/api/v1/rooms/x', forged);
    expect([bad.status, bad.json.error.code]).toEqual([401, 'ERR_API_UNAUTHORIZED']);
    const none = await raw(a, 'GET', '/api/v1/rooms', null);
    expect([none.status, none.json.error.code]).toEqual([401, 'ERR_API_UNAUTHORIZED']);
  });

  it('refuses a request whose body, path or method differs from what was signed', async () => {
    const path = '/api/v1/tokens';
    const body = JSON.stringify({ roomId: 'auth-room', identity: 'zoe' });
    const tampered = await raw(a, 'POST', path, await signApiRequest(CURRENT, { method: 'POST', path, body }), body.replace('zoe', 'eve'));
    expect([tampered.status, tampered.json.error.code]).toEqual([401, 'ERR_API_UNAUTHORIZED']);
    const otherRoom = await raw(a, 'GET', '/api/v1/rooms/r2', await signApiRequest(CURRENT, { method: 'GET', path: '/api/v1/rooms/r1' }));
    expect(otherRoom.json.error.code).toBe('ERR_API_UNAUTHORIZED');
    const otherMethod = await raw(a, 'POST', '/api/v1/rooms/r1/close', await signApiRequest(CURRENT, { method: 'GET', path: '/api/v1/rooms/r1/close', body: '{}' }), '{}');
    expect(otherMethod.json.error.code).toBe('ERR_API_UNAUTHORIZED');
  });

  it('refuses a replayed request on the same and on another replica', async () => {
    const path = '/api/v1/tokens';
    const body = JSON.stringify(token);
    const signed = await signApiRequest(CURRENT, { method: 'POST', path, body });
    expect((await raw(a, 'POST', path, signed, body)).status).toBe(200);
    for (const g of [a, b]) {
      const again = await raw(g, 'POST', path, signed, body);
      expect([again.status, again.json.error.code]).toEqual([401, 'ERR_API_REPLAYED']);
    }
  });

  it('refuses expired requests, requests living too long and requests from the future', async () => {
    const target = { method: 'GET', path: '/api/v1/rooms' };
    const tokens = [
      await signApiRequest(CURRENT, target, 60, Date.now() - 120_000),
      await signApiRequest(CURRENT, target, 121),
      await signApiRequest(CURRENT, target, 60, Date.now() + 120_000),
    ];
    for (const t of tokens) {
      const res = await raw(a, 'GET', target.path, t);
      expect([res.status, res.json.error.code]).toEqual([401, 'ERR_API_REQUEST_EXPIRED']);
    }
  });

  it('answers ERR_API_DISABLED for every call when the API is off or has no key', async () => {
    expect(await refused(api(off).createToken(token))).toEqual({ code: 'ERR_API_DISABLED', status: 503 });
    expect(await refused(api(off).listRooms())).toEqual({ code: 'ERR_API_DISABLED', status: 503 });
    expect((await raw(off, 'GET', '/api/v1/nothing-here', null)).json.error.code).toBe('ERR_API_DISABLED');
    const config = off.services.config;
    const before = config.api;
    config.api = { ...before, enabled: true, keys: [] };
    try {
      expect(await refused(api(off).getRoom('r1'))).toEqual({ code: 'ERR_API_DISABLED', status: 503 });
    } finally {
      config.api = before;
    }
    expect((await fetch(`${off.url}/health`)).status).toBe(200);
  });

  it('refuses bad bodies and ids with coded errors, then keeps serving', async () => {
    const client = api(a);
    expect(await refused(client.createToken({ roomId: 'bad room', identity: 'zoe' }))).toEqual({ code: 'ERR_INVALID_PARAMS', status: 400 });
    expect(await refused(client.createToken({ ...token, extra: 1 } as never))).toEqual({ code: 'ERR_INVALID_PARAMS', status: 400 });
    expect(await refused(client.createToken({ ...token, languages: { spoken: 'not a tag' } }))).toEqual({ code: 'ERR_INVALID_PARAMS', status: 400 });
    expect(await refused(client.getRoom('bad room!'))).toEqual({ code: 'ERR_INVALID_PARAMS', status: 400 });
    expect(await refused(client.muteTrack('r1', 'zoe', '', true))).toEqual({ code: 'ERR_INVALID_PARAMS', status: 400 });
    const path = '/api/v1/tokens';
    const notJson = await raw(a, 'POST', path, await signApiRequest(CURRENT, { method: 'POST', path, body: '{nope' }), '{nope');
    expect([notJson.status, notJson.json.error.code]).toEqual([400, 'ERR_BAD_JSON']);
    const empty = await raw(a, 'POST', path, await signApiRequest(CURRENT, { method: 'POST', path }));
    expect([empty.status, empty.json.error.code]).toEqual([400, 'ERR_INVALID_PARAMS']);
    const big = JSON.stringify({ ...token, name: 'x'.repeat(20_000) });
    const tooLarge = await raw(a, 'POST', path, await signApiRequest(CURRENT, { method: 'POST', path, body: big }), big);
    expect([tooLarge.status, tooLarge.json.error.code]).toEqual([413, 'ERR_MESSAGE_TOO_LARGE']);
    const unknown = await raw(a, 'GET', '/api/v1/nothing-here', await signApiRequest(CURRENT, { method: 'GET', path: '/api/v1/nothing-here' }));
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'ERR_NOT_FOUND']);
    const wrongMethod = await raw(a, 'GET', path, await signApiRequest(CURRENT, { method: 'GET', path }));
    expect([wrongMethod.status, wrongMethod.json.error.code]).toEqual([404, 'ERR_NOT_FOUND']);
    for (const g of [a, b]) expect((await fetch(`${g.url}/health`)).status).toBe(200);
    expect((await client.createToken(token)).identity).toBe('zoe');
  });
});

describe('join tokens', () => {
  it('createToken makes a single-use token with its role, permissions and languages that joins any replica', async () => {
    const made = await api(a).createToken({ roomId: 'token-room', identity: 'lena', role: 'listener', permissions: { subscribe: true, translation: false }, languages: { spoken: 'en', listening: 'es' } });
    expect(made.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    const lena = await joined(b, 'token-room', 'lena', made.token);
    expect(lena.data.peerId).toBe('lena');
    expect(lena.data.role).toBe('listener');
    expect(lena.data.permissions).toMatchObject({ publishAudio: false, subscribe: true, translation: false, moderate: false });

    const watcher = await joined(a, 'token-room', 'watcher');
    expect(watcher.data.peers.find((p: { peerId: string }) => p.peerId === 'lena')?.displayName).toBe('lena');
    expect((await lena.c.request('leave')).ok).toBe(true);
    const again = await SignalingClient.connect(a.url);
    clients.push(again);
    expect((await again.request('join', { token: made.token, roomId: 'token-room' })).error?.code).toBe('ERR_TOKEN_USED');
  });

  it('createJoinToken signs the same token locally for apps holding the token secret', async () => {
    const made = await createJoinToken(TEST_SECRET, 'parley', { roomId: 'token-room', identity: 'mo', name: 'Mo', role: 'admin' });
    const mo = await joined(a, 'token-room', 'mo', made.token);
    expect([mo.data.role, mo.data.permissions.moderate]).toEqual(['admin', true]);
  });
});

describe('rooms and participants across replicas', () => {
  it('lists and gets rooms and participants hosted on both replicas', async () => {
    await joined(a, 'list-room', 'alice');
    await joined(b, 'list-room', 'bob');
    const client = api(b);
    const listed = (await client.listRooms()).rooms.find((r) => r.roomId === 'list-room');
    expect(listed).toMatchObject({ roomId: 'list-room', participants: 2 });
    expect([...listed!.replicas].sort()).toEqual([a.services.replicaId, b.services.replicaId].sort());
    expect(await client.getRoom('list-room')).toEqual(listed);

    const { participants } = await api(a).listParticipants('list-room');
    expect(participants.map((p) => [p.identity, p.replicaId]).sort()).toEqual([['alice', a.services.replicaId], ['bob', b.services.replicaId]]);
    const bob = await api(a).getParticipant('list-room', 'bob');
    expect(bob).toMatchObject({ identity: 'bob', name: 'bob', role: 'speaker', replicaId: b.services.replicaId, tracks: [] });
    expect(bob.permissions.publishAudio).toBe(true);

    expect(await refused(client.getRoom('no-such-room'))).toEqual({ code: 'ERR_ROOM_NOT_FOUND', status: 404 });
    expect(await refused(client.getParticipant('list-room', 'nobody'))).toEqual({ code: 'ERR_PARTICIPANT_NOT_FOUND', status: 404 });
  });

  it('mutes a track of a peer on another replica; its owner is told', async () => {
    const bob = await producing(b, 'mute-room', 'bob');
    const track = await api(a).muteTrack('mute-room', 'bob', bob.producerId, true);
    expect(track).toMatchObject({ trackId: bob.producerId, kind: 'audio', muted: true });
    await bob.c.waitFor('mutedByModerator', (d) => d.producerId === bob.producerId && d.muted === true);
    const seen = await api(b).getParticipant('mute-room', 'bob');
    expect(seen.tracks).toEqual([expect.objectContaining({ trackId: bob.producerId, muted: true })]);
    expect(await refused(api(a).muteTrack('mute-room', 'bob', 'no-such-track', true))).toMatchObject({ code: 'ERR_PRODUCER_NOT_FOUND' });
  });

  it('changes the permissions of a peer on another replica; it is told', async () => {
    const bob = await joined(b, 'perm-room', 'bob');
    const updated = await api(a).updatePermissions('perm-room', 'bob', { publishVideo: false, moderate: true });
    expect(updated.permissions).toMatchObject({ publishAudio: true, publishVideo: false, moderate: true });
    const told = await bob.c.waitFor('permissionsChanged');
    expect(told.data.permissions).toEqual(updated.permissions);
    expect((await api(b).getParticipant('perm-room', 'bob')).permissions).toEqual(updated.permissions);
  });

  it('removes a peer hosted on another replica with a reason', async () => {
    await joined(a, 'remove-room', 'alice');
    const bob = await joined(b, 'remove-room', 'bob');
    expect(await api(a).removeParticipant('remove-room', 'bob', 'off topic')).toEqual({});
    const told = await bob.c.waitFor('disconnecting');
    expect(told.data).toMatchObject({ code: 'ERR_PEER_REMOVED', reconnect: false });
    expect(told.data.message).toContain('off topic');
    await waitFor(async () => (bob.c.closeCode !== null ? true : null), 10_000, 'removed peer socket closed');
    const left = await api(a).listParticipants('remove-room');
    expect(left.participants.map((p) => p.identity)).toEqual(['alice']);
    expect(await refused(api(a).removeParticipant('remove-room', 'bob'))).toEqual({ code: 'ERR_PARTICIPANT_NOT_FOUND', status: 404 });
  });

  it('closes a room with peers on both replicas', async () => {
    const peers = [await joined(a, 'close-room', 'alice'), await joined(b, 'close-room', 'bob')];
    expect(await api(a).closeRoom('close-room', 'meeting over')).toEqual({});
    for (const p of peers) {
      const told = await p.c.waitFor('disconnecting');
      expect(told.data).toMatchObject({ code: 'ERR_ROOM_CLOSED', reconnect: false });
      expect(told.data.message).toContain('meeting over');
    }
    await waitFor(async () => ((await refused(api(b).getRoom('close-room'))).code === 'ERR_ROOM_NOT_FOUND' ? true : null), 10_000, 'closed room gone');
    expect((await api(b).listRooms()).rooms.map((r) => r.roomId)).not.toContain('close-room');
  });
});
