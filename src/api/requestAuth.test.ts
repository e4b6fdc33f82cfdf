import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { bodySha256, CLOCK_SKEW_SECONDS, signApiRequest, verifyApiRequest, type ApiKeyPair, type ApiRequestTarget } from './requestAuth.js';

const CURRENT: ApiKeyPair = { key: 'app-key-2', secret: 'current-secret-0123456789abcdefghijklmnop' };
const OLD: ApiKeyPair = { key: 'app-key-1', secret: 'old-secret-0123456789abcdefghijklmnopqrstu' };
const KEYS = [OLD, CURRENT];
const MAX_AGE = 300;
const POST: ApiRequestTarget = { method: 'POST', path: '/api/v1/rooms/r1/close', body: '{"reason":"done"}' };

async function verify(header: string | undefined, target: ApiRequestTarget = POST) {
  return verifyApiRequest(KEYS, MAX_AGE, header, target);
}

/** The coded error a verification throws (fails the test when it does not throw). */
async function refusal(header: string | undefined, target: ApiRequestTarget = POST): Promise<string> {
  const err = await verify(header, target).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'verification should have been refused').not.toBeNull();
  return (err as { code: string }).code;
}

/** A token signed with CURRENT's secret whose claims are exactly `claims` (for shapes the signer never makes). */
function handMade(claims: Record<string, unknown>, kid = CURRENT.key): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(CURRENT.secret));
}

describe('signApiRequest', () => {
  it('signs HS256 with the key as kid and binds method, path and body', async () => {
    const token = await signApiRequest(CURRENT, { method: 'post', path: POST.path, body: POST.body }, 45);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', kid: CURRENT.key });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ method: 'POST', path: POST.path, sha256: bodySha256(POST.body) });
    expect(claims.exp! - claims.iat!).toBe(45);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(await signApiRequest(CURRENT, POST)).jti).not.toBe(claims.jti);
  });

  it('hashes an absent body as the empty string', () => {
    expect(bodySha256(undefined)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(bodySha256(new TextEncoder().encode('{}'))).toBe(bodySha256('{}'));
  });

  it('refuses a ttl that is not a positive integer', async () => {
    await expect(signApiRequest(CURRENT, POST, 0)).rejects.toThrow(TypeError);
    await expect(signApiRequest(CURRENT, POST, 1.5)).rejects.toThrow(TypeError);
  });
});

describe('verifyApiRequest', () => {
  it('accepts a request signed with any configured key and returns its claims', async () => {
    for (const pair of KEYS) {
      const claims = await verify(`Bearer ${await signApiRequest(pair, POST)}`);
      expect(claims).toMatchObject({ method: 'POST', path: POST.path, sha256: bodySha256(POST.body) });
    }
    const get = { method: 'GET', path: '/api/v1/rooms' };
    expect((await verify(`Bearer ${await signApiRequest(CURRENT, get)}`, { ...get, method: 'get', body: new Uint8Array() })).path).toBe(get.path);
  });

  it('refuses a missing or malformed header, an unknown key and a wrong secret as unauthorized', async () => {
    const token = await signApiRequest(CURRENT, POST);
    expect(await refusal(undefined)).toBe('ERR_API_UNAUTHORIZED');
    expect(await refusal(token)).toBe('ERR_API_UNAUTHORIZED');
    expect(await refusal('Bearer not-a-jwt')).toBe('ERR_API_UNAUTHORIZED');
    expect(await refusal(`Bearer ${await signApiRequest({ key: 'someone-else', secret: CURRENT.secret }, POST)}`)).toBe('ERR_API_UNAUTHORIZED');
    expect(await refusal(`Bearer ${await signApiRequest({ key: CURRENT.key, secret: OLD.secret }, POST)}`)).toBe('ERR_API_UNAUTHORIZED');
    const [head, payload, sig] = token.split('.') as [string, string, string];
    const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
    expect(await refusal(`Bearer ${head}.${payload}.${flipped}`)).toBe('ERR_API_UNAUTHORIZED');
  });

  it('refuses an unsigned (alg none) token', async () => {
    const none = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = { jti: 'abcdefgh-1', iat: now, exp: now + 60, method: 'POST', path: POST.path, sha256: bodySha256(POST.body) };
    expect(await refusal(`Bearer ${none({ alg: 'none', kid: CURRENT.key })}.${none(claims)}.`)).toBe('ERR_API_UNAUTHORIZED');
  });

  it('refuses a token used for another method, path or body', async () => {
    const header = `Bearer ${await signApiRequest(CURRENT, POST)}`;
    expect(await refusal(header, { ...POST, method: 'GET' })).toBe('ERR_API_UNAUTHORIZED');
    expect(await refusal(header, { ...POST, path: '/api/v1/rooms/r2/close' })).toBe('ERR_API_UNAUTHORIZED');
    expect(await refusal(header, { ...POST, body: '{"reason":"gone"}' })).toBe('ERR_API_UNAUTHORIZED');
    expect(await refusal(header, { ...POST, body: undefined })).toBe('ERR_API_UNAUTHORIZED');
  });

  it('refuses expired tokens, tokens living longer than allowed and tokens from the future', async () => {
    const now = Date.now();
    expect(await refusal(`Bearer ${await signApiRequest(CURRENT, POST, 60, now - (60 + CLOCK_SKEW_SECONDS + 5) * 1000)}`)).toBe('ERR_API_REQUEST_EXPIRED');
    expect(await refusal(`Bearer ${await signApiRequest(CURRENT, POST, MAX_AGE + 1)}`)).toBe('ERR_API_REQUEST_EXPIRED');
    expect(await refusal(`Bearer ${await signApiRequest(CURRENT, POST, 60, now + (CLOCK_SKEW_SECONDS + 10) * 1000)}`)).toBe('ERR_API_REQUEST_EXPIRED');
  });

  it('tolerates clocks that differ by less than the skew', async () => {
    const now = Date.now();
    await expect(verify(`Bearer ${await signApiRequest(CURRENT, POST, 60, now + 20_000)}`)).resolves.toBeTruthy();
    await expect(verify(`Bearer ${await signApiRequest(CURRENT, POST, 60, now - 75_000)}`)).resolves.toBeTruthy();
    await expect(verify(`Bearer ${await signApiRequest(CURRENT, POST, MAX_AGE)}`)).resolves.toBeTruthy();
  });

  it('refuses signed tokens whose claims are missing or malformed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = { jti: 'abcdefgh-1', iat: now, exp: now + 60, method: 'POST', path: POST.path, sha256: bodySha256(POST.body) };
    await expect(verify(`Bearer ${await handMade(good)}`)).resolves.toMatchObject(good);
    for (const bad of [{ jti: undefined }, { jti: 'short' }, { jti: 'has space!' }, { iat: undefined }, { exp: undefined }, { exp: now }, { method: 7 }, { sha256: null }]) {
      expect(await refusal(`Bearer ${await handMade({ ...good, ...bad })}`), JSON.stringify(bad)).toBe('ERR_API_UNAUTHORIZED');
    }
  });
});
