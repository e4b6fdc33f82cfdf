import { z } from 'zod';
import { spendToken } from '../../../session/tokenUse.js';
import type { MethodHandler } from '../types.js';
import { emptySchema, languageSchema } from './schemas.js';

export const updatePeer: MethodHandler<'updatePeer'> = {
  params: z.object({ spokenLanguage: languageSchema.optional(), listeningLanguage: languageSchema.optional() }).strict(),
  async handle({ session, services }, params) {
    session.send({ type: 'peer.update', ...params });
    await services.rooms.apply(session.roomId, { type: 'peer.update', peerId: session.peerId, ...params });
    return {};
  },
};

export const leave: MethodHandler<'leave'> = {
  params: emptySchema,
  async handle({ conn, session, services }) {
    conn.session = null;
    const token = session.tokenUse;
    await services.sessions.leave(session, 'left');
    if (token) await spendToken(services.store, token);
    return {};
  },
};
