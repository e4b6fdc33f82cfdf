/**
 * A Redis Cluster on this machine, from real `redis-server` processes
 * (Debian's redis-server with cluster-enabled): three primaries, each with a
 * replica, on free loopback ports; the 16384 slots split evenly. Used by
 * `parley cluster --redis cluster` and by the failover tests; a deployment
 * points Parley at its own (or a managed) cluster with a redis-cluster://
 * connection string (docs/operations.md).
 *
 * The cluster is formed by hand (CLUSTER ADDSLOTSRANGE, MEET, REPLICATE), as
 * `redis-cli --cluster create` would, so the set knows which node is which.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { askRedis, infoOf } from './askRedis.js';
import { EmbeddedRedis } from './EmbeddedRedis.js';
import { clusterUrl } from './redisConnection.js';
import { slotOf } from './slot.js';

export type RedisClusterSetOptions = {
  /** Shards (default 3). */
  primaries?: number;
  /** A primary silent this long is failed over (cluster-node-timeout; default 5000). */
  nodeTimeoutMs?: number;
};

export const SLOTS = 16384;

/** One line of CLUSTER NODES. */
export type ClusterNode = { id: string; port: number; primary: boolean; primaryId: string | null; failed: boolean; slots: Array<[number, number]> };

export class RedisClusterSet {
  /** The connection string Parley takes (redis-cluster://...). */
  readonly url: string;
  /** Every node this set started, primaries first; a restarted node replaces its entry. */
  readonly servers: EmbeddedRedis[];
  readonly #dir: string;
  readonly #nodeTimeoutMs: number;
  #stopped = false;

  private constructor(servers: EmbeddedRedis[], dir: string, nodeTimeoutMs: number) {
    this.servers = servers;
    this.#dir = dir;
    this.#nodeTimeoutMs = nodeTimeoutMs;
    this.url = clusterUrl(servers.map((s) => `127.0.0.1:${s.port}`));
  }

