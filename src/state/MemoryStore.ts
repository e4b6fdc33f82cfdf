import type { BusHandler, SnapshotRecord, Store } from './Store.js';

/** In-process Store for unit tests of machines and hosts. Never used by the gateway. */
export class MemoryStore implements Store {
  readonly #hashes = new Map<string, SnapshotRecord>();
  readonly #sets = new Map<string, Set<string>>();
  readonly #handlers = new Map<string, Set<BusHandler>>();
  readonly #strings = new Map<string, string>();
  /** Expiry (ms since epoch) of strings stored with a TTL. */
  readonly #expiry = new Map<string, number>();
  #created = 0;
  readonly #maps = new Map<string, Map<string, string>>();

  async putIfNewer(key: string, seq: number, doc: string): Promise<boolean> {
    if (seq <= (this.#hashes.get(key)?.seq ?? 0)) return false;
    this.#hashes.set(key, { seq, doc });
    return true;
  }

  async compareAndSet(key: string, expectedSeq: number, doc: string | null): Promise<number | null> {
    if ((this.#hashes.get(key)?.seq ?? 0) !== expectedSeq) return null;
    if (doc === null) {
      this.#hashes.delete(key);
      return 0;
    }
    // As in compare-and-set-1.lua: a created key starts at the clock (µs), so sequence numbers are never reused.
    const seq = expectedSeq === 0 ? Date.now() * 1000 + (this.#created++ % 1000) : expectedSeq + 1;
    this.#hashes.set(key, { seq, doc });
    return seq;
  }

  async deleteIfNotNewer(key: string, seq: number): Promise<boolean> {
    if ((this.#hashes.get(key)?.seq ?? 0) > seq) return false;
    this.#hashes.delete(key);
    return true;
  }

  async get(key: string): Promise<SnapshotRecord | null> {
    return this.#hashes.get(key) ?? null;
  }

  async getOrSet(key: string, value: string, ttlMs?: number): Promise<string> {
    if ((this.#expiry.get(key) ?? Infinity) <= Date.now()) this.#strings.delete(key);
    if (!this.#strings.has(key)) {
      this.#strings.set(key, value);
      if (ttlMs) this.#expiry.set(key, Date.now() + ttlMs);
      else this.#expiry.delete(key);
    }
    return this.#strings.get(key)!;
  }

  async del(...keys: string[]): Promise<void> {
    for (const k of keys) {
      this.#hashes.delete(k);
      this.#sets.delete(k);
      this.#strings.delete(k);
      this.#maps.delete(k);
    }
  }

  async keys(pattern: string): Promise<string[]> {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return [...this.#hashes.keys(), ...this.#sets.keys(), ...this.#strings.keys(), ...this.#maps.keys()].filter((k) => re.test(k));
  }

  async hashSet(key: string, field: string, value: string): Promise<boolean> {
    if (!this.#maps.has(key)) this.#maps.set(key, new Map());
    const map = this.#maps.get(key)!;
    const isNew = !map.has(field);
    map.set(field, value);
    return isNew;
  }

  async hashGetAll(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#maps.get(key) ?? []);
  }

  async hashDelete(key: string, field: string): Promise<boolean> {
    return this.#maps.get(key)?.delete(field) ?? false;
  }

  async setAdd(key: string, member: string): Promise<void> {
    if (!this.#sets.has(key)) this.#sets.set(key, new Set());
    this.#sets.get(key)!.add(member);
  }

  async setRemove(key: string, member: string): Promise<void> {
    const set = this.#sets.get(key);
    set?.delete(member);
    if (set && set.size === 0) this.#sets.delete(key);
  }

  async setMembers(key: string): Promise<string[]> {
    return [...(this.#sets.get(key) ?? [])];
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const h of this.#handlers.get(channel) ?? []) queueMicrotask(() => h(message));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (!this.#handlers.has(channel)) this.#handlers.set(channel, new Set());
    this.#handlers.get(channel)!.add(handler);
  }

  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    this.#handlers.get(channel)?.delete(handler);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
