import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import { isValidId, signJoinToken, tokenKey, verifyJoinToken, type TokenKey } from './tokens.js';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';
const key = tokenKey(SECRET, 'parley');

const claims = { roomId: 'room-1', identity: 'alice', displayName: 'Alice', role: 'speaker' as const, ttlSeconds: 600 };

/** Signs arbitrary claims with jose directly, bypassing signJoinToken's checks. */
function craft(payload: JWTPayload, options: { key?: TokenKey; issuer?: string; exp?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const k = options.key ?? key;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.issuer ?? k.issuer)
    .setIssuedAt(now)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(k.secret);
}

/** The code of the ParleyError `promise` rejects with. */
async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParleyError);
  return (err as ParleyError).code;
}

describe('join tokens', () => {
  it('verifies a token it signed and returns the claims', async () => {
    const before = Date.now();
    const { token, expiresAt } = await signJoinToken(key, claims);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);

    expect(await verifyJoinToken(key, token)).toEqual({
      roomId: 'room-1',
      identity: 'alice',
      displayName: 'Alice',
      role: 'speaker',
      expiresAt,
    });
  });

  it('truncates a long display name to 64 characters', async () => {
    const { token } = await signJoinToken(key, { ...claims, displayName: 'n'.repeat(100) });
    expect((await verifyJoinToken(key, token)).displayName).toBe('n'.repeat(64));
  });

  it('reports an expired token as ERR_TOKEN_EXPIRED', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const token = await craft({ room: 'room-1', name: 'Alice', role: 'speaker', sub: 'alice' }, { exp: past });
    expect(await rejectionCode(verifyJoinToken(key, token))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('reports a token signed with another secret as ERR_TOKEN_INVALID', async () => {
    const { token } = await signJoinToken(tokenKey('another-secret-of-sufficient-length!!', 'parley'), claims);
    expect(await rejectionCode(verifyJoinToken(key, token))).toBe('ERR_TOKEN_INVALID');
  });

  it('reports a token with a tampered payload as ERR_TOKEN_INVALID', async () => {
    const { token } = await signJoinToken(key, claims);
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ room: 'room-1', name: 'Mallory', role: 'admin', sub: 'alice', iss: 'parley', exp: 9_999_999_999 })).toString('base64url');
    expect(await rejectionCode(verifyJoinToken(key, `${header}.${payload}.${signature}`))).toBe('ERR_TOKEN_INVALID');
  });

  it.each(['', 'garbage', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.'])('reports %j as ERR_TOKEN_INVALID', async (token) => {
    expect(await rejectionCode(verifyJoinToken(key, token))).toBe('ERR_TOKEN_INVALID');
  });

  it('reports a token from another issuer as ERR_TOKEN_INVALID', async () => {
    const { token } = await signJoinToken(tokenKey(SECRET, 'someone-else'), claims);
    expect(await rejectionCode(verifyJoinToken(key, token))).toBe('ERR_TOKEN_INVALID');
  });

  it('reports a token without a subject as ERR_TOKEN_INVALID', async () => {
    const token = await craft({ room: 'room-1', name: 'Alice', role: 'speaker' });
    expect(await rejectionCode(verifyJoinToken(key, token))).toBe('ERR_TOKEN_INVALID');
  });

  it.each<[string, JWTPayload]>([
    ['a numeric room', { room: 42, name: 'Alice', role: 'speaker', sub: 'alice' }],
    ['a room id with a slash', { room: 'a/b', name: 'Alice', role: 'speaker', sub: 'alice' }],
    ['a numeric name', { room: 'room-1', name: 7, role: 'speaker', sub: 'alice' }],
    ['an unknown role', { room: 'room-1', name: 'Alice', role: 'owner', sub: 'alice' }],
    ['a role list', { room: 'room-1', name: 'Alice', role: ['admin'], sub: 'alice' }],
    ['a subject with spaces', { room: 'room-1', name: 'Alice', role: 'speaker', sub: 'alice smith' }],
  ])('reports a correctly signed token with %s as ERR_TOKEN_INVALID', async (_what, payload) => {
    const token = await craft(payload);
    expect(await rejectionCode(verifyJoinToken(key, token))).toBe('ERR_TOKEN_INVALID');
  });

  it.each([
    ['an empty room id', { ...claims, roomId: '' }],
    ['a room id with spaces', { ...claims, roomId: 'my room' }],
    ['a room id over 64 characters', { ...claims, roomId: 'r'.repeat(65) }],
    ['an identity with a slash', { ...claims, identity: 'a/b' }],
    ['an unknown role', { ...claims, role: 'owner' as never }],
  ])('refuses to sign %s with a TypeError', async (_what, bad) => {
    await expect(signJoinToken(key, bad)).rejects.toThrow(TypeError);
  });

  it('accepts ids of letters, digits, _ . - up to 64 characters', () => {
    expect(isValidId('Room_1.a-b')).toBe(true);
    expect(isValidId('r'.repeat(64))).toBe(true);
    expect(isValidId('r'.repeat(65))).toBe(false);
    expect(isValidId('ümlaut')).toBe(false);
    expect(isValidId(12)).toBe(false);
  });
});
