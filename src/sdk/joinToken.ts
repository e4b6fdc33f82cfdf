/**
 * Join tokens as the server API makes them (POST /api/v1/tokens): the same defaults whether the gateway
 * signs (the createToken route) or an app holding the token secret signs itself (createJoinToken).
 */
import { randomUUID } from 'node:crypto';
import type { CreateTokenRequest, CreateTokenResponse } from '../api/types.js';
import { signJoinToken, tokenKey, type TokenKey } from '../auth/tokens.js';

export const JOIN_TOKEN_DEFAULTS = { role: 'speaker', ttlSeconds: 3600, singleUse: true } as const;

/** Signs a join token for `request` with `key`: role speaker, 1 h, single use and name = identity unless given. */
export async function joinTokenFor(key: TokenKey, request: CreateTokenRequest): Promise<CreateTokenResponse> {
  const singleUse = request.singleUse ?? JOIN_TOKEN_DEFAULTS.singleUse;
  const { token, expiresAt } = await signJoinToken(key, {
    roomId: request.roomId,
    identity: request.identity,
    displayName: request.name ?? request.identity,
    role: request.role ?? JOIN_TOKEN_DEFAULTS.role,
    ttlSeconds: request.ttlSeconds ?? JOIN_TOKEN_DEFAULTS.ttlSeconds,
    ...(singleUse ? { tokenId: randomUUID() } : {}),
    ...(request.permissions ? { permissions: request.permissions } : {}),
    ...(request.languages ? { languages: request.languages } : {}),
  });
  return { token, identity: request.identity, expiresAt };
}

/**
 * For apps that hold the gateway's token secret (`auth.secret`, issuer `auth.issuer`): a join token
 * made locally, without a call to the gateway. Same claims and defaults as RoomServiceClient.createToken.
 */
export function createJoinToken(secret: string, issuer: string, claims: CreateTokenRequest): Promise<CreateTokenResponse> {
  return joinTokenFor(tokenKey(secret, issuer), claims);
}
