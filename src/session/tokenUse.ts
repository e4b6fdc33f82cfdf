import type { JoinClaims } from '../auth/tokens.js';
import { Errors, createError } from '../errors.js';
import { Keys } from '../state/keys.js';
import type { Store } from '../state/Store.js';

/** A single-use token (its `jti`) and when it expires anyway. */
export type TokenUse = { id: string; expiresAt: number };

/** What the token-use key holds once its participant left: the token admits nobody any more. */
const SPENT = 'left';

/**
 * A token with a `jti` is single use: once its participant has left the room (the `leave` request, or
 * a moderator removed them), it admits nobody again (ERR_TOKEN_USED). Until then it may join again: a
 * reconnect, a move to another replica, or a return after the peer was removed for being unreachable
 * (its replica died, the reconnect grace ran out), which is not a departure the participant chose.
 */
export async function checkToken(store: Store, claims: JoinClaims): Promise<void> {
  if (!claims.tokenId) return;
  const stored = await store.getOrSet(Keys.tokenUse(claims.tokenId), claims.identity, Math.max(1000, claims.expiresAt - Date.now()));
  if (stored === SPENT) throw createError(Errors.TOKEN_USED);
}

/** Marks a single-use token spent (its participant left), until it expires anyway. */
export async function spendToken(store: Store, token: TokenUse): Promise<void> {
  const key = Keys.tokenUse(token.id);
  await store.del(key);
  await store.getOrSet(key, SPENT, Math.max(1000, token.expiresAt - Date.now()));
}
