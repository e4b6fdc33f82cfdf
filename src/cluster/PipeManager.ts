import type { types } from 'mediasoup';
import { Errors, ParleyError, createError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomRouters } from '../media/RoomRouters.js';
import type { ReplicaRpc } from './ReplicaRpc.js';
import type { RpcParams, RpcResult } from './rpcMap.js';

export type PipeOptions = { listenIp: string; announcedIp: string; srtp: boolean };

type PipeEndpoint = RpcParams<'pipe.connect'>;

const keyOf = (roomId: string, replicaId: string) => `${roomId}|${replicaId}`;

/**
 * Media between replicas of one room. The replica that needs a remote
 * producer opens an "in" PipeTransport toward its owner (`pipe.connect`), then
 * asks it to send that producer (`pipe.consume`) and re-creates it locally with
 * the same id, so local consumers use it like a local producer. One pair per
 * room and direction; a pipe closes when it carries nothing, when its room
 * closes here, or when the other replica is gone. The owner tells the asker
 * when its sending end or a producer on it closes (room events can be lost
 * while Redis restarts); an asker whose pipe the owner no longer has opens a
 * new one.
 */
export class PipeManager {
  readonly #self: string;
  readonly #routers: RoomRouters;
  readonly #rpc: ReplicaRpc;
  readonly #o: PipeOptions;
  readonly #log: Logger;
  readonly #in = new Map<string, Promise<types.PipeTransport>>();
  readonly #out = new Map<string, types.PipeTransport>();
  readonly #ensuring = new Map<string, Promise<void>>();
  /** Producers piped in, by id. */
  readonly #piped = new Map<string, types.Producer>();
  /** What each "in" pipe carries (producer ids), so it closes when it carries nothing. */
  readonly #carried = new Map<types.PipeTransport, Set<string>>();
  /** Consumers on each "out" pipe: the sending side closes with its last one. */
  readonly #sending = new Map<types.PipeTransport, number>();

  constructor(options: { replicaId: string; routers: RoomRouters; rpc: ReplicaRpc; pipe: PipeOptions; log: Logger }) {
    this.#self = options.replicaId;
    this.#routers = options.routers;
    this.#rpc = options.rpc;
    this.#o = options.pipe;
    this.#log = options.log.child({ module: 'pipes' });
    this.#rpc.handle('pipe.connect', (p, from) => this.#onConnect(p, from));
    this.#rpc.handle('pipe.consume', (p, from) => this.#onConsume(p, from));
    this.#rpc.handle('pipe.closed', (p, from) => this.#onClosedNotice(p, from));
    this.#rpc.handle('pipe.producerClosed', async (p) => this.producerRemoved(p.producerId));
  }

