import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import { Keys } from '../state/keys.js';
import type { Store } from '../state/Store.js';

/** One replica as every other replica sees it. */
export type ReplicaEntry = {
  replicaId: string;
  /** Base URL browsers use for this replica's signaling and page. */
  url: string;
  /** Address other replicas send piped media to. */
  mediaIp: string;
  draining: boolean;
  peers: number;
  consumers: number;
  /** Process CPU use over the last heartbeat period, 0..1 per core. */
  cpu: number;
  startedAt: number;
  heartbeatAt: number;
};

export type ReplicaRegistryEvents = {
  /** Another replica stopped heartbeating; `reaper` is true for the one replica that won its removal. */
  replicagone: [replicaId: string, reaper: boolean];
  /** This replica's own entry had been removed by others (it was paused or cut off): its peers are gone from the rooms. */
  fenced: [];
  /** The set of live replicas, their URLs or drain flags changed. */
  viewchanged: [];
};

export type ReplicaRegistryOptions = {
  store: Store;
  self: Omit<ReplicaEntry, 'heartbeatAt' | 'draining' | 'peers' | 'consumers' | 'cpu'>;
  load: () => { peers: number; consumers: number };
  heartbeatMs: number;
  staleAfterMs: number;
  log: Logger;
};

/**
 * The replica registry: a Redis hash of entries refreshed by heartbeat.
 * An entry older than `staleAfterMs` is gone; the first replica to delete it
 * (HDEL returns 1) is the reaper that cleans up after it. Liveness is
 * "heartbeat younger than N seconds", as LiveKit's node registry does it.
 */
export class ReplicaRegistry {
  readonly observer = new EventEmitter<ReplicaRegistryEvents>();
  readonly #o: ReplicaRegistryOptions;
  readonly #log: Logger;
  #draining = false;
  #registered = false;
  /**
   * No replica is judged gone before this time: after this replica lost Redis (its own heartbeats failed,
   * or it reconnected, e.g. to a promoted replica), every other replica's silence may be the same outage,
   * so each gets a full staleness period of working Redis to heartbeat again.
   */
  #judgeFrom = 0;
  #timer: NodeJS.Timeout | null = null;
  #view = new Map<string, ReplicaEntry>();
  #shape = '';
  #lastCpu = process.cpuUsage();
  #lastCpuAt = Date.now();

  constructor(options: ReplicaRegistryOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'registry' });
  }

  get selfId(): string {
    return this.#o.self.replicaId;
  }

  /** The URL is known once the edge listens, before start(). */
  setSelfUrl(url: string): void {
    this.#o.self.url = url;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Registers and starts the heartbeat + sweep loop. */
  async start(): Promise<void> {
    await this.tick();
    this.#timer = setInterval(
      () =>
        void this.tick().catch((err: unknown) => {
          this.#judgeFrom = Date.now() + this.#o.staleAfterMs;
          this.#log.warn({ err }, 'heartbeat failed');
        }),
      this.#o.heartbeatMs,
    );
    this.#timer.unref();
  }

  async setDraining(draining: boolean): Promise<void> {
    this.#draining = draining;
    await this.#heartbeat();
  }

  /** Live replicas (heartbeat fresh right now), this one included. */
  live(): ReplicaEntry[] {
    const now = Date.now();
    return [...this.#view.values()].filter((r) => r.replicaId === this.selfId || now - r.heartbeatAt <= this.#o.staleAfterMs);
  }

  /** The live, non-draining replica with the least load (peers, then CPU), optionally not `exclude`. */
  leastLoaded(exclude?: string): ReplicaEntry | undefined {
    return this.live()
      .filter((r) => !r.draining && r.replicaId !== exclude)
      .sort((a, b) => a.peers - b.peers || a.cpu - b.cpu)[0];
  }

  entry(replicaId: string): ReplicaEntry | undefined {
    return this.live().find((r) => r.replicaId === replicaId);
  }

  /** Redis came back (maybe empty): the next heartbeat re-registers without reading that as being fenced. */
  reconnected(): void {
    this.#registered = false;
    this.#judgeFrom = Date.now() + this.#o.staleAfterMs;
  }

  /** One heartbeat and one sweep. */
  async tick(): Promise<void> {
    await this.#heartbeat();
    await this.#sweep();
  }

  /** Removes this replica's entry (clean exit). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#o.store.hashDelete(Keys.replicas(), this.selfId);
  }

  async #heartbeat(): Promise<void> {
    const now = Date.now();
    const cpu = process.cpuUsage(this.#lastCpu);
    const cpuShare = (cpu.user + cpu.system) / 1000 / Math.max(1, now - this.#lastCpuAt);
    this.#lastCpu = process.cpuUsage();
    this.#lastCpuAt = now;
    const entry: ReplicaEntry = { ...this.#o.self, ...this.#o.load(), draining: this.#draining, cpu: Number(cpuShare.toFixed(3)), heartbeatAt: now };
    const isNew = await this.#o.store.hashSet(Keys.replicas(), this.selfId, JSON.stringify(entry));
    this.#view.set(this.selfId, entry);
    if (isNew && this.#registered) {
      this.#log.error('this replica had been declared gone by the others; dropping its sessions');
      this.observer.emit('fenced');
    }
    this.#registered = true;
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    const judging = now >= this.#judgeFrom;
    const all = await this.#o.store.hashGetAll(Keys.replicas());
    const view = new Map<string, ReplicaEntry>();
    const gone = new Set<string>();
    for (const [id, raw] of Object.entries(all)) {
      let entry: ReplicaEntry;
      try {
        entry = JSON.parse(raw) as ReplicaEntry;
      } catch {
        await this.#o.store.hashDelete(Keys.replicas(), id);
        continue;
      }
      if (judging && id !== this.selfId && now - entry.heartbeatAt > this.#o.staleAfterMs) {
        const reaper = await this.#o.store.hashDelete(Keys.replicas(), id);
        this.#log.warn({ gone: id, silentMs: now - entry.heartbeatAt, reaper }, 'replica gone');
        this.observer.emit('replicagone', id, reaper);
        gone.add(id);
        continue;
      }
      view.set(id, entry);
    }
    // A replica missing from the hash is gone once its last heartbeat we saw is stale: either another
    // replica reaped it first, or Redis restarted empty and it has not re-registered yet (then it is alive).
    for (const [id, entry] of this.#view) {
      if (view.has(id) || gone.has(id) || id === this.selfId) continue;
      if (judging && now - entry.heartbeatAt > this.#o.staleAfterMs) this.observer.emit('replicagone', id, false);
      else view.set(id, entry);
    }
    this.#view = view;
    const shape = [...view.values()].map((r) => `${r.replicaId} ${r.url} ${r.draining}`).sort().join('\n');
    if (shape !== this.#shape) {
      this.#shape = shape;
      this.observer.emit('viewchanged');
    }
  }
}
