import { z } from 'zod';
import type { types } from 'mediasoup';
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
    if (session.context.role === 'listener') throw createError(Errors.FORBIDDEN, 'listeners cannot produce');
    const source = params.source ?? (params.kind === 'audio' ? 'mic' : 'cam');
    const producer = await session.media!.produce(params.transportId, params.kind, params.rtpParameters as unknown as types.RtpParameters, {
      peerId: session.peerId,
      source,
    });
    session.send({ type: 'producer.created', producerId: producer.id, kind: params.kind, source });
    services.routers.markAvailable(session.roomId, producer.id, session.media!.room);
    try {
      await services.rooms.apply(session.roomId, {
        type: 'producer.add',
        peerId: session.peerId,
        producer: { producerId: producer.id, kind: params.kind, source, paused: false, replicaId: services.replicaId, ...(params.video ? { video: params.video } : {}) },
      });
    } catch (err) {
      producer.close();
      throw err;
    }
    // Closed while the room was being told (socket dropped): take it back out.
    if (producer.closed) {
      await services.rooms.apply(session.roomId, { type: 'producer.close', peerId: session.peerId, producerId: producer.id }).catch(() => undefined);
    }
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
  const producer = session.media!.producer(producerId);
  if (paused) await producer.pause();
  else await producer.resume();
  session.send({ type: 'producer.paused', producerId, paused });
  await services.rooms.apply(session.roomId, { type: 'producer.pause', peerId: session.peerId, producerId, paused });
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
