import { randomUUID } from 'node:crypto';
import { Errors, createError, toErrorBody } from '../errors.js';
import type { Logger } from '../logger.js';
import { Channels } from '../state/keys.js';
import type { Store } from '../state/Store.js';

/** A `notify` carries kind 'notify' and gets no reply. */
type RpcRequest = { kind: 'request' | 'notify'; id: string; from: string; method: string; params: unknown; sentAt: number };
type RpcReply = { kind: 'reply'; id: string; ok: boolean; data?: unknown; error?: { code: string; message: string } };

export type RpcHandler = (params: unknown, from: string) => Promise<unknown>;

/**
 * Request/reply between replicas over Redis pub/sub: each replica listens on
 * its own channel; a reply goes to the asker's channel. Used for pipe setup,
 * which must be answered within a few seconds or not at all, and one-way
 * notices (best effort: lost while Redis is down).
 */
export class ReplicaRpc {
  readonly #store: Store;
  readonly #self: string;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #handlers = new Map<string, RpcHandler>();
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

  handle(method: string, handler: RpcHandler): void {
    this.#handlers.set(method, handler);
  }

  request<T>(to: string, method: string, params: unknown): Promise<T> {
    const id = randomUUID();
    const message: RpcRequest = { kind: 'request', id, from: this.#self, method, params, sentAt: Date.now() };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(createError(Errors.REPLICA_UNREACHABLE, `${to} did not answer ${method} in ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#store.publish(Channels.replica(to), JSON.stringify(message)).catch((err: Error) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      });
    });
  }

  /** One-way message: no reply, no timeout; lost if `to` is gone or Redis is down. */
  notify(to: string, method: string, params: unknown): void {
    const message: RpcRequest = { kind: 'notify', id: randomUUID(), from: this.#self, method, params, sentAt: Date.now() };
    this.#store.publish(Channels.replica(to), JSON.stringify(message)).catch(() => undefined);
  }

  async #onMessage(raw: string): Promise<void> {
    let msg: RpcRequest | RpcReply;
    try {
      msg = JSON.parse(raw) as RpcRequest | RpcReply;
    } catch {
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
    const handler = this.#handlers.get(msg.method);
    let reply: RpcReply;
    try {
      if (!handler) throw createError(Errors.UNKNOWN_METHOD, msg.method);
      reply = { kind: 'reply', id: msg.id, ok: true, data: await handler(msg.params, msg.from) };
    } catch (err) {
      if (!(err instanceof Error && 'code' in err)) this.#log.error({ err, method: msg.method }, 'rpc handler failed');
      reply = { kind: 'reply', id: msg.id, ok: false, error: toErrorBody(err) };
    }
    if (msg.kind === 'notify') return;
    await this.#store.publish(Channels.replica(msg.from), JSON.stringify(reply)).catch(() => undefined);
  }
}
