/** Who may call the server API: the API is on and has keys, the request is signed (requestAuth.ts), and its jti is unused. */
import { randomUUID } from 'node:crypto';
import { CLOCK_SKEW_SECONDS, verifyApiRequest, type ApiRequestTarget } from '../../../api/requestAuth.js';
import type { ApiRequestClaims } from '../../../api/types.js';
import type { Config } from '../../../config/schema.js';
import { Errors, createError } from '../../../errors.js';
import type { Store } from '../../../state/Store.js';
import { Keys } from '../../../state/keys.js';

/** False when the API is switched off or has no key: every /api/v1 call then answers ERR_API_DISABLED. */
export function apiEnabled(config: Config): boolean {
  return config.api.enabled && config.api.keys.length > 0;
}

/**
 * Verifies the request's token, then marks its jti used in Redis (SET NX, kept until the token can no
 * longer verify): a second request with the same token, on any replica, is ERR_API_REPLAYED.
 */
export async function authenticate(config: Config, store: Store, authorization: string, target: ApiRequestTarget): Promise<ApiRequestClaims> {
  const claims = await verifyApiRequest(config.api.keys, config.api.maxRequestAgeSeconds, authorization, target);
  const mark = randomUUID();
  const keepMs = Math.max(1000, (claims.exp + CLOCK_SKEW_SECONDS) * 1000 - Date.now());
  if ((await store.getOrSet(Keys.apiRequest(claims.jti), mark, keepMs)) !== mark) throw createError(Errors.API_REPLAYED);
  return claims;
}