  get counts(): { pipes: number; pipedProducers: number } {
    return { pipes: this.#in.size + this.#out.size, pipedProducers: this.#piped.size };
  }

  /** Makes a producer of `owner` consumable on this replica's router for the room. Idempotent. */
  ensureProducer(roomId: string, producerId: string, owner: string): Promise<void> {
    if (owner === this.#self || this.#piped.has(producerId)) return Promise.resolve();
    let pending = this.#ensuring.get(producerId);
    if (!pending) {
      pending = this.#pipeIn(roomId, producerId, owner).finally(() => this.#ensuring.delete(producerId));
      this.#ensuring.set(producerId, pending);
    }
    return pending;
  }

  /** The producer left the room: drop its piped copy (its local consumers close and are told). */
  producerRemoved(producerId: string): void {
    this.#piped.get(producerId)?.close();
  }

  producerPaused(producerId: string, paused: boolean): void {
    const p = this.#piped.get(producerId);
    if (!p || p.closed) return;
    void (paused ? p.pause() : p.resume()).catch(() => undefined);
  }

  /** `replicaId` has no peer left in the room: stop sending to it and receiving from it. */
  replicaLeftRoom(roomId: string, replicaId: string): void {
    this.#out.get(keyOf(roomId, replicaId))?.close();
    void this.#in.get(keyOf(roomId, replicaId))?.then((t) => t.close(), () => undefined);
  }

  /** Another replica is gone: close every pipe toward it. */
  replicaGone(replicaId: string): void {
    for (const key of [...this.#out.keys(), ...this.#in.keys()]) {
      if (key.endsWith(`|${replicaId}`)) this.replicaLeftRoom(key.slice(0, key.lastIndexOf('|')), replicaId);
    }
  }

  async #pipeIn(roomId: string, producerId: string, owner: string, retried = false): Promise<void> {
    const pending = this.#inTransport(roomId, owner);
    const transport = await pending;
    let reply: RpcResult<'pipe.consume'>;
    try {
      reply = await this.#rpc.request(owner, 'pipe.consume', { roomId, producerId });
    } catch (err) {
      if (retried || (err as { code?: string }).code !== Errors.WRONG_STATE.code) throw remoteError(err, owner);
      // The owner closed its end and we missed the notice: what this pipe carried is dead; open a new one.
      this.#log.info({ roomId, owner }, 'pipe closed on the far side; opening a new one');
      if (this.#in.get(keyOf(roomId, owner)) === pending) this.#in.delete(keyOf(roomId, owner));
      transport.close();
      return this.#pipeIn(roomId, producerId, owner, true);
    }
    if (this.#piped.has(producerId)) return;
    const producer = await transport.produce({ id: producerId, kind: reply.kind, rtpParameters: reply.rtpParameters, paused: reply.paused, appData: reply.appData });
    this.#piped.set(producerId, producer);
    const carried = this.#carried.get(transport) ?? new Set<string>();
    this.#carried.set(transport, carried.add(producerId));
    const primary = this.#routers.get(roomId);
    if (primary) this.#routers.markAvailable(roomId, producer, primary);
    producer.observer.once('close', () => {
      this.#piped.delete(producerId);
      carried.delete(producerId);
      // A pipe that carries nothing more is closed.
      if (carried.size === 0 && !transport.closed) transport.close();
    });
    this.#log.debug({ roomId, producerId, owner }, 'producer piped in');
  }

  #inTransport(roomId: string, owner: string): Promise<types.PipeTransport> {
    const key = keyOf(roomId, owner);
    const existing = this.#in.get(key);
    // The entry of a pipe that just closed leaves the map a tick later (it is a promise): open a new pipe
    // rather than produce on a closed one (its last piped producer closed a moment ago).
    if (existing) return existing.then((t) => (t.closed ? this.#reopenIn(roomId, owner, key, existing) : t));
    const pending = this.#openIn(roomId, owner, key);
    this.#in.set(key, pending);
    pending.catch(() => this.#in.delete(key));
    return pending;
  }

  /** Replaces a closed pipe's entry (unless another caller already did) and opens a new pipe. */
  #reopenIn(roomId: string, owner: string, key: string, stale: Promise<types.PipeTransport>): Promise<types.PipeTransport> {
    const current = this.#in.get(key);
    if (current && current !== stale) return current;
    this.#in.delete(key);
    return this.#inTransport(roomId, owner);
  }

  async #openIn(roomId: string, owner: string, key: string): Promise<types.PipeTransport> {
    const transport = await this.#createPipe(roomId, key, this.#in);
    try {
      const remote = await this.#rpc.request(owner, 'pipe.connect', {
        roomId,
        ip: this.#o.announcedIp || this.#o.listenIp,
        port: transport.tuple.localPort,
        srtpParameters: transport.srtpParameters,
      });
      await transport.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
      return transport;
    } catch (err) {
      transport.close();
      throw remoteError(err, owner);
    }
  }

  /** The other side asks for a pipe toward it: (re)create ours and connect it to theirs. */
  async #onConnect(p: PipeEndpoint, from: string): Promise<PipeEndpoint> {
    const key = keyOf(p.roomId, from);
    this.#out.get(key)?.close();
    const transport = await this.#createPipe(p.roomId, key, this.#out);
    this.#out.set(key, transport);
    transport.observer.once('close', () => this.#rpc.notify(from, 'pipe.closed', { roomId: p.roomId, port: p.port }));
    await transport.connect({ ip: p.ip, port: p.port, srtpParameters: p.srtpParameters });
    return { roomId: p.roomId, ip: this.#o.announcedIp || this.#o.listenIp, port: transport.tuple.localPort, srtpParameters: transport.srtpParameters };
  }

  /** The other side wants one of our producers over the pipe toward it. */
  async #onConsume(p: RpcParams<'pipe.consume'>, from: string): Promise<RpcResult<'pipe.consume'>> {
    const transport = this.#out.get(keyOf(p.roomId, from));
    if (!transport || transport.closed) throw createError(Errors.WRONG_STATE, 'no pipe toward the asking replica');
    // Pipes live on the room's primary router; the producer may be on another of its routers here.
    const primary = this.#routers.get(p.roomId);
    if (primary) await this.#routers.ensureOn(p.roomId, p.producerId, primary).catch(() => undefined);
    let consumer: types.Consumer;
    try {
      consumer = await transport.consume({ producerId: p.producerId });
    } catch {
      throw createError(Errors.PRODUCER_NOT_FOUND, p.producerId);
    }
    consumer.on('producerclose', () => {
      consumer.close();
      this.#rpc.notify(from, 'pipe.producerClosed', { roomId: p.roomId, producerId: p.producerId });
    });
    // The sending side of a pipe closes with its last consumer: it carries nothing any more.
    this.#sending.set(transport, (this.#sending.get(transport) ?? 0) + 1);
    consumer.observer.once('close', () => {
      const open = (this.#sending.get(transport) ?? 1) - 1;
      this.#sending.set(transport, open);
      if (open === 0 && !transport.closed) transport.close();
    });
    return { kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.producerPaused, appData: { ...consumer.appData, piped: true } };
  }

  /** The owner closed the sending end of a pipe toward us: close ours if it is still that pipe (its port). */
  async #onClosedNotice(p: RpcParams<'pipe.closed'>, from: string): Promise<void> {
    const transport = await this.#in.get(keyOf(p.roomId, from))?.catch(() => null);
    if (transport && !transport.closed && transport.tuple.localPort === p.port) transport.close();
  }

  async #createPipe(roomId: string, key: string, registry: Map<string, unknown>): Promise<types.PipeTransport> {
    const room = this.#routers.get(roomId);
    if (!room) throw createError(Errors.ROOM_NOT_FOUND, `no local peer in room ${roomId} on ${this.#self}`);
    const transport = await room.router.createPipeTransport({
      listenIp: { ip: this.#o.listenIp, announcedIp: this.#o.announcedIp || undefined },
      enableRtx: true,
      enableSrtp: this.#o.srtp,
      appData: { key },
    });
    transport.observer.once('close', () => {
      this.#carried.delete(transport);
      this.#sending.delete(transport);
      const current = registry.get(key);
      if (current === transport) registry.delete(key);
      else if (current instanceof Promise) void current.then((t) => t === transport && registry.delete(key), () => undefined);
    });
    return transport;
  }
}

function remoteError(err: unknown, owner: string): Error {
  if (err instanceof ParleyError) return err;
  const code = (err as { code?: string }).code;
  if (code === Errors.PRODUCER_NOT_FOUND.code) return createError(Errors.PRODUCER_NOT_FOUND);
  return createError(Errors.REPLICA_UNREACHABLE, `${owner}: ${(err as Error).message}`);
}
