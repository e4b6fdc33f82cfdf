/**
 * Short-lived TURN credentials in the "REST API" scheme coturn implements with
 * `use-auth-secret` + `static-auth-secret`: the username is `<expiry unix s>:<peer>`,
 * the password base64(HMAC-SHA1(secret, username)). coturn recomputes it and
 * refuses it once the expiry has passed; the secret itself never leaves the gateway.
 */
import { createHmac } from 'node:crypto';

export type TurnSettings = { urls: string[]; secret: string; credentialTtlSeconds: number; forceRelay: boolean };

/** What a client gives its RTCPeerConnection (RTCIceServer). */
export type IceServer = { urls: string[]; username: string; credential: string };

/** The ICE servers for `identity`, or none when TURN is not configured. */
export function turnServers(turn: TurnSettings, identity: string, nowMs = Date.now()): IceServer[] {
  if (turn.urls.length === 0 || !turn.secret) return [];
  const expiry = Math.floor(nowMs / 1000) + turn.credentialTtlSeconds;
  const username = `${expiry}:${identity}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return [{ urls: [...turn.urls], username, credential }];
}
