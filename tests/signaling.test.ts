import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/app/gateway.js';
import { CLOSE_CODES } from '../src/protocol/messages.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { Keys } from '../src/state/keys.js';
import { startTestGateway } from '../src/devkit/gateway.js';
import { waitFor } from '../src/devkit/media.js';
import { SignalingClient, testToken } from '../src/devkit/signaling.js';

let redis: EmbeddedRedis;
let gateway: Gateway;
const clients: SignalingClient[] = [];

async function client(): Promise<SignalingClient> {
  const c = await SignalingClient.connect(gateway.url);
  clients.push(c);
  return c;
}

async function joined(roomId: string, identity: string): Promise<SignalingClient> {
  const c = await client();
  const res = await c.request('join', { token: await testToken(roomId, identity), roomId });
  expect(res.ok, JSON.stringify(res.error)).toBe(true);
  return c;
}

async function roomKeys(roomId: string): Promise<string[]> {
  return gateway.services.store.keys(Keys.roomPattern(roomId));
}

async function workerRouters(): Promise<number> {
  const dump = (await gateway.services.pool.slots[0]!.worker.dump()) as { routerIds: string[] };
  return dump.routerIds.length;
}

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  gateway = await startTestGateway(redis.url, { rooms: { maxPeers: 3, reconnectGraceMs: 300 }, http: { rateLimitPerSecond: 20, rateLimitBurst: 40, maxMessageBytes: 8192 } });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await gateway?.close();
  await redis?.stop();
});

describe('join and presence', () => {
  it('joins, sees others join and leave, and leaves no key or router behind', async () => {
    const a = await client();
    const resA = await a.request('join', { token: await testToken('presence', 'alice'), roomId: 'presence', spokenLanguage: 'en', listeningLanguage: 'es' });
    expect(resA.ok).toBe(true);
    expect(resA.data.peerId).toBe('alice');
    expect(resA.data.peers).toEqual([]);
    expect(resA.data.routerRtpCapabilities.codecs.some((c: { mimeType: string }) => c.mimeType === 'audio/opus')).toBe(true);

    const b = await joined('presence', 'bob');
    const seen = await a.waitFor('peerJoined', (d) => d.peer.peerId === 'bob');
    expect(seen.data.peer.displayName).toBe('bob');

    const t = await b.request('createTransport', { direction: 'send' });
    expect(t.ok).toBe(true);
    const ports = t.data.iceCandidates.map((c: { port: number }) => c.port);
    // Every transport rides the worker's WebRtcServer: one UDP and one TCP port for all peers.
    expect(new Set(ports)).toEqual(new Set([gateway.services.config.media.rtcBasePort]));

    expect(await roomKeys('presence')).toHaveLength(3); // room + two peers
    expect((await b.request('leave')).ok).toBe(true);
    await a.waitFor('peerLeft', (d) => d.peerId === 'bob');
    expect((await a.request('leave')).ok).toBe(true);

    expect(await roomKeys('presence')).toEqual([]);
    expect(await gateway.services.store.setMembers(Keys.roomIndex())).not.toContain('presence');
    expect(await workerRouters()).toBe(0);
  });
});

