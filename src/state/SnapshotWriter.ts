import type { Logger } from '../logger.js';
import type { Store } from './Store.js';

/**
 * Persists one local actor's snapshots in order. Each write gets the next
 * sequence number and goes through the store's ordered write, one at a time;
 * writes queued behind an in-flight one collapse to the newest document.
 * After `remove()` nothing is written again.
 */
export class SnapshotWriter {
  readonly #store: Store;
  readonly #key: string;
  readonly #log: Logger;
  readonly #ttlMs: number;
  #seq: number;
  #pending: string | null = null;
  /** The newest document ever queued: what a reassert must store. */
  #latest: string | null = null;
  #inFlight: Promise<void> | null = null;
  #removed = false;

  constructor(options: { store: Store; key: string; log: Logger; startSeq?: number; ttlMs?: number }) {
    this.#store = options.store;
    this.#key = options.key;
    this.#log = options.log;
    this.#seq = options.startSeq ?? 0;
    this.#ttlMs = options.ttlMs ?? 0;
  }

  get key(): string {
    return this.#key;
  }

  /** Queues `doc` as the newest snapshot. */
  write(doc: string): void {
    if (this.#removed) return;
    this.#pending = doc;
    this.#latest = doc;
    this.#inFlight ??= this.#drain();
  }

  /** Writes the newest document again (after a Redis restart, or to refresh a TTL). */
  reassert(): void {
    if (this.#latest !== null) this.write(this.#latest);
  }

  /** Resolves once everything queued so far is stored. */
  async flush(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  /** Stops writing and deletes the snapshot (unless somebody wrote a newer one). */
  async remove(): Promise<void> {
    this.#removed = true;
    this.#pending = null;
    await this.flush();
    await this.#store.deleteIfNotNewer(this.#key, this.#seq);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending !== null && !this.#removed) {
        const doc = this.#pending;
        this.#pending = null;
        this.#seq += 1;
        try {
          await this.#store.putIfNewer(this.#key, this.#seq, doc, this.#ttlMs);
        } catch (err) {
          this.#log.warn({ err, key: this.#key }, 'snapshot write failed; will write again on the next change or reassert');
        }
      }
    } finally {
      this.#inFlight = null;
    }
  }
}
