import { randomUUID } from 'node:crypto';
import { Errors, createError, toErrorBody } from '../errors.js';
import type { Logger } from '../logger.js';
import { Channels } from '../state/keys.js';
import type { Store } from '../state/Store.js';

import { isRpcMethod, ReplicaRpcMethods, rpcEnvelope, type RpcEnvelope, type RpcHandler, type RpcMethod, type RpcNotice, type RpcParams, type RpcResult } from './rpcMap.js';

type RpcRequest = Extract<RpcEnvelope, { kind: 'request' | 'notify' }>;
type RpcReply = Extract<RpcEnvelope, { kind: 'reply' }>;

/**
 * Request/reply between replicas over Redis pub/sub: each replica listens on
 * its own channel; a reply goes to the asker's channel. Used for pipe setup,
 * which must be answered within a few seconds or not at all, and one-way
 * notices (best effort: lost while Redis is down). The methods and their
 * shapes are `ReplicaRpcMethods` (rpcMap.ts); a message that does not match
 * is refused with a coded error before any handler sees it.
 */
export class ReplicaRpc {
  readonly #store: Store;
  readonly #self: string;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #handlers: { [M in RpcMethod]?: RpcHandler<M> } = {};
  readonly #pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #listener = (raw: string) => void this.#onMessage(raw);
  /** Observed one-way latency of requests received (ms), for metrics. */
  onLatency: (ms: number) => void = () => undefined;

  constructor(options: { store: Store; replicaId: string; timeoutMs: number; log: Logger }) {
    this.#store = options.store;
    this.#self = options.replicaId;
    this.#timeoutMs = options.timeoutMs;
    this.#log = options.log.child({ module: 'rpc' });
  }

  async start(): Promise<void> {
    await this.#store.subscribe(Channels.replica(this.#self), this.#listener);
  }

  async stop(): Promise<void> {
    await this.#store.unsubscribe(Channels.replica(this.#self), this.#listener);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(createError(Errors.SHUTTING_DOWN));
    }
    this.#pending.clear();
  }

  handle<M extends RpcMethod>(method: M, handler: RpcHandler<M>): void {
    (this.#handlers as Record<M, RpcHandler<M>>)[method] = handler;
  }

  async request<M extends RpcMethod>(to: string, method: M, params: RpcParams<M>): Promise<RpcResult<M>> {
    const data = await this.#ask(to, method, params);
    const result = ReplicaRpcMethods[method].result.safeParse(data);
    if (!result.success) throw createError(Errors.REPLICA_UNREACHABLE, `${to} answered ${method} with a malformed result: ${result.error.issues[0]?.message ?? ''}`);
    return result.data as RpcResult<M>;
  }

  #ask<M extends RpcMethod>(to: string, method: M, params: RpcParams<M>): Promise<unknown> {
    const id = randomUUID();
    const message: RpcRequest = { kind: 'request', id, from: this.#self, method, params, sentAt: Date.now() };
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(createError(Errors.REPLICA_UNREACHABLE, `${to} did not answer ${method} in ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#store.publish(Channels.replica(to), JSON.stringify(message)).catch((err: Error) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      });
    });
  }

  /** One-way message: no reply, no timeout; lost if `to` is gone or Redis is down. */
  notify<M extends RpcNotice>(to: string, method: M, params: RpcParams<M>): void {
    const message: RpcRequest = { kind: 'notify', id: randomUUID(), from: this.#self, method, params, sentAt: Date.now() };
    this.#store.publish(Channels.replica(to), JSON.stringify(message)).catch(() => undefined);
  }

  async #onMessage(raw: string): Promise<void> {
    let msg: RpcEnvelope;
    try {
      msg = rpcEnvelope.parse(JSON.parse(raw));
    } catch {
      this.#log.warn('malformed replica message ignored');
      return;
    }
    if (msg.kind === 'reply') {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      clearTimeout(p.timer);
      this.#pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.data);
      else p.reject(Object.assign(new Error(msg.error?.message ?? 'rpc failed'), { code: msg.error?.code }));
      return;
    }
    this.onLatency(Date.now() - msg.sentAt);
    let reply: RpcReply;
    try {
      reply = { kind: 'reply', id: msg.id, ok: true, data: await this.#dispatch(msg) };
    } catch (err) {
      if (!(err instanceof Error && 'code' in err)) this.#log.error({ err, method: msg.method }, 'rpc handler failed');
      reply = { kind: 'reply', id: msg.id, ok: false, error: toErrorBody(err) };
    }
    if (msg.kind === 'notify') return;
    await this.#store.publish(Channels.replica(msg.from), JSON.stringify(reply)).catch(() => undefined);
  }

  /** Checks the request against the method's schema, then runs its handler. */
  async #dispatch(msg: RpcRequest): Promise<unknown> {
    const method = msg.method;
    const handler = isRpcMethod(method) ? (this.#handlers[method] as RpcHandler<typeof method> | undefined) : undefined;
    if (!handler || !isRpcMethod(method)) throw createError(Errors.UNKNOWN_METHOD, method);
    const params = ReplicaRpcMethods[method].params.safeParse(msg.params);
    if (!params.success) {
      const issue = params.error.issues[0];
      throw createError(Errors.INVALID_PARAMS, `${method}: ${issue ? `${issue.path.join('.') || 'params'}: ${issue.message}` : 'invalid'}`);
    }
    return handler(params.data as RpcParams<typeof method>, msg.from);
  }
}
