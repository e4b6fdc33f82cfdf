import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { Errors, createError } from '../errors.js';
import type { PeerRole } from '../protocol/messages.js';
import { PERMISSION_NAMES, permissionChangesSchema, type Permissions } from './permissions.js';

/** What a join token grants. */
export type JoinClaims = {
  roomId: string;
  /** Stable identity of the participant; the peer id inside the room. */
  identity: string;
  displayName: string;
  role: PeerRole;
  /** Expiry, ms since epoch. */
  expiresAt: number;
  /**
   * The token's `jti`, when it has one: such a token admits its participant once. It works again only
   * to resume that participant while they are still in the room (a reconnect, a move to another replica).
   */
  tokenId?: string;
  /** Permissions that differ from the role's defaults (claim `perms`). */
  permissions?: Partial<Permissions>;
  /** The languages the participant starts with when the join names none (claim `lang`). */
  languages?: { spoken?: string; listening?: string };
};

const ROLES: readonly PeerRole[] = ['speaker', 'listener', 'admin'];
const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const LANG_RE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

/** A `perms` claim: only known permission names, each a boolean. */
function isPermissions(value: unknown): value is Partial<Permissions> {
  return permissionChangesSchema.safeParse(value).success;
}

/** A `lang` claim: `spoken` and `listening`, each a language tag, both optional. */
function isLanguages(value: unknown): value is { spoken?: string; listening?: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(([k, v]) => (k === 'spoken' || k === 'listening') && typeof v === 'string' && LANG_RE.test(v));
}

export type TokenKey = { secret: Uint8Array; issuer: string };

export function tokenKey(secret: string, issuer: string): TokenKey {
  return { secret: new TextEncoder().encode(secret), issuer };
}

/** Room ids and identities: 1-64 characters of letters, digits, `_ . -`. */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}

export async function signJoinToken(
  key: TokenKey,
  claims: Omit<JoinClaims, 'expiresAt'> & { ttlSeconds: number },
): Promise<{ token: string; expiresAt: number }> {
  if (!isValidId(claims.roomId)) throw new TypeError('roomId must be 1-64 characters of [A-Za-z0-9_.-]');
  if (!isValidId(claims.identity)) throw new TypeError('identity must be 1-64 characters of [A-Za-z0-9_.-]');
  if (!ROLES.includes(claims.role)) throw new TypeError(`role must be one of ${ROLES.join(', ')}`);
  const now = Math.floor(Date.now() / 1000);
  const exp = now + claims.ttlSeconds;
  if (claims.tokenId !== undefined && !isValidId(claims.tokenId)) throw new TypeError('tokenId must be 1-64 characters of [A-Za-z0-9_.-]');
  if (claims.permissions !== undefined && !isPermissions(claims.permissions)) throw new TypeError(`permissions may only name ${PERMISSION_NAMES.join(', ')}, each true or false`);
  if (claims.languages !== undefined && !isLanguages(claims.languages)) throw new TypeError('languages: { spoken?, listening? }, each a language tag such as "en" or "es"');
  const jwt = new SignJWT({
    room: claims.roomId,
    name: claims.displayName.slice(0, 64),
    role: claims.role,
    ...(claims.permissions && Object.keys(claims.permissions).length > 0 ? { perms: claims.permissions } : {}),
    ...(claims.languages && Object.keys(claims.languages).length > 0 ? { lang: claims.languages } : {}),
  });
  if (claims.tokenId) jwt.setJti(claims.tokenId);
  const token = await jwt
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.identity)
    .setIssuer(key.issuer)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(key.secret);
  return { token, expiresAt: exp * 1000 };
}

/** Verifies signature, issuer, expiry and claim shapes; throws ERR_TOKEN_EXPIRED or ERR_TOKEN_INVALID. */
export async function verifyJoinToken(key: TokenKey, token: string): Promise<JoinClaims> {
  try {
    const { payload } = await jwtVerify(token, key.secret, { algorithms: ['HS256'], issuer: key.issuer, requiredClaims: ['exp', 'sub'] });
    const { room, name, role, sub, exp, jti, perms, lang } = payload as Record<string, unknown>;
    if (!isValidId(room) || !isValidId(sub) || typeof name !== 'string' || !ROLES.includes(role as PeerRole) || (jti !== undefined && !isValidId(jti))) {
      throw createError(Errors.TOKEN_INVALID, 'claims malformed');
    }
    if ((perms !== undefined && !isPermissions(perms)) || (lang !== undefined && !isLanguages(lang))) throw createError(Errors.TOKEN_INVALID, 'claims malformed');
    const claims: JoinClaims = { roomId: room, identity: sub, displayName: name, role: role as PeerRole, expiresAt: Number(exp) * 1000 };
    if (jti !== undefined) claims.tokenId = jti;
    if (perms !== undefined) claims.permissions = perms;
    if (lang !== undefined) claims.languages = lang;
    return claims;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw createError(Errors.TOKEN_EXPIRED);
    if (err instanceof Error && 'code' in err && err.code === Errors.TOKEN_INVALID.code) throw err;
    throw createError(Errors.TOKEN_INVALID);
  }
}