  static async start(options: RedisClusterSetOptions = {}): Promise<RedisClusterSet> {
    const primaries = options.primaries ?? 3;
    const nodeTimeoutMs = options.nodeTimeoutMs ?? 5000;
    const dir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
    const started: EmbeddedRedis[] = [];
    try {
      for (let i = 0; i < primaries * 2; i++) started.push(await startNode(dir, 0, nodeTimeoutMs));
      const set = new RedisClusterSet(started, dir, nodeTimeoutMs);
      await set.#form(primaries);
      return set;
    } catch (err) {
      await Promise.all(started.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The cluster as a live node sees it. */
  async nodes(): Promise<ClusterNode[]> {
    for (const server of this.servers) {
      const text = await ask(server.port, ['CLUSTER', 'NODES']);
      if (typeof text === 'string') return parseClusterNodes(text);
    }
    throw new Error('no node of the cluster answers');
  }

  /** The server that serves `key`'s slot now. */
  async primaryOf(key: string): Promise<EmbeddedRedis> {
    const slot = slotOf(key);
    const node = (await this.nodes()).find((n) => n.primary && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
    const server = node && this.servers.find((s) => s.port === node.port);
    if (!server) throw new Error(`no live primary serves slot ${slot}`);
    return server;
  }

  /**
   * Kills (SIGKILL) the primary serving `key` (default: the first shard's) and waits until its replica serves
   * the slots and every live node reports the cluster ok; returns the promoted node.
   */
  async killPrimary(key?: string, timeoutMs = 60_000): Promise<{ killed: EmbeddedRedis; promoted: EmbeddedRedis; promotedAfterMs: number }> {
    const killed = key === undefined ? await this.#firstPrimary() : await this.primaryOf(key);
    const before = await this.nodes();
    const killedId = before.find((n) => n.port === killed.port)!.id;
    const slot = before.find((n) => n.id === killedId)!.slots[0]![0];
    const began = performance.now();
    await killed.kill();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const nodes = await this.nodes().catch(() => []);
      const owner = nodes.find((n) => n.primary && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
      if (owner && owner.id !== killedId && (await this.#everyLiveNodeOk(killed.port))) {
        return { killed, promoted: this.servers.find((s) => s.port === owner.port)!, promotedAfterMs: performance.now() - began };
      }
      await sleep(100);
    }
    throw new Error(`the cluster did not promote a replica within ${timeoutMs} ms of killing 127.0.0.1:${killed.port}`);
  }

  /** Starts a node killed earlier again on its own nodes.conf: it rejoins as the replica of the node promoted in its place. */
  async restartAsReplica(killed: EmbeddedRedis, timeoutMs = 30_000): Promise<EmbeddedRedis> {
    const server = await startNode(this.#dir, killed.port, this.#nodeTimeoutMs);
    this.servers[this.servers.indexOf(killed)] = server;
    const deadline = Date.now() + timeoutMs;
    while (!(await replicaInSync(server.port))) {
      if (Date.now() > deadline) throw new Error(`127.0.0.1:${server.port} did not rejoin as a replica within ${timeoutMs} ms`);
      await sleep(100);
    }
    return server;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.servers.map((s) => s.stop()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #firstPrimary(): Promise<EmbeddedRedis> {
    const node = (await this.nodes()).find((n) => n.primary && !n.failed && n.slots.some(([a]) => a === 0));
    const server = node && this.servers.find((s) => s.port === node.port);
    if (!server) throw new Error('no live primary serves slot 0');
    return server;
  }

  /** Slots to the first `primaries` nodes, everyone met, each other node the replica of one primary. */
  async #form(primaries: number): Promise<void> {
    const per = Math.ceil(SLOTS / primaries);
    for (let i = 0; i < primaries; i++) {
      await ask(this.servers[i]!.port, ['CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1)], true);
    }
    for (const other of this.servers.slice(1)) await ask(this.servers[0]!.port, ['CLUSTER', 'MEET', '127.0.0.1', String(other.port)], true);
    await this.#until(async () => (await this.nodes()).length === this.servers.length && (await this.#everyNodeKnowsAll()), 'every node to meet the others');
    const ids = await Promise.all(this.servers.map(async (s) => (await ask(s.port, ['CLUSTER', 'MYID'], true)) as string));
    for (let i = primaries; i < this.servers.length; i++) {
      await ask(this.servers[i]!.port, ['CLUSTER', 'REPLICATE', ids[i % primaries]!], true);
    }
    await this.#until(async () => (await Promise.all(this.servers.slice(primaries).map((s) => replicaInSync(s.port)))).every(Boolean), 'the replicas to sync');
    await this.#until(() => this.#everyLiveNodeOk(-1), 'cluster_state:ok on every node');
  }

  async #everyNodeKnowsAll(): Promise<boolean> {
    for (const server of this.servers) {
      const text = await ask(server.port, ['CLUSTER', 'NODES']);
      if (typeof text !== 'string' || parseClusterNodes(text).length !== this.servers.length) return false;
    }
    return true;
  }

  async #everyLiveNodeOk(except: number): Promise<boolean> {
    for (const server of this.servers) {
      if (server.port === except) continue;
      const info = await ask(server.port, ['CLUSTER', 'INFO']);
      if (typeof info !== 'string' || !/cluster_state:ok/.test(info)) return false;
    }
    return true;
  }

  async #until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`the Redis cluster: waited ${timeoutMs} ms for ${what}`);
      await sleep(100);
    }
  }
}

function startNode(dir: string, port: number, nodeTimeoutMs: number): Promise<EmbeddedRedis> {
  return EmbeddedRedis.start({ port, clusterNode: { dir, nodeTimeoutMs } });
}

/** CLUSTER NODES text: `<id> <ip:port@cport> <flags> <primary> <ping> <pong> <epoch> <link> <slot>...`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...slots] = line.trim().split(' ');
      const flagList = flags!.split(',');
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)?.[1] ?? 0),
        primary: flagList.includes('master'),
        primaryId: primaryId === '-' ? null : primaryId!,
        failed: flagList.includes('fail') || flagList.includes('noaddr'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-').map(Number);
            return [a!, b ?? a!] as [number, number];
          }),
      };
    });
}

const ask = (port: number, command: string[], must = false): Promise<unknown> => askRedis(port, command, { must });

async function replicaInSync(port: number): Promise<boolean> {
  const info = await infoOf(port, 'replication');
  return /role:slave/.test(info) && /master_link_status:up/.test(info);
}
