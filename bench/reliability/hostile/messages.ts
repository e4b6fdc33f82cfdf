/**
 * What the hostile signaling suite sends: frames by category, from a seeded generator so a run can
 * be repeated exactly. Every frame is one the gateway must answer with a coded error (or, for the
 * few valid steps of `abandon`, a normal answer) without harming anyone else.
 */
import { SignJWT } from 'jose';
import { TEST_SECRET } from '../../../src/devkit/gateway.js';
import { testToken } from '../../../src/devkit/signaling.js';

export const CATEGORIES = [
  'malformed', 'truncated', 'binary', 'deep', 'oversize', 'wrong-types', 'unknown-method',
  'out-of-order', 'bad-token', 'pollution', 'flood', 'abandon',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** One frame to send; `text` frames may be deliberately invalid UTF-8 (sent as a Buffer). */
export type Frame = { data: string | Buffer; binary: boolean };

/** A deterministic pseudo-random source (mulberry32). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const text = (data: string): Frame => ({ data, binary: false });
const request = (id: unknown, method: unknown, data?: unknown) => JSON.stringify({ type: 'request', id, method, ...(data === undefined ? {} : { data }) });

/** Tokens that must all be refused: forged, expired, for another room, unsigned, from another issuer, garbage. */
export async function badTokens(roomId: string): Promise<string[]> {
  const forged = await testToken(roomId, 'mallory', { secret: 'not-the-gateway-secret-0123456789' });
  const expired = await testToken(roomId, 'mallory', { ttlSeconds: -60 });
  const otherRoom = await testToken(`${roomId}-other`, 'mallory');
  const otherIssuer = await new SignJWT({ room: roomId, name: 'm', role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setIssuer('someone-else').setExpirationTime('10m')
    .sign(new TextEncoder().encode(TEST_SECRET));
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', room: roomId, name: 'm', role: 'admin', iss: 'parley', exp: 9999999999 })}.`;
  const [h, p] = forged.split('.');
  const swapped = `${h}.${b64({ sub: 'admin', room: roomId, name: 'm', role: 'admin', iss: 'parley', exp: 9999999999 })}.${forged.split('.')[2]}`;
  return [forged, expired, otherRoom, otherIssuer, unsigned, swapped, `${h}.${p}`, 'not-a-jwt', 'a.b.c', ''.padEnd(4000, 'x')];
}

/** Frames of one category (a handful, sent together); `joined` = the connection has joined a room. */
export function framesOf(category: Category, rng: Rng, ctx: { roomId: string; tokens: string[]; maxBytes: number; joined: boolean }): Frame[] {
  const id = rng.int(1_000_000);
  switch (category) {
    case 'malformed':
      // A text frame that is not UTF-8 breaks the WebSocket protocol itself: the server closes with 1007. Sent alone.
      if (rng.next() < 0.05) return [{ data: Buffer.concat([Buffer.from('{"type":"request","id":1,"method":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]), binary: false }];
      return [
        text(rng.pick(['{', '}', 'null', '[]', '"request"', '{"type":', 'undefined', 'NaN', '{\'type\':\'request\'}', '{"type":"request" "id":1}'])),
        text(rng.bytes(1 + rng.int(64)).toString('latin1')),
      ];
    case 'truncated': {
      const full = request(id, 'join', { token: ctx.tokens[0], roomId: ctx.roomId, spokenLanguage: 'en' });
      return [text(full.slice(0, 1 + rng.int(full.length - 1)))];
    }
    case 'binary':
      return [{ data: rng.bytes(1 + rng.int(2048)), binary: true }, { data: Buffer.from(request(id, 'leave', {})), binary: true }];
    case 'deep': {
      const depth = 1000 + rng.int(Math.floor(ctx.maxBytes / 2) - 1100);
      const nested = rng.next() < 0.5 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth / 5)}1${'}'.repeat(depth / 5)}`;
      return [text(nested), text(`{"type":"request","id":${id},"method":"updatePeer","data":{"spokenLanguage":${nested}}}`.slice(0, ctx.maxBytes - 10))];
    }
    case 'oversize':
      return [text(request(id, 'join', { token: 'x'.repeat(ctx.maxBytes + rng.int(4 * ctx.maxBytes)), roomId: ctx.roomId }))];
    case 'wrong-types':
      return [
        text(JSON.stringify({ type: 'request', id: rng.pick(['1', -1, 1.5, 2 ** 60, null, [], {}]), method: 'leave', data: {} })),
        text(JSON.stringify({ type: 'request', id, method: rng.pick([1, null, [], {}, true]), data: {} })),
        text(JSON.stringify({ type: 'request', id, method: 'join', data: rng.pick([[], 'x', 1, null, true]) })),
        text(JSON.stringify({ type: rng.pick(['response', 'notification', 1, null]), id, method: 'leave' })),
        text(request(id, 'join', { token: rng.pick([1, [], {}, null]), roomId: rng.pick([1, [], '', 'a'.repeat(200), '../../etc']) })),
        text(request(id, 'consume', { transportId: 1, producerId: {}, rtpCapabilities: 'x' })),
      ];
    case 'unknown-method':
      return [text(request(id, rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'admin', 'drain', 'kick', '', 'x'.repeat(300), 'JOIN', 'join ', 'join\u0000']), {}))];
    case 'out-of-order': {
      const bogus = () => rng.pick(['00000000-0000-0000-0000-000000000000', 'nope', 'x'.repeat(64)]);
      return [
        text(request(id, 'createTransport', { direction: rng.pick(['send', 'recv']) })),
        text(request(id + 1, 'connectTransport', { transportId: bogus(), dtlsParameters: { role: 'client', fingerprints: [] } })),
        text(request(id + 2, 'produce', { transportId: bogus(), kind: 'audio', rtpParameters: { codecs: [], encodings: [] } })),
        text(request(id + 3, 'consume', { transportId: bogus(), producerId: bogus(), rtpCapabilities: { codecs: [] } })),
        text(request(id + 4, rng.pick(['resumeConsumer', 'pauseConsumer']), { consumerId: bogus() })),
        text(request(id + 5, rng.pick(['closeProducer', 'pauseProducer', 'resumeProducer']), { producerId: bogus() })),
        ...(ctx.joined ? [text(request(id + 6, 'join', { token: ctx.tokens[0], roomId: ctx.roomId }))] : [text(request(id + 6, 'leave', {}))]),
      ];
    }
    case 'bad-token':
      return [text(request(id, 'join', { token: rng.pick(ctx.tokens.slice(1)), roomId: ctx.roomId }))];
    case 'pollution':
      return [
        text(`{"type":"request","id":${id},"method":"join","data":{"__proto__":{"role":"admin","joined":true},"token":"x","roomId":"${ctx.roomId}"}}`),
        text(`{"__proto__":{"type":"request","id":${id},"method":"leave"}}`),
        text(`{"type":"request","id":${id},"method":"updatePeer","data":{"constructor":{"prototype":{"polluted":true}}}}`),
        text(`{"type":"request","id":${id},"method":"__proto__","data":{"__proto__":null}}`),
        text(`{"type":"request","id":${id},"method":"join","data":{"token":"x","roomId":"${ctx.roomId}","__proto__":{"spokenLanguage":"en"}}}`),
      ];
    case 'flood':
      return Array.from({ length: 200 }, (_, i) => text(request(id + i, 'leave', {})));
    case 'abandon':
      return []; // driven by the client: a real join, transports, then the socket is dropped
  }
}
