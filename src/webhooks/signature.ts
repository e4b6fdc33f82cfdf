/**
 * Signing and verifying webhook deliveries. `Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">` with the secret of the API key named in `Parley-Key`. Receivers use `verifyWebhook`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent, WebhookEventKind } from '../api/types.js';
import { WebhookVerificationError } from './WebhookVerificationError.js';

export const WEBHOOK_HEADERS = {
  key: 'Parley-Key',
  signature: 'Parley-Signature',
  eventId: 'Parley-Event-Id',
} as const;

/** API key -> secret, as a map or as the `api.keys` list. */
export type WebhookKeys = Readonly<Record<string, string>> | ReadonlyArray<{ key: string; secret: string }>;

export type VerifyWebhookOptions = {
  /** The raw request body, exactly as received (re-serialized JSON does not verify). */
  body: string | Uint8Array;
  /** The `Parley-Signature` header. */
  signatureHeader: string | null | undefined;
  /** The `Parley-Key` header. */
  keyHeader: string | null | undefined;
  keys: WebhookKeys;
  /** Largest accepted difference between the signature's time and now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Now, in unix seconds (default the clock). */
  now?: number;
};

const KINDS: ReadonlySet<WebhookEventKind> = new Set<WebhookEventKind>([
  'room_started', 'room_finished', 'participant_joined', 'participant_left',
  'track_published', 'track_unpublished', 'translation_started', 'translation_stopped',
]);

function hmac(secret: string, t: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

/** The `Parley-Signature` header value for `body`. */
export function signWebhook(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  if (!secret) throw new TypeError('signWebhook: empty secret');
  return `t=${nowSeconds},v1=${hmac(secret, nowSeconds, body).toString('hex')}`;
}

function secretOf(keys: WebhookKeys, key: string): string | undefined {
  if (Array.isArray(keys)) return (keys as ReadonlyArray<{ key: string; secret: string }>).find((k) => k.key === key)?.secret;
  return Object.hasOwn(keys, key) ? (keys as Readonly<Record<string, string>>)[key] : undefined;
}

/** `t` and every `v1` of a signature header (several `v1` are allowed, any one may match). */
function parseSignature(header: string): { t: number; v1: Buffer[] } {
  let t = NaN;
  const v1: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) v1.push(Buffer.from(value, 'hex'));
  }
  if (!Number.isFinite(t) || v1.length === 0) throw new WebhookVerificationError('ERR_WEBHOOK_MALFORMED', 'Parley-Signature must read t=<unix seconds>,v1=<64 hex digits>');
  return { t, v1 };
}

function parseEvent(body: string | Uint8Array): WebhookEvent {
  let event: unknown;
  try {
    event = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('ERR_WEBHOOK_MALFORMED', 'the body is not JSON');
  }
  const e = event as Partial<WebhookEvent> | null;
  if (!e || typeof e.id !== 'string' || typeof e.roomId !== 'string' || typeof e.seq !== 'number' || !KINDS.has(e.event as WebhookEventKind)) {
    throw new WebhookVerificationError('ERR_WEBHOOK_MALFORMED', 'the body is not a webhook event (id, event, roomId, seq)');
  }
  return e as WebhookEvent;
}

/**
 * Checks a delivery's key, signature and age, and returns its event. Throws a `WebhookVerificationError`:
 * ERR_WEBHOOK_UNKNOWN_KEY (no secret for `Parley-Key`), ERR_WEBHOOK_BAD_SIGNATURE (no `v1` matches),
 * ERR_WEBHOOK_STALE (signed more than `toleranceSeconds` away from now), ERR_WEBHOOK_MALFORMED.
 */
export function verifyWebhook(o: VerifyWebhookOptions): WebhookEvent {
  if (!o.keyHeader) throw new WebhookVerificationError('ERR_WEBHOOK_MALFORMED', 'no Parley-Key header');
  if (!o.signatureHeader) throw new WebhookVerificationError('ERR_WEBHOOK_MALFORMED', 'no Parley-Signature header');
  const secret = secretOf(o.keys, o.keyHeader);
  if (!secret) throw new WebhookVerificationError('ERR_WEBHOOK_UNKNOWN_KEY', `no secret for API key "${o.keyHeader}"`);
  const { t, v1 } = parseSignature(o.signatureHeader);
  const expected = hmac(secret, t, o.body);
  if (!v1.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected))) {
    throw new WebhookVerificationError('ERR_WEBHOOK_BAD_SIGNATURE', 'the signature does not match the body (was the body changed or re-serialized?)');
  }
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const tolerance = o.toleranceSeconds ?? 300;
  if (Math.abs(now - t) > tolerance) throw new WebhookVerificationError('ERR_WEBHOOK_STALE', `signed at ${t}, ${now - t} s from now (tolerance ${tolerance} s)`);
  return parseEvent(o.body);
}
