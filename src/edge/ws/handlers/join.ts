import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { own } from '../../../actors/room/machine.js';
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
      await spendToken(services, claims);
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
        originalVolume: services.config.ai.originalVolume,
        iceServers: turnServers(services.config.turn, claims.identity),
        iceTransportPolicy: services.config.turn.forceRelay ? 'relay' : 'all',
      };
    } finally {
      conn.joining = false;
    }
  },
};

/**
 * A token with a `jti` admits its participant once: the first join records it in Redis until the token
 * expires. Later joins with it only resume that participant while the room still holds them (a socket
 * drop, a move to another replica); once they left, it is spent (ERR_TOKEN_USED).
 */
async function spendToken(services: Services, claims: JoinClaims): Promise<void> {
  if (!claims.tokenId) return;
  const attempt = randomUUID();
  const holder = await services.store.getOrSet(Keys.tokenUse(claims.tokenId), attempt, Math.max(1000, claims.expiresAt - Date.now()));
  if (holder === attempt) return;
  const room = await services.rooms.get(claims.roomId);
  if (!room || !own(room.peers, claims.identity)) throw createError(Errors.TOKEN_USED);
}
