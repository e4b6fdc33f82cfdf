/** Why a webhook delivery was refused by `verifyWebhook` (docs/webhooks.md#verifying). */
export type WebhookVerificationCode = 'ERR_WEBHOOK_MALFORMED' | 'ERR_WEBHOOK_UNKNOWN_KEY' | 'ERR_WEBHOOK_BAD_SIGNATURE' | 'ERR_WEBHOOK_STALE';

/** A delivery that must not be trusted: answer it with 401 (or 400 when malformed) and do not act on it. */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationCode;

  constructor(code: WebhookVerificationCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}
