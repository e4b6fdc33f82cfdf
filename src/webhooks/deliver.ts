/**
 * Delivering one event to one receiver: a signed POST, retried with capped exponential backoff until it
 * gets a 2xx or the event is `retryForMs` old. Nothing here knows about queues.
 */
import type { WebhookEvent } from '../api/types.js';
import { signWebhook, WEBHOOK_HEADERS } from './signature.js';

export type DeliveryTarget = {
  url: string;
  /** The API key named in `Parley-Key` and its secret (signs). */
  key: string;
  secret: string;
  /** One attempt's timeout, ms. */
  timeoutMs: number;
  /** Give up on an event this long after it happened, ms. */
  retryForMs: number;
};

export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

export const BACKOFF = { firstMs: 500, maxMs: 30_000 } as const;

/** The pause after failed attempt `n` (0-based): 0.5 s, 1 s, 2 s, ... capped at 30 s. */
export function backoffMs(n: number): number {
  return Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** Math.min(n, 16));
}

/** One signed POST (signed now: a retry carries a fresh timestamp). */
export async function postEvent(target: DeliveryTarget, event: WebhookEvent, signal?: AbortSignal): Promise<AttemptResult> {
  const body = JSON.stringify(event);
  const timeout = AbortSignal.timeout(target.timeoutMs);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_HEADERS.key]: target.key,
        [WEBHOOK_HEADERS.signature]: signWebhook(target.secret, body),
        [WEBHOOK_HEADERS.eventId]: event.id,
      },
    });
    await res.body?.cancel().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? { ok: true, status: res.status } : { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const error = timeout.aborted ? `timed out after ${target.timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, status: null, error };
  }
}

export type DeliveryHooks = {
  /** Every failed attempt, with the pause before the next one (null: giving up). */
  failed?(result: Extract<AttemptResult, { ok: false }>, attempt: number, nextInMs: number | null): void;
  /** Waits `ms` unless stopped; resolves false when stopped (the caller hands the job back). */
  sleep(ms: number): Promise<boolean>;
  signal?: AbortSignal;
};

export type DeliveryOutcome = 'ok' | 'given-up' | 'stopped';

/** Attempts until a 2xx, the event's retry window ends, or the hooks' sleep says stop. */
export async function deliverWithRetry(target: DeliveryTarget, event: WebhookEvent, hooks: DeliveryHooks): Promise<DeliveryOutcome> {
  const deadline = event.createdAt + target.retryForMs;
  for (let attempt = 0; ; attempt++) {
    if (hooks.signal?.aborted) return 'stopped';
    const result = await postEvent(target, event, hooks.signal);
    if (result.ok) return 'ok';
    if (hooks.signal?.aborted) return 'stopped';
    const pause = backoffMs(attempt);
    const giveUp = Date.now() + pause > deadline;
    hooks.failed?.(result, attempt, giveUp ? null : pause);
    if (giveUp) return 'given-up';
    if (!(await hooks.sleep(pause))) return 'stopped';
  }
}
