/**
 * The state store behind the actors. Redis in production (RedisStore); an
 * in-memory implementation (MemoryStore) exists for unit tests only.
 */

export type SnapshotRecord = { seq: number; doc: string };

export type BusHandler = (message: string) => void;

export interface Store {
  /** Ordered write: stores `doc` only if `seq` is newer than the stored seq. */
  putIfNewer(key: string, seq: number, doc: string, ttlMs?: number): Promise<boolean>;
  /**
   * Writes `doc` (or deletes when doc is null) only if the stored seq equals `expectedSeq` (0 = absent).
   * Returns the new seq (a created key starts at the clock in µs, then +1 per write; never reused), or null on conflict.
   */
  compareAndSet(key: string, expectedSeq: number, doc: string | null): Promise<number | null>;
  /** Deletes unless a snapshot newer than `seq` was written meanwhile. */
  deleteIfNotNewer(key: string, seq: number): Promise<boolean>;
  get(key: string): Promise<SnapshotRecord | null>;
  /** Stores a plain string value unless the key exists (expiring after ttlMs if given); returns the value that is stored. */
  getOrSet(key: string, value: string, ttlMs?: number): Promise<string>;
  del(...keys: string[]): Promise<void>;
  /** Keys matching a glob pattern (SCAN; for restore and cleanup, not hot paths). */
  keys(pattern: string): Promise<string[]>;
  /** Sets a hash field; true when the field is new. */
  hashSet(key: string, field: string, value: string): Promise<boolean>;
  hashGetAll(key: string): Promise<Record<string, string>>;
  /** Deletes a hash field; true when this call removed it (so one caller wins a race). */
  hashDelete(key: string, field: string): Promise<boolean>;
  setAdd(key: string, member: string): Promise<void>;
  setRemove(key: string, member: string): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  /** Pub/sub: fire-and-forget room events between replicas. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: BusHandler): Promise<void>;
  unsubscribe(channel: string, handler: BusHandler): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
