import { RateLimiter } from './RateLimiter.js';

export type IpLimitsOptions = {
  /** Connections open at once per address. */
  maxConnections: number;
  /** Messages per second per address (all its connections together), and the burst above it. */
  perSecond: number;
  burst: number;
};

type Entry = { connections: number; limiter: RateLimiter };

/**
 * Limits per client address, on top of each connection's own: how many sockets it holds, and one
 * message budget shared by all of them (so opening more sockets does not buy more messages). An
 * address's entry goes with its last socket, so the table is bounded by the open connections.
 */
export class IpLimits {
  readonly #o: IpLimitsOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: IpLimitsOptions) {
    this.#o = options;
  }

  /** Addresses with at least one open socket. */
  get size(): number {
    return this.#entries.size;
  }

  /** True when `ip` may open one more socket (a check only; open() counts it). */
  accepts(ip: string): boolean {
    return (this.#entries.get(ip)?.connections ?? 0) < this.#o.maxConnections;
  }

  /** Counts a new socket of `ip`; false (and nothing counted) when the address is at its limit. */
  open(ip: string): boolean {
    let entry = this.#entries.get(ip);
    if (entry && entry.connections >= this.#o.maxConnections) return false;
    if (!entry) {
      entry = { connections: 0, limiter: new RateLimiter(this.#o.perSecond, this.#o.burst) };
      this.#entries.set(ip, entry);
    }
    entry.connections++;
    return true;
  }

  /** A socket of `ip` closed. */
  closed(ip: string): void {
    const entry = this.#entries.get(ip);
    if (!entry) return;
    entry.connections--;
    if (entry.connections <= 0) this.#entries.delete(ip);
  }

  /** Spends one message of the address's budget; false when it is spent. */
  take(ip: string, now = Date.now()): boolean {
    return this.#entries.get(ip)?.limiter.take(now) ?? false;
  }
}
