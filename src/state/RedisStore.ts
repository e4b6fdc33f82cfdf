import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Cluster } from 'ioredis';
import { createRedis, isCluster, scanKeys, type RedisClient } from './redisConnection.js';
import { slotOf } from './slot.js';
import type { BusHandler, SnapshotRecord, Store } from './Store.js';

type ScriptDef = { name: string; file: string; numberOfKeys: number };

/** Lua scripts live beside this file as `<name>-<numKeys>.lua`. */
const SCRIPTS: ScriptDef[] = ['put-if-newer-1', 'compare-and-set-1', 'delete-if-not-newer-1'].map((base) => ({
  name: base.replace(/-\d+$/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
  file: new URL(`./lua/${base}.lua`, import.meta.url).pathname,
  numberOfKeys: Number(base.split('-').pop()),
}));

type ScriptedRedis = RedisClient & {
  putIfNewer(key: string, seq: number, doc: string, ttl: number): Promise<number>;
  compareAndSet(key: string, expected: number, doc: string): Promise<number>;
  deleteIfNotNewer(key: string, seq: number): Promise<number>;
};

export type RedisStoreOptions = { url: string };

export type RedisStoreEvents = {
  /**
   * The command connection went up or down (for /ready and metrics), or, on a cluster, the set of primaries
   * changed while connected ('failover': a shard's replica took over; what its old primary had not
   * replicated is gone, as after a restart).
   */
  status: [status: 'ready' | 'down' | 'failover'];
};

/** Calls `changed` after a slot-map refresh that names other primaries than the one before (not on the first). */
function watchPrimaries(cluster: Cluster, changed: () => void): void {
  let primaries: string | null = null;
  cluster.on('refresh', () => {
    const now = cluster
      .nodes('master')
      .map((n) => `${n.options.host}:${n.options.port}`)
      .sort()
      .join(',');
    if (primaries !== null && now !== primaries) changed();
    primaries = now;
  });
}

/**
 * The state store on Redis: snapshots through single-key Lua scripts, plain keys, and pub/sub. On a Redis
 * Cluster the same calls work shard by shard: every script touches one key, SCAN runs on each primary, and
 * pub/sub is sharded (SPUBLISH/SSUBSCRIBE), so a room's events stay on the shard that holds its keys.
 */
export class RedisStore implements Store {
  readonly observer = new EventEmitter<RedisStoreEvents>();
  readonly #cmd: ScriptedRedis;
  readonly #sub: RedisClient;
  readonly #sharded: boolean;
  readonly #handlers = new Map<string, Set<BusHandler>>();

  private constructor(cmd: ScriptedRedis, sub: RedisClient) {
    this.#cmd = cmd;
    this.#sub = sub;
    this.#sharded = isCluster(sub);
    this.#sub.on(this.#sharded ? 'smessage' : 'message', (channel: string, message: string) => {
      for (const h of this.#handlers.get(channel) ?? []) h(message);
    });
    cmd.on('ready', () => this.observer.emit('status', 'ready'));
    cmd.on('close', () => this.observer.emit('status', 'down'));
    cmd.on('error', () => undefined); // reconnects on its own; status is reported through `observer`
    if (isCluster(cmd)) watchPrimaries(cmd, () => this.observer.emit('status', 'failover'));
  }

  static async create(options: RedisStoreOptions): Promise<RedisStore> {
    const common = { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true, retryStrategy: (n: number) => Math.min(n * 100, 1000) };
    const cmd = createRedis(options.url, { ...common, connectionName: 'parley-cmd' }) as ScriptedRedis;
    const sub = createRedis(options.url, { ...common, connectionName: 'parley-sub' });
    for (const s of SCRIPTS) cmd.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: readFileSync(s.file, 'utf8') });
    sub.on('error', () => undefined);
    const store = new RedisStore(cmd, sub);
    await Promise.all([cmd.connect(), sub.connect()]);
    return store;
  }

  /** The raw client, for BullMQ and admin tools that need one. */
  get client(): RedisClient {
    return this.#cmd;
  }

  async putIfNewer(key: string, seq: number, doc: string, ttlMs = 0): Promise<boolean> {
    return (await this.#cmd.putIfNewer(key, seq, doc, ttlMs)) === 1;
  }

  async compareAndSet(key: string, expectedSeq: number, doc: string | null): Promise<number | null> {
    const r = await this.#cmd.compareAndSet(key, expectedSeq, doc ?? '');
    return r < 0 ? null : r;
  }

  async deleteIfNotNewer(key: string, seq: number): Promise<boolean> {
    return (await this.#cmd.deleteIfNotNewer(key, seq)) === 1;
  }

  async get(key: string): Promise<SnapshotRecord | null> {
    const h = await this.#cmd.hgetall(key);
    if (!h.doc) return null;
    return { seq: Number(h.seq), doc: h.doc };
  }

  async getOrSet(key: string, value: string, ttlMs?: number): Promise<string> {
    // SET NX GET answers the existing value, or nil when this call stored it (Redis >= 7).
    const previous = ttlMs ? await this.#cmd.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX', 'GET') : await this.#cmd.set(key, value, 'NX', 'GET');
    return previous ?? value;
  }

  /** On a cluster, one DEL per hash slot (a multi-key command must stay in one). */
  async del(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    if (!this.#sharded) {
      await this.#cmd.del(...keys);
      return;
    }
    const bySlot = new Map<number, string[]>();
    for (const key of keys) {
      const slot = slotOf(key);
      const group = bySlot.get(slot);
      if (group) group.push(key);
      else bySlot.set(slot, [key]);
    }
    await Promise.all([...bySlot.values()].map((group) => this.#cmd.del(...group)));
  }

  keys(pattern: string): Promise<string[]> {
    return scanKeys(this.#cmd, pattern);
  }

  async hashSet(key: string, field: string, value: string): Promise<boolean> {
    return (await this.#cmd.hset(key, field, value)) === 1;
  }

  async hashGetAll(key: string): Promise<Record<string, string>> {
    return this.#cmd.hgetall(key);
  }

  async hashDelete(key: string, field: string): Promise<boolean> {
    return (await this.#cmd.hdel(key, field)) === 1;
  }

  async setAdd(key: string, member: string): Promise<void> {
    await this.#cmd.sadd(key, member);
  }

  async setRemove(key: string, member: string): Promise<void> {
    await this.#cmd.srem(key, member);
  }

  async setMembers(key: string): Promise<string[]> {
    return this.#cmd.smembers(key);
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.#sharded) await this.#cmd.spublish(channel, message);
    else await this.#cmd.publish(channel, message);
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    let set = this.#handlers.get(channel);
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
      if (this.#sharded) await this.#sub.ssubscribe(channel);
      else await this.#sub.subscribe(channel);
    }
    set.add(handler);
  }

  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    const set = this.#handlers.get(channel);
    if (!set) return;
    set.delete(handler);
    if (set.size === 0) {
      this.#handlers.delete(channel);
      if (this.#sharded) await this.#sub.sunsubscribe(channel);
      else await this.#sub.unsubscribe(channel);
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#cmd.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#cmd.quit(), this.#sub.quit()]);
  }
}
