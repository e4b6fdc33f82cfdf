import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../api/types.js';
import { signWebhook, verifyWebhook } from './signature.js';
import { WebhookVerificationError } from './WebhookVerificationError.js';

const SECRET = 'a-secret-of-at-least-32-characters-000';
const event: WebhookEvent = { id: 'wh_1_2_0', event: 'room_started', roomId: 'lobby', seq: 2, createdAt: 1_700_000_000_000 };
const body = JSON.stringify(event);
const T = 1_700_000_000;

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).code;
  }
  throw new Error('did not throw');
}

describe('webhook signatures', () => {
  it('signs HMAC-SHA256 of "<t>.<body>" in hex', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${body}`).digest('hex');
    expect(signWebhook(SECRET, body, T)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies and returns the event, with keys as a map or as the api.keys list', () => {
    const signatureHeader = signWebhook(SECRET, body, T);
    expect(verifyWebhook({ body, signatureHeader, keyHeader: 'k1', keys: { k1: SECRET }, now: T + 10 })).toEqual(event);
    expect(verifyWebhook({ body: Buffer.from(body), signatureHeader, keyHeader: 'k1', keys: [{ key: 'k0', secret: 'x'.repeat(32) }, { key: 'k1', secret: SECRET }], now: T })).toEqual(event);
  });

  it('accepts any of several v1 values (a rotation)', () => {
    const good = signWebhook(SECRET, body, T).split(',')[1];
    const header = `t=${T},v1=${'0'.repeat(64)},${good}`;
    expect(verifyWebhook({ body, signatureHeader: header, keyHeader: 'k1', keys: { k1: SECRET }, now: T }).id).toBe(event.id);
  });

  it('refuses an unknown key, a changed body, another secret, a stale or future timestamp, and garbage', () => {
    const sig = signWebhook(SECRET, body, T);
    const base = { body, signatureHeader: sig, keyHeader: 'k1', keys: { k1: SECRET }, now: T };
    expect(code(() => verifyWebhook({ ...base, keyHeader: 'k2' }))).toBe('ERR_WEBHOOK_UNKNOWN_KEY');
    expect(code(() => verifyWebhook({ ...base, keyHeader: 'toString' }))).toBe('ERR_WEBHOOK_UNKNOWN_KEY');
    expect(code(() => verifyWebhook({ ...base, body: body.replace('lobby', 'lobbx') }))).toBe('ERR_WEBHOOK_BAD_SIGNATURE');
    expect(code(() => verifyWebhook({ ...base, keys: { k1: `${SECRET}!` } }))).toBe('ERR_WEBHOOK_BAD_SIGNATURE');
    expect(code(() => verifyWebhook({ ...base, now: T + 301 }))).toBe('ERR_WEBHOOK_STALE');
    expect(code(() => verifyWebhook({ ...base, now: T - 301 }))).toBe('ERR_WEBHOOK_STALE');
    expect(verifyWebhook({ ...base, now: T + 301, toleranceSeconds: 400 }).id).toBe(event.id);
    expect(code(() => verifyWebhook({ ...base, signatureHeader: 'v1=abc' }))).toBe('ERR_WEBHOOK_MALFORMED');
    expect(code(() => verifyWebhook({ ...base, signatureHeader: undefined }))).toBe('ERR_WEBHOOK_MALFORMED');
    const notEvent = '{"hello":1}';
    expect(code(() => verifyWebhook({ ...base, body: notEvent, signatureHeader: signWebhook(SECRET, notEvent, T) }))).toBe('ERR_WEBHOOK_MALFORMED');
  });
});
