/**
 * Server API request authentication (docs/server-api.md#authentication): each request carries
 * `Authorization: Bearer <jwt>`, HS256 with an API secret, its key in the `kid` header, and claims
 * (ApiRequestClaims) binding it to one method, path and body for a short time. Pure functions: the
 * single-use check of `jti` needs Redis and lives in the route layer (src/edge/http/api/authenticate.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { Errors, createError } from '../errors.js';
import type { ApiRequestClaims } from './types.js';

/** An API key and the secret that signs its requests. */
export type ApiKeyPair = { key: string; secret: string };

/** What a request token is bound to. */
export type ApiRequestTarget = {
  /** HTTP method; compared case-insensitively. */
  method: string;
  /** The request path as sent, without the query string. */
  path: string;
  /** The exact body bytes sent; undefined or '' for none. */
  body?: string | Uint8Array;
};

/** How far a signer's clock may be ahead of (iat) or behind (exp) the gateway's, in seconds. */
export const CLOCK_SKEW_SECONDS = 30;
/** Lifetime of a request token when the signer names none, in seconds. */
export const DEFAULT_REQUEST_TTL_SECONDS = 60;

const BEARER_RE = /^Bearer ([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+)$/;
const JTI_RE = /^[A-Za-z0-9_.-]{8,128}$/;
const encoder = new TextEncoder();

/** Hex SHA-256 of a body (of "" when there is none). */
export function bodySha256(body: string | Uint8Array | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

/**
 * A bearer token for one request: `Bearer ` + this goes in the Authorization header. `now` (ms since
 * epoch) is the signer's clock, for callers that correct a known offset.
 */
export async function signApiRequest(pair: ApiKeyPair, target: ApiRequestTarget, ttlSeconds = DEFAULT_REQUEST_TTL_SECONDS, now = Date.now()): Promise<string> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new TypeError('ttlSeconds must be a positive integer');
  const iat = Math.floor(now / 1000);
  const claims: Omit<ApiRequestClaims, 'jti' | 'iat' | 'exp'> = { method: target.method.toUpperCase(), path: target.path, sha256: bodySha256(target.body) };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: pair.key })
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(encoder.encode(pair.secret));
}

/**
 * Checks a request's Authorization header against the configured keys and the request itself.
 * Throws ERR_API_UNAUTHORIZED (no or malformed token, unknown key, bad signature, claims that do not
 * match the method, path or body) or ERR_API_REQUEST_EXPIRED (past exp, a lifetime over
 * `maxAgeSeconds`, or iat in the future beyond the clock skew). Does not check that jti is unused.
 */
export async function verifyApiRequest(keys: readonly ApiKeyPair[], maxAgeSeconds: number, authorizationHeader: string | undefined, target: ApiRequestTarget): Promise<ApiRequestClaims> {
  const token = BEARER_RE.exec(authorizationHeader ?? '')?.[1];
  if (!token) throw createError(Errors.API_UNAUTHORIZED, 'expected "Authorization: Bearer <token>"');
  const pair = keys.find((k) => k.key === keyIdOf(token));
  if (!pair) throw createError(Errors.API_UNAUTHORIZED, 'unknown API key');

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, encoder.encode(pair.secret), { algorithms: ['HS256'], clockTolerance: CLOCK_SKEW_SECONDS, requiredClaims: ['iat', 'exp', 'jti'] }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw createError(Errors.API_REQUEST_EXPIRED);
    throw createError(Errors.API_UNAUTHORIZED, err instanceof joseErrors.JWSSignatureVerificationFailed ? 'bad signature' : 'malformed token');
  }
  const claims = claimsOf(payload);
  const nowSeconds = Date.now() / 1000;
  if (claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) throw createError(Errors.API_REQUEST_EXPIRED, 'issued in the future (check the clock)');
  if (claims.exp - claims.iat > maxAgeSeconds) throw createError(Errors.API_REQUEST_EXPIRED, `lifetime over ${maxAgeSeconds} s`);
  if (claims.method !== target.method.toUpperCase() || claims.path !== target.path) throw createError(Errors.API_UNAUTHORIZED, 'signed for another method or path');
  if (claims.sha256 !== bodySha256(target.body)) throw createError(Errors.API_UNAUTHORIZED, 'body does not match its signature');
  return claims;
}

/** The `kid` header of a compact JWS, or undefined when it has none or is not one. */
function keyIdOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
}

/** A verified payload's claims, each of its expected type. */
function claimsOf(payload: JWTPayload): ApiRequestClaims {
  const { jti, iat, exp, method, path, sha256 } = payload as Record<string, unknown>;
  const ok =
    typeof jti === 'string' && JTI_RE.test(jti) &&
    typeof iat === 'number' && typeof exp === 'number' && exp > iat &&
    typeof method === 'string' && typeof path === 'string' && typeof sha256 === 'string';
  if (!ok) throw createError(Errors.API_UNAUTHORIZED, 'claims malformed');
  return { jti, iat, exp, method, path, sha256 };
}
