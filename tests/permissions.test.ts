/**
 * The permission matrix of docs/permissions.md, cell by cell, against a real gateway: the test reads the
 * table, and for each role runs every method as a participant of that role.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/app/gateway.js';
import { targetsFor } from '../src/ai/gateway/Interpreter.js';
import { startTestGateway } from '../src/devkit/gateway.js';
import { OPUS_SEND, SignalingClient, TEST_DTLS, testToken, VP8_SEND } from '../src/devkit/signaling.js';
import type { PeerRole } from '../src/protocol/messages.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';

type Cell = 'yes' | 'no';
const DOC = new URL('../docs/permissions.md', import.meta.url);

/** The matrix rows: role -> column -> yes/no. */
function matrix(): Map<PeerRole, Record<string, Cell>> {
  const lines = readFileSync(DOC, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('| role |'));
  const header = cells(lines[start]!);
  const rows = new Map<PeerRole, Record<string, Cell>>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [role, ...values] = cells(line);
    rows.set(role as PeerRole, Object.fromEntries(header.slice(1).map((h, i) => [h, values[i] as Cell])));
  }
  return rows;
}
const cells = (line: string) => line.split('|').slice(1, -1).map((c) => c.trim());

let redis: EmbeddedRedis;
let gateway: Gateway;
const clients: SignalingClient[] = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  gateway = await startTestGateway(redis.url, { rooms: { maxPeers: 8 } });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await gateway?.close();
  await redis?.stop();
});

async function join(roomId: string, identity: string, role: PeerRole, languages: { spokenLanguage: string; listeningLanguage: string }): Promise<{ c: SignalingClient; data: any }> {
  const c = await SignalingClient.connect(gateway.url);
  clients.push(c);
  const res = await c.request('join', { token: await testToken(roomId, identity, { role }), roomId, ...languages });
  expect(res.ok, JSON.stringify(res.error)).toBe(true);
  return { c, data: res.data };
}

async function transport(c: SignalingClient, direction: 'send' | 'recv'): Promise<string> {
  const t = await c.request('createTransport', { direction });
  expect((await c.request('connectTransport', { transportId: t.data.id, dtlsParameters: TEST_DTLS })).ok).toBe(true);
  return t.data.id;
}

/** 'yes' when the call succeeded, 'no' when refused with ERR_FORBIDDEN; anything else fails the test. */
function outcome(res: { ok: boolean; error?: { code: string; message: string } }): Cell {
  if (res.ok) return 'yes';
  expect(res.error?.code, res.error?.message).toBe('ERR_FORBIDDEN');
  return 'no';
}

const rows = matrix();

describe('docs/permissions.md, role x method, on a real gateway', () => {
  it('the table lists every role', () => {
    expect([...rows.keys()].sort()).toEqual(['admin', 'listener', 'speaker']);
  });

  for (const [role, expected] of rows) {
    it(`${role}: ${Object.entries(expected).map(([k, v]) => `${k} ${v}`).join(', ')}`, async () => {
      const roomId = `perm-${role}`;
      // A speaker (English) publishing a microphone, and the participant under test (listening in Spanish).
      const other = await join(roomId, 'other', 'speaker', { spokenLanguage: 'en', listeningLanguage: 'en' });
      const otherMic = await other.c.request('produce', { transportId: await transport(other.c, 'send'), kind: 'audio', rtpParameters: OPUS_SEND, source: 'mic' });
      expect(otherMic.ok).toBe(true);
      const me = await join(roomId, 'subject', role, { spokenLanguage: 'fr', listeningLanguage: 'es' });
      expect(me.data.role).toBe(role);
      const send = await transport(me.c, 'send');
      const recv = await transport(me.c, 'recv');
      const got: Record<string, Cell> = {};
      got['produce mic'] = outcome(await me.c.request('produce', { transportId: send, kind: 'audio', rtpParameters: OPUS_SEND, source: 'mic' }));
      got['produce cam'] = outcome(await me.c.request('produce', { transportId: send, kind: 'video', rtpParameters: VP8_SEND, source: 'cam' }));
      got['produce screen'] = outcome(await me.c.request('produce', { transportId: send, kind: 'video', rtpParameters: { ...VP8_SEND, encodings: [{ ssrc: 33333333 }] }, source: 'screen' }));
      const caps = me.data.routerRtpCapabilities;
      got['consume'] = outcome(await me.c.request('consume', { transportId: recv, producerId: otherMic.data.producerId, rtpCapabilities: caps }));
      const room = await gateway.services.rooms.get(roomId);
      got['translation'] = targetsFor(room!, 'other').includes('es') ? 'yes' : 'no';
      expect(me.data.permissions.moderate).toBe(expected['removePeer'] === 'yes');
      got['mutePeer'] = outcome(await me.c.request('mutePeer', { peerId: 'other', producerId: otherMic.data.producerId, muted: true }));
      got['removePeer'] = outcome(await me.c.request('removePeer', { peerId: 'other', reason: 'matrix' }));
      if (got['removePeer'] === 'yes') {
        const told = await other.c.waitFor('disconnecting');
        expect(told.data).toMatchObject({ code: 'ERR_PEER_REMOVED', message: expect.stringContaining('matrix'), reconnect: false });
      }
      got['closeRoom'] = outcome(await me.c.request('closeRoom', { reason: 'matrix done' }));
      if (got['closeRoom'] === 'yes') {
        const told = await me.c.waitFor('disconnecting');
        expect(told.data).toMatchObject({ code: 'ERR_ROOM_CLOSED', message: expect.stringContaining('matrix done'), reconnect: false });
        await expect.poll(() => gateway.services.rooms.get(roomId)).toBeNull();
      }
      expect(got).toEqual(expected);
    });
  }

  it("a token's own permissions override its role's, and the room actor refuses what they withhold", async () => {
    const c = await SignalingClient.connect(gateway.url);
    clients.push(c);
    const token = await testToken('perm-own', 'muted-speaker', { role: 'speaker', permissions: { publishAudio: false, moderate: true } });
    const res = await c.request('join', { token, roomId: 'perm-own' });
    expect(res.data.permissions).toMatchObject({ publishAudio: false, publishVideo: true, moderate: true });
    const send = await transport(c, 'send');
    expect(outcome(await c.request('produce', { transportId: send, kind: 'audio', rtpParameters: OPUS_SEND, source: 'mic' }))).toBe('no');
    expect(outcome(await c.request('produce', { transportId: send, kind: 'video', rtpParameters: VP8_SEND, source: 'cam' }))).toBe('yes');
    // Past the gateway's own check, the room actor itself refuses a producer the peer may not publish.
    await expect(
      gateway.services.rooms.apply('perm-own', { type: 'producer.add', peerId: 'muted-speaker', producer: { producerId: 'x', kind: 'audio', source: 'mic', paused: false, replicaId: 'r' } }),
    ).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
    // Translation goes only to those who may have it.
    for (const [identity, listeningLanguage, permissions] of [['no-translation', 'de', { translation: false }], ['translated', 'it', undefined]] as const) {
      const l = await SignalingClient.connect(gateway.url);
      clients.push(l);
      const t = await testToken('perm-own', identity, { role: 'listener', ...(permissions ? { permissions } : {}) });
      expect((await l.request('join', { token: t, roomId: 'perm-own', spokenLanguage: listeningLanguage, listeningLanguage })).ok).toBe(true);
    }
    expect(targetsFor((await gateway.services.rooms.get('perm-own'))!, 'muted-speaker')).toEqual(['it']);
  });
});
