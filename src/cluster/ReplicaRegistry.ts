import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
  /** host:port of this replica's listening socket as the other replicas reach it ('' = none): see `probe`. */
  probe: string;
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
  self: Omit<ReplicaEntry, 'heartbeatAt' | 'draining' | 'peers' | 'consumers' | 'cpu' | 'probe'>;
  load: () => { peers: number; consumers: number };
  heartbeatMs: number;
  staleAfterMs: number;
  /**
   * Whether a replica late with its heartbeat still answers at its `probe` address (tcpAnswers). One that
   * answers is alive but stalled (a busy host, a long pause): it is not judged gone until it has been
   * silent for LATE_LIMIT staleness periods. Without it, a stale heartbeat alone means gone.
   */
  answers?: (entry: ReplicaEntry) => Promise<boolean>;
  log: Logger;
};

/** A replica whose probe answers is still judged gone once silent this many staleness periods. */
export const LATE_LIMIT = 3;

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
  #probe = '';
  #lastBeatAt = 0;
  /** This process's event-loop delay since the last heartbeat: tells a stalled process from a slow Redis. */
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 20 });
  /** Replicas late with their heartbeat whose probe answered (logged once per lateness). */
  readonly #late = new Set<string>();

  constructor(options: ReplicaRegistryOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'registry' });
  }

  get selfId(): string {
    return this.#o.self.replicaId;
  }

  /** The URL (and the listening address other replicas may probe) are known once the edge listens, before start(). */
  setSelfUrl(url: string, probe = ''): void {
    this.#o.self.url = url;
    this.#probe = probe;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Registers and starts the heartbeat + sweep loop. */
  async start(): Promise<void> {
    this.#loopDelay.enable();
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
    this.#loopDelay.disable();
    await this.#o.store.hashDelete(Keys.replicas(), this.selfId);
  }

  async #heartbeat(): Promise<void> {
    const now = Date.now();
    const cpu = process.cpuUsage(this.#lastCpu);
    const cpuShare = (cpu.user + cpu.system) / 1000 / Math.max(1, now - this.#lastCpuAt);
    this.#lastCpu = process.cpuUsage();
    this.#lastCpuAt = now;
    const entry: ReplicaEntry = { ...this.#o.self, probe: this.#probe, ...this.#o.load(), draining: this.#draining, cpu: Number(cpuShare.toFixed(3)), heartbeatAt: now };
    const isNew = await this.#o.store.hashSet(Keys.replicas(), this.selfId, JSON.stringify(entry));
    // Others judge us by this write: say so when it comes late (a stalled event loop, a slow Redis).
    if (this.#lastBeatAt > 0 && Date.now() - this.#lastBeatAt > this.#o.heartbeatMs + this.#o.staleAfterMs / 2) {
      const eventLoopMaxMs = Math.round(this.#loopDelay.max / 1e6);
      this.#log.warn({ sinceLastMs: Date.now() - this.#lastBeatAt, staleAfterMs: this.#o.staleAfterMs, eventLoopMaxMs }, 'heartbeat late');
    }
    this.#lastBeatAt = Date.now();
    this.#loopDelay.reset();
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
        if (await this.#stalledButThere(entry, now)) {
          view.set(id, entry);
          continue;
        }
        const reaper = await this.#o.store.hashDelete(Keys.replicas(), id);
        this.#log.warn({ gone: id, silentMs: now - entry.heartbeatAt, reaper }, 'replica gone');
        this.observer.emit('replicagone', id, reaper);
        gone.add(id);
        continue;
      }
      this.#late.delete(id);
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
    for (const id of this.#late) if (!view.has(id)) this.#late.delete(id);
    const shape = [...view.values()].map((r) => `${r.replicaId} ${r.url} ${r.draining}`).sort().join('\n');
    if (shape !== this.#shape) {
      this.#shape = shape;
      this.observer.emit('viewchanged');
    }
  }

  /** A stale entry whose probe still answers, within LATE_LIMIT staleness periods: alive, only late. */
  async #stalledButThere(entry: ReplicaEntry, now: number): Promise<boolean> {
    const silentMs = now - entry.heartbeatAt;
    if (!this.#o.answers || !entry.probe || silentMs > this.#o.staleAfterMs * LATE_LIMIT) return false;
    if (!(await this.#o.answers(entry))) return false;
    if (!this.#late.has(entry.replicaId)) {
      this.#late.add(entry.replicaId);
      this.#log.warn({ late: entry.replicaId, silentMs, probe: entry.probe }, 'replica late with its heartbeat but its port answers: not gone yet');
    }
    return true;
  }
}
