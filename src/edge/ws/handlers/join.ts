import { z } from 'zod';
import { verifyJoinToken } from '../../../auth/tokens.js';
import { turnServers } from '../../../auth/turn.js';
import { Errors, createError } from '../../../errors.js';
import { toPeerInfo } from '../../../session/peerInfo.js';
import { checkToken } from '../../../session/tokenUse.js';
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
      await checkToken(services.store, claims);
      // The page's choice, else the token's, else English.
      const spokenLanguage = params.spokenLanguage ?? claims.languages?.spoken ?? 'en';
      const result = await services.sessions.join(conn.link, claims, {
        spokenLanguage,
        listeningLanguage: params.listeningLanguage ?? claims.languages?.listening ?? spokenLanguage,
      });
      if (conn.closed) {
        // The socket went away while joining: treat it as a drop, not a leave.
        services.sessions.socketClosed(result.session, conn.link);
        throw createError(Errors.WRONG_STATE, 'connection closed during join');
      }
      conn.session = result.session;
      if (claims.tokenId) result.session.tokenUse = { id: claims.tokenId, expiresAt: claims.expiresAt };
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
        role: claims.role,
        permissions: result.session.permissions,
      };
    } finally {
      conn.joining = false;
    }
  },
};
