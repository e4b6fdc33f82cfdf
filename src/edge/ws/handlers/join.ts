import { z } from 'zod';
import type { Services } from '../../../app/services.js';
import { verifyJoinToken, type JoinClaims } from '../../../auth/tokens.js';
import { turnServers } from '../../../auth/turn.js';
import { Errors, createError } from '../../../errors.js';
import { toPeerInfo } from '../../../session/peerInfo.js';
import { Keys } from '../../../state/keys.js';
import type { MethodHandler } from '../types.js';
import { languageSchema } from './schemas.js';

export const join: MethodHandler<'join'> = {
  beforeJoin: true,
  params: z
    .object({
      token: z.string().min(1).max(4096),
      roomId: z.string().min(1).max(64),
      spokenLanguage: languageSchema.optional(),
      listeningLanguage: languageSchema.optional(),
    })
    .strict(),
  async handle({ conn, services }, params) {
    if (conn.session) throw createError(Errors.ALREADY_JOINED);
    if (conn.joining) throw createError(Errors.WRONG_STATE, 'a join is already in progress');
    if (services.cluster.draining) throw services.cluster.drainingError();
    if (services.lifecycle.shuttingDown) throw createError(Errors.SHUTTING_DOWN);
    conn.joining = true;
    try {
      const claims = await verifyJoinToken(services.tokenKey, params.token);
      if (claims.roomId !== params.roomId) throw createError(Errors.TOKEN_WRONG_ROOM);
      await checkToken(services, claims);
      const spokenLanguage = params.spokenLanguage ?? 'en';
      const result = await services.sessions.join(conn.link, claims, {
        spokenLanguage,
        listeningLanguage: params.listeningLanguage ?? spokenLanguage,
      });
      if (conn.closed) {
        // The socket went away while joining: treat it as a drop, not a leave.
        services.sessions.socketClosed(result.session, conn.link);
        throw createError(Errors.WRONG_STATE, 'connection closed during join');
      }
      conn.session = result.session;
      if (claims.tokenId) conn.token = { id: claims.tokenId, expiresAt: claims.expiresAt };
      services.metrics.observeJoin(result.resumed);
      const media = result.session.media!;
      return {
        peerId: claims.identity,
        roomId: claims.roomId,
        replicaId: services.replicaId,
        resumed: result.resumed,
        routerRtpCapabilities: media.room.router.rtpCapabilities,
        peers: Object.values(result.room.peers)
          .filter((p) => p.peerId !== claims.identity)
          .map(toPeerInfo),
        replicas: services.cluster.alternatives(),
        activeSpeaker: services.speakers.current(media.room),
        originalVolume: services.config.ai.originalVolume,
        iceServers: turnServers(services.config.turn, claims.identity),
        iceTransportPolicy: services.config.turn.forceRelay ? 'relay' : 'all',
      };
    } finally {
      conn.joining = false;
    }
  },
};

/** What the token-use key holds once its participant left: the token admits nobody any more. */
const SPENT = 'left';

/**
 * A token with a `jti` is single use: once its participant has left the room (the `leave` request),
 * it admits nobody again (ERR_TOKEN_USED). Until then it may join again: a reconnect, a move to
 * another replica, or a return after the peer was removed for being unreachable (its replica died,
 * the reconnect grace ran out), which is not a departure the participant chose.
 */
async function checkToken(services: Services, claims: JoinClaims): Promise<void> {
  if (!claims.tokenId) return;
  const stored = await services.store.getOrSet(Keys.tokenUse(claims.tokenId), claims.identity, Math.max(1000, claims.expiresAt - Date.now()));
  if (stored === SPENT) throw createError(Errors.TOKEN_USED);
}

/** Marks a single-use token spent (its participant left), until it expires anyway. */
export async function spendToken(services: Services, token: { id: string; expiresAt: number }): Promise<void> {
  const key = Keys.tokenUse(token.id);
  await services.store.del(key);
  await services.store.getOrSet(key, SPENT, Math.max(1000, token.expiresAt - Date.now()));
}
