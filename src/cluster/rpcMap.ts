import type { types } from 'mediasoup';
import { z } from 'zod';
import { permissionChangesSchema } from '../auth/permissions.js';

/**
 * What replicas may ask of each other (method -> params -> result), as the client protocol's MethodMap is
 * for browsers. Every message is checked against these schemas where it arrives: params by the replica
 * that handles them, results by the replica that asked. Methods whose result is `void` are one-way notices.
 */
const id = z.string().min(1).max(128);
const srtpParameters = z.object({
  cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']),
  keyBase64: z.string().min(1).max(256),
});
/** One end of a pipe: where it listens, and its SRTP key when pipes are encrypted. */
const pipeEndpoint = z.object({ roomId: id, ip: z.string().min(1).max(64), port: z.number().int().min(1).max(65535), srtpParameters: srtpParameters.optional() });
const producerRef = z.object({ roomId: id, producerId: id });
const reason = z.string().max(256);
const peerRef = z.object({ roomId: id, peerId: id });
/** mediasoup checks RTP parameters itself when the producer is created from them; this only checks their outline. */
const rtpParameters = z.custom<types.RtpParameters>((v) => typeof v === 'object' && v !== null && Array.isArray((v as { codecs?: unknown }).codecs), 'RTP parameters');

export const ReplicaRpcMethods = {
  /** Asker -> owner: open the sending end of a pipe toward this endpoint; answers the owner's end. */
  'pipe.connect': { params: pipeEndpoint, result: pipeEndpoint },
  /** Asker -> owner: send this producer over the pipe toward the asker; answers how to re-create it there. */
  'pipe.consume': {
    params: producerRef,
    result: z.object({ kind: z.enum(['audio', 'video']), rtpParameters, paused: z.boolean(), appData: z.record(z.string(), z.unknown()) }),
  },
  /** Owner -> asker: the sending end of the pipe that reached the asker's `port` closed. */
  'pipe.closed': { params: z.object({ roomId: id, port: z.number().int().min(1).max(65535) }), result: z.void() },
  /** Owner -> asker: one producer sent over a pipe closed. */
  'pipe.producerClosed': { params: producerRef, result: z.void() },
  /** Moderation (RoomAdmin -> the replica hosting the peer): remove the peer, told `reason`. */
  'moderation.remove': { params: peerRef.extend({ reason }), result: z.object({}) },
  /** Moderation: mute or unmute one of the peer's tracks. */
  'moderation.mute': {
    params: peerRef.extend({ producerId: id, muted: z.boolean() }),
    result: z.object({ trackId: id, kind: z.enum(['audio', 'video']), source: z.string(), muted: z.boolean() }),
  },
  /** Moderation: change what the peer may do. */
  'moderation.permissions': { params: peerRef.extend({ permissions: permissionChangesSchema }), result: z.object({}) },
  /** Moderation: end the room for the peers this replica hosts. */
  'moderation.closeRoom': { params: z.object({ roomId: id, reason, spare: z.array(id).max(16) }), result: z.object({}) },
} as const;

export type RpcMethod = keyof typeof ReplicaRpcMethods;
export type RpcParams<M extends RpcMethod> = z.infer<(typeof ReplicaRpcMethods)[M]['params']>;
export type RpcResult<M extends RpcMethod> = z.infer<(typeof ReplicaRpcMethods)[M]['result']>;
/** Methods that get no reply. */
export type RpcNotice = { [M in RpcMethod]: RpcResult<M> extends void ? M : never }[RpcMethod];
export type RpcHandler<M extends RpcMethod> = (params: RpcParams<M>, from: string) => Promise<RpcResult<M>>;

export function isRpcMethod(method: string): method is RpcMethod {
  return Object.hasOwn(ReplicaRpcMethods, method);
}

/** The envelope every message between replicas travels in (a `notify` gets no reply). */
export const rpcEnvelope = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['request', 'notify']), id, from: id, method: z.string().max(64), params: z.unknown(), sentAt: z.number() }),
  z.object({ kind: z.literal('reply'), id, ok: z.boolean(), data: z.unknown().optional(), error: z.object({ code: z.string(), message: z.string() }).optional() }),
]);
export type RpcEnvelope = z.infer<typeof rpcEnvelope>;
