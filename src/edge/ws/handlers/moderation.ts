import { z } from 'zod';
import { Errors, createError } from '../../../errors.js';
import type { JoinedContext, MethodHandler } from '../types.js';
import { idSchema } from './schemas.js';

const reasonSchema = z.string().max(256).optional();

/** Moderation methods need the `moderate` permission (docs/permissions.md); the act runs where the target is hosted. */
function moderator({ session, services }: JoinedContext): typeof services.admin {
  if (!session.permissions.moderate) throw createError(Errors.FORBIDDEN, 'moderation needs the moderate permission');
  return services.admin;
}

export const removePeer: MethodHandler<'removePeer'> = {
  params: z.object({ peerId: idSchema, reason: reasonSchema }).strict(),
  async handle(ctx, { peerId, reason }) {
    await moderator(ctx).removeParticipant(ctx.session.roomId, peerId, reason ?? '');
    return {};
  },
};

export const mutePeer: MethodHandler<'mutePeer'> = {
  params: z.object({ peerId: idSchema, producerId: idSchema, muted: z.boolean() }).strict(),
  async handle(ctx, { peerId, producerId, muted }) {
    await moderator(ctx).muteTrack(ctx.session.roomId, peerId, producerId, muted);
    return {};
  },
};

export const closeRoom: MethodHandler<'closeRoom'> = {
  params: z.object({ reason: reasonSchema }).strict(),
  async handle(ctx, { reason }) {
    const admin = moderator(ctx);
    const { roomId, peerId } = ctx.session;
    await admin.closeRoom(roomId, reason ?? '', { spare: peerId });
    // The caller goes last, once it has its answer.
    setTimeout(() => void admin.closeRoom(roomId, reason ?? '').catch(() => undefined), 0);
    return {};
  },
};
