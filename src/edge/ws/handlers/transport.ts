import { z } from 'zod';
import type { types } from 'mediasoup';
import type { MethodHandler } from '../types.js';
import { idSchema, objectSchema } from './schemas.js';

export const createTransport: MethodHandler<'createTransport'> = {
  params: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  async handle({ session }, { direction }) {
    const options = await session.media!.createTransport(direction, session.peerId);
    session.send({ type: 'transport.created', transportId: options.id, direction });
    return options;
  },
};

export const connectTransport: MethodHandler<'connectTransport'> = {
  params: z.object({ transportId: idSchema, dtlsParameters: objectSchema }).strict(),
  async handle({ session }, { transportId, dtlsParameters }) {
    await session.media!.connectTransport(transportId, dtlsParameters as unknown as types.DtlsParameters);
    session.send({ type: 'transport.connected', transportId });
    return {};
  },
};
