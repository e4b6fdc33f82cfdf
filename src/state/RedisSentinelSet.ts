/**
 * A Redis Sentinel deployment on this machine, from real `redis-server`
 * processes (Debian's redis-server; a sentinel is `redis-server <conf>
 * --sentinel`): a primary, its replica and three sentinels with a quorum of
 * two, all on free loopback ports. Used by `parley cluster --redis sentinel`
 * and by the failover tests; a deployment runs the same layout on three
 * machines (stack/, docs/operations.md).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { askRedis, infoOf } from './askRedis.js';
import { EmbeddedRedis } from './EmbeddedRedis.js';
import { sentinelUrl } from './redisConnection.js';

export type RedisSentinelSetOptions = {
  /** The name the sentinels monitor the primary under (default 'parley'). */
  masterName?: string;
  /** A primary silent this long is subjectively down (sentinel down-after-milliseconds; default 5000). */
  downAfterMs?: number;
  /** Sentinel failover-timeout (default 10000). */
  failoverTimeoutMs?: number;
};

const SENTINELS = 3;
const QUORUM = 2;

export class RedisSentinelSet {
  readonly masterName: string;
  /** The connection string Parley takes (redis-sentinel://...). */
  readonly url: string;
  readonly servers: EmbeddedRedis[];
  readonly sentinels: EmbeddedRedis[];
  readonly #dir: string;
  #stopped = false;

  private constructor(masterName: string, servers: EmbeddedRedis[], sentinels: EmbeddedRedis[], dir: string) {
    this.masterName = masterName;
    this.servers = servers;
    this.sentinels = sentinels;
    this.#dir = dir;
    this.url = sentinelUrl(sentinels.map((s) => `127.0.0.1:${s.port}`), masterName);
  }

  static async start(options: RedisSentinelSetOptions = {}): Promise<RedisSentinelSet> {
    const masterName = options.masterName ?? 'parley';
    const dir = mkdtempSync(join(tmpdir(), 'parley-sentinel-'));
    const started: EmbeddedRedis[] = [];
    try {
      const primary = await EmbeddedRedis.start();
      started.push(primary);
      const replica = await EmbeddedRedis.start({ replicaOf: { host: '127.0.0.1', port: primary.port } });
      started.push(replica);
      const sentinels: EmbeddedRedis[] = [];
      for (let i = 0; i < SENTINELS; i++) {
        const conf = join(dir, `sentinel-${i}.conf`);
        writeFileSync(conf, sentinelConf(masterName, primary.port, options));
        const sentinel = await EmbeddedRedis.start({ sentinelConfig: conf });
        started.push(sentinel);
        sentinels.push(sentinel);
      }
      const set = new RedisSentinelSet(masterName, [primary, replica], sentinels, dir);
      await set.#waitSettled();
      return set;
    } catch (err) {
      await Promise.all(started.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The server the sentinels name as primary now. */
  async primary(): Promise<EmbeddedRedis> {
    const port = await this.#askPrimaryPort();
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`the sentinels name 127.0.0.1:${port} as primary, which this set did not start`);
    return server;
  }

  /** Kills the primary (SIGKILL) and waits until the sentinels have promoted the replica; returns the new primary. */
  async killPrimary(timeoutMs = 60_000): Promise<{ killed: EmbeddedRedis; promoted: EmbeddedRedis; promotedAfterMs: number }> {
    const killed = await this.primary();
    const began = performance.now();
    await killed.kill();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const port = await this.#askPrimaryPort().catch(() => killed.port);
      if (port !== killed.port) {
        const promoted = this.servers.find((s) => s.port === port);
        if (!promoted) throw new Error(`the sentinels promoted 127.0.0.1:${port}, which this set did not start`);
        if (await isPrimary(promoted.port)) return { killed, promoted, promotedAfterMs: performance.now() - began };
      }
      await sleep(100);
    }
    throw new Error(`the sentinels did not promote a replica within ${timeoutMs} ms of killing the primary`);
  }

  /** Starts a server killed earlier again, as a replica of the current primary (so the next kill has one to promote). */
  async restartAsReplica(killed: EmbeddedRedis, timeoutMs = 20_000): Promise<EmbeddedRedis> {
    const primary = await this.primary();
    const server = await EmbeddedRedis.start({ port: killed.port, replicaOf: { host: '127.0.0.1', port: primary.port } });
    this.servers[this.servers.indexOf(killed)] = server;
    const deadline = Date.now() + timeoutMs;
    while (!(await replicaInSync(server.port))) {
      if (Date.now() > deadline) throw new Error(`127.0.0.1:${server.port} did not sync with the primary within ${timeoutMs} ms`);
      await sleep(100);
    }
    return server;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Sentinels first, so they do not fail over while the servers stop.
    await Promise.all(this.sentinels.map((s) => s.stop()));
    await Promise.all(this.servers.map((s) => s.stop()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #askPrimaryPort(): Promise<number> {
    let lastError: unknown = null;
    for (const sentinel of this.sentinels) {
      try {
        const answer = (await askRedis(sentinel.port, ['SENTINEL', 'get-master-addr-by-name', this.masterName], { must: true })) as [string, string] | null;
        if (answer) return Number(answer[1]);
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(`no sentinel named a primary for ${this.masterName}: ${String(lastError)}`);
  }

  /** Until the replica is in sync and every sentinel knows the replica and the other sentinels. */
  async #waitSettled(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await replicaInSync(this.servers[1]!.port)) && (await this.#sentinelsKnowEachOther())) return;
      await sleep(100);
    }
    throw new Error(`the sentinel set did not settle within ${timeoutMs} ms`);
  }

  async #sentinelsKnowEachOther(): Promise<boolean> {
    for (const sentinel of this.sentinels) {
      const info = await infoOf(sentinel.port, 'sentinel');
      const m = /master0:.*slaves=(\d+),sentinels=(\d+)/.exec(info);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < SENTINELS) return false;
    }
    return true;
  }
}

function sentinelConf(masterName: string, primaryPort: number, options: RedisSentinelSetOptions): string {
  return [
    `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} ${QUORUM}`,
    `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 5000}`,
    `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 10_000}`,
    `sentinel parallel-syncs ${masterName} 1`,
    '',
  ].join('\n');
}

async function replicaInSync(port: number): Promise<boolean> {
  return /master_link_status:up/.test(await infoOf(port, 'replication'));
}

async function isPrimary(port: number): Promise<boolean> {
  return /role:master/.test(await infoOf(port, 'replication'));
}
