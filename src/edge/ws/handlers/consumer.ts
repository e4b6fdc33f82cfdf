import { z } from 'zod';
import type { types } from 'mediasoup';
import { Errors, createError } from '../../../errors.js';
import type { MediaKind } from '../../../protocol/messages.js';
import type { JoinedContext, MethodHandler } from '../types.js';
import { idSchema, objectSchema } from './schemas.js';

export const consume: MethodHandler<'consume'> = {
  params: z.object({ transportId: idSchema, producerId: idSchema, rtpCapabilities: objectSchema }).strict(),
  async handle({ session, services }, params) {
    if (!session.permissions.subscribe) throw createError(Errors.FORBIDDEN, 'no permission to subscribe');
    const room = await services.rooms.get(session.roomId);
    const owner = room && Object.values(room.peers).find((p) => Object.hasOwn(p.producers, params.producerId));
    if (!owner) throw createError(Errors.PRODUCER_NOT_FOUND, params.producerId);
    if (owner.peerId === session.peerId) throw createError(Errors.CANNOT_CONSUME, 'a peer does not consume itself');
    // A producer of a peer on another replica reaches this router through a pipe.
    const producer = owner.producers[params.producerId]!;
    await services.cluster.pipes.ensureProducer(session.roomId, params.producerId, producer.replicaId);
    // ...and a producer on another of this replica's routers of the room, through pipeToRouter.
    await services.routers.ensureOn(session.roomId, params.producerId, session.media!.room);
    const consumer = await session.media!.consume(params.transportId, params.producerId, params.rtpCapabilities as unknown as types.RtpCapabilities, producer.video ?? null);
    const kind = consumer.kind as MediaKind;
    session.send({ type: 'consumer.created', consumerId: consumer.id, producerId: params.producerId, kind });
    return { consumerId: consumer.id, producerId: params.producerId, peerId: owner.peerId, kind, rtpParameters: consumer.rtpParameters };
  },
};

async function setPaused({ session }: JoinedContext, consumerId: string, paused: boolean): Promise<Record<string, never>> {
  await session.media!.setConsumerPaused(consumerId, paused);
  session.send({ type: 'consumer.paused', consumerId, paused });
  return {};
}

const consumerIdParams = z.object({ consumerId: idSchema }).strict();

export const resumeConsumer: MethodHandler<'resumeConsumer'> = {
  params: consumerIdParams,
  handle: (ctx, { consumerId }) => setPaused(ctx, consumerId, false),
};

export const pauseConsumer: MethodHandler<'pauseConsumer'> = {
  params: consumerIdParams,
  handle: (ctx, { consumerId }) => setPaused(ctx, consumerId, true),
};

/** Largest tile edge a page may report (device pixels): an 8K screen. */
const MAX_TILE_PX = 8192;

export const setConsumerView: MethodHandler<'setConsumerView'> = {
  params: z
    .object({
      consumerId: idSchema,
      width: z.number().int().min(0).max(MAX_TILE_PX),
      height: z.number().int().min(0).max(MAX_TILE_PX),
      visible: z.boolean(),
    })
    .strict(),
  async handle({ session }, { consumerId, ...view }) {
    const media = session.media!;
    const consumer = media.consumer(consumerId);
    if (consumer.kind !== 'video') throw createError(Errors.INVALID_PARAMS, `${consumerId} is not a video consumer`);
    return (await media.video.setView(consumerId, view))!;
  },
};