describe('bad input gets a coded error and the connection keeps working', () => {
  it.each([
    ['malformed JSON', '{"type":"request","id":1,', 'ERR_BAD_JSON'],
    ['a non-object', '[1,2,3]', 'ERR_BAD_MESSAGE'],
    ['a wrong envelope type', '{"type":"response","id":1}', 'ERR_BAD_MESSAGE'],
  ])('%s', async (_name, text, code) => {
    const c = await client();
    const res = await c.sendAnonymous(text);
    expect(res.ok).toBe(false);
    expect(res.error!.code).toBe(code);
    expect((await c.request('join', { token: await testToken('bad', `p${clients.length}`), roomId: 'bad' })).ok).toBe(true);
    await c.request('leave');
  });

  it('refuses binary frames and oversize messages', async () => {
    const c = await client();
    expect((await c.sendAnonymous(Buffer.from([1, 2, 3]), true)).error!.code).toBe('ERR_BAD_MESSAGE');
    const big = JSON.stringify({ type: 'request', id: 7, method: 'join', data: { pad: 'x'.repeat(20_000) } });
    expect((await c.sendAnonymous(big)).error!.code).toBe('ERR_MESSAGE_TOO_LARGE');
    expect((await c.request('createTransport', { direction: 'send' })).error!.code).toBe('ERR_NOT_JOINED');
  });

  it('refuses unknown methods, prototype keys, wrong types and calls before join', async () => {
    const c = await client();
    expect((await c.request('fly', {})).error!.code).toBe('ERR_UNKNOWN_METHOD');
    expect((await c.request('__proto__', {})).error!.code).toBe('ERR_UNKNOWN_METHOD');
    expect((await c.request('constructor', {})).error!.code).toBe('ERR_UNKNOWN_METHOD');
    expect((await c.request('join', { token: 42, roomId: 'x' })).error!.code).toBe('ERR_INVALID_PARAMS');
    expect((await c.request('join', { token: 'a', roomId: 'x', extra: 1 })).error!.code).toBe('ERR_INVALID_PARAMS');
    expect((await c.request('consume', { transportId: 't', producerId: 'p', rtpCapabilities: {} })).error!.code).toBe('ERR_NOT_JOINED');
  });

  it('refuses forged, expired and other-room tokens', async () => {
    const c = await client();
    const forged = await testToken('tok', 'mallory', { secret: 'another-secret-another-secret-another' });
    expect((await c.request('join', { token: forged, roomId: 'tok' })).error!.code).toBe('ERR_TOKEN_INVALID');
    expect((await c.request('join', { token: 'not.a.jwt', roomId: 'tok' })).error!.code).toBe('ERR_TOKEN_INVALID');
    const expired = await testToken('tok', 'late', { ttlSeconds: -10 });
    expect((await c.request('join', { token: expired, roomId: 'tok' })).error!.code).toBe('ERR_TOKEN_EXPIRED');
    const other = await testToken('elsewhere', 'wanderer');
    expect((await c.request('join', { token: other, roomId: 'tok' })).error!.code).toBe('ERR_TOKEN_WRONG_ROOM');
    expect(await roomKeys('tok')).toEqual([]);
  });

  it('refuses a duplicate join, an unknown producer and a full room', async () => {
    const a = await joined('full', 'a1');
    expect((await a.request('join', { token: await testToken('full', 'a1'), roomId: 'full' })).error!.code).toBe('ERR_ALREADY_JOINED');
    const recv = await a.request('createTransport', { direction: 'recv' });
    const bogus = await a.request('consume', { transportId: recv.data.id, producerId: 'no-such-producer', rtpCapabilities: {} });
    expect(bogus.error!.code).toBe('ERR_PRODUCER_NOT_FOUND');
    expect((await a.request('connectTransport', { transportId: 'nope', dtlsParameters: {} })).error!.code).toBe('ERR_TRANSPORT_NOT_FOUND');
    // One connect per transport; a bad one does not count, a second good one is out of order.
    const dtls = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }] };
    expect((await a.request('connectTransport', { transportId: recv.data.id, dtlsParameters: { role: 'client', fingerprints: [] } })).error!.code).toBe('ERR_INVALID_PARAMS');
    expect((await a.request('connectTransport', { transportId: recv.data.id, dtlsParameters: dtls })).ok).toBe(true);
    expect((await a.request('connectTransport', { transportId: recv.data.id, dtlsParameters: dtls })).error!.code).toBe('ERR_WRONG_STATE');
    await joined('full', 'a2');
    await joined('full', 'a3');
    const d = await client();
    expect((await d.request('join', { token: await testToken('full', 'a4'), roomId: 'full' })).error!.code).toBe('ERR_ROOM_FULL');
    const room = await gateway.services.rooms.get('full');
    expect(Object.keys(room!.peers).sort()).toEqual(['a1', 'a2', 'a3']);
    expect((await a.request('updatePeer', { listeningLanguage: 'es' })).ok).toBe(true);
  });

  it('rate-limits a flood with coded errors while other connections keep working', async () => {
    const flooder = await joined('flood', 'flooder');
    const calm = await joined('flood', 'calm');
    const replies = await Promise.all(Array.from({ length: 120 }, () => flooder.request('updatePeer', { spokenLanguage: 'en' })));
    const limited = replies.filter((r) => r.error?.code === 'ERR_RATE_LIMITED').length;
    expect(limited).toBeGreaterThan(0);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThan(0);
    expect((await calm.request('updatePeer', { spokenLanguage: 'es' })).ok).toBe(true);
    expect(flooder.closeCode).toBeNull();
  });
});

describe('sockets that drop', () => {
  it('keeps the peer through the grace period, then removes it and its keys', async () => {
    const g = gateway.services;
    const a = await joined('drop', 'dropper');
    const watcher = await joined('drop', 'watcher');
    await a.close();
    // Until the grace (300 ms here) ends the room still lists the peer, as disconnected.
    await new Promise((r) => setTimeout(r, 50));
    expect(Object.keys((await g.rooms.get('drop'))!.peers)).toContain('dropper');
    expect(g.sessions.get('drop', 'dropper')!.state).toBe('disconnected');
    // Rejoining with the same identity resumes.
    const back = await client();
    const res = await back.request('join', { token: await testToken('drop', 'dropper'), roomId: 'drop' });
    expect(res.data.resumed).toBe(true);
    expect(g.sessions.get('drop', 'dropper')!.state).toBe('connected');
    await back.request('leave');
    await watcher.request('leave');
    expect(await roomKeys('drop')).toEqual([]);
  });
});

describe('the same identity joining again', () => {
  it('tells the first connection why it ends (disconnecting, not to reconnect), then closes it as replaced', async () => {
    const first = await joined('twice', 'same');
    const second = await client();
    const res = await second.request('join', { token: await testToken('twice', 'same'), roomId: 'twice' });
    expect(res.data.resumed).toBe(true);
    const note = await first.waitFor('disconnecting');
    expect(note.data).toEqual({ code: 'ERR_SESSION_REPLACED', message: 'The same identity joined from another connection', reconnect: false });
    await waitFor(async () => (first.closeCode === CLOSE_CODES.replaced ? true : null), 5000, 'the first socket closed as replaced');
    await second.request('leave');
  });
});

describe('after every connection is gone', () => {
  it('leaves no peer, room key, router or transport behind', async () => {
    await Promise.all(clients.map((c) => c.close()));
    const g = gateway.services;
    await waitFor(async () => ((await g.store.keys('parley:{room:*')).length === 0 ? true : null), 10_000, 'room keys to go');
    expect(await g.store.setMembers(Keys.roomIndex())).toEqual([]);
    expect(g.sessions.size).toBe(0);
    expect(await workerRouters()).toBe(0);
    const server = (await g.pool.slots[0]!.webRtcServer.dump()) as { webRtcTransportIds: string[] };
    expect(server.webRtcTransportIds).toEqual([]);
  });
});
