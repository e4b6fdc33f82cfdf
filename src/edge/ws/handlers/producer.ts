import { z } from 'zod';
import type { types } from 'mediasoup';
import { publishPermission } from '../../../auth/permissions.js';
import { Errors, createError } from '../../../errors.js';
import type { JoinedContext, MethodHandler } from '../types.js';
import { idSchema, objectSchema, videoLayoutSchema } from './schemas.js';

const SOURCE_RE = /^(mic|cam|screen)$/;

export const produce: MethodHandler<'produce'> = {
  params: z
    .object({
      transportId: idSchema,
      kind: z.enum(['audio', 'video']),
      rtpParameters: objectSchema,
      source: z.string().regex(SOURCE_RE, 'mic, cam or screen').optional(),
      video: videoLayoutSchema.optional(),
    })
    .strict()
    .refine((p) => p.kind === 'video' || p.video === undefined, { message: 'video describes a video producer only', path: ['video'] }),
  async handle({ session, services }, params) {
    const source = params.source ?? (params.kind === 'audio' ? 'mic' : 'cam');
    // The room actor enforces this on every replica; checked here too so no mediasoup producer is made for nothing.
    const needs = publishPermission(source);
    if (needs && !session.permissions[needs]) throw createError(Errors.FORBIDDEN, `no permission to publish ${source}`);
    const media = session.media!;
    const producer = await media.produce(params.transportId, params.kind, params.rtpParameters as unknown as types.RtpParameters, {
      peerId: session.peerId,
      source,
    });
    await services.producers.publish({ roomId: session.roomId, peerId: session.peerId, producer, origin: 'client', source, rr: media.room, ...(params.video ? { video: params.video } : {}) });
    return { producerId: producer.id };
  },
};

const producerIdParams = z.object({ producerId: idSchema }).strict();

export const closeProducer: MethodHandler<'closeProducer'> = {
  params: producerIdParams,
  async handle({ session }, { producerId }) {
    session.media!.producer(producerId).close();
    return {};
  },
};

async function setPaused({ session, services }: JoinedContext, producerId: string, paused: boolean): Promise<Record<string, never>> {
  await services.producers.setPaused(session.media!.producer(producerId), paused);
  return {};
}

export const pauseProducer: MethodHandler<'pauseProducer'> = {
  params: producerIdParams,
  handle: (ctx, { producerId }) => setPaused(ctx, producerId, true),
};

export const resumeProducer: MethodHandler<'resumeProducer'> = {
  params: producerIdParams,
  handle: (ctx, { producerId }) => setPaused(ctx, producerId, false),
};
