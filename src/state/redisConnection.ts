/**
 * The one place Redis clients are built. Every part of the gateway and the AI
 * worker (state store, pub/sub, BullMQ queues and workers, caches) names its
 * Redis by a connection string and gets its client from `createRedis`, so a
 * deployment switches between a single server and Sentinel in one setting and
 * no part is left on one node by mistake.
 *
 * Connection strings:
 * - `redis://[user:password@]host:port[/db]` (`rediss://` for TLS): one server.
 * - `redis-sentinel://[user:password@]host:port,host:port,.../masterName[/db]`
 *   (`rediss-sentinel://` for TLS to the servers and the sentinels): the
 *   primary that the sentinels name; ioredis asks them again whenever its
 *   connection drops, and so follows a promoted replica.
 * - `redis-cluster://[user:password@]host:port,host:port,...` (`rediss-cluster://`
 *   for TLS): a Redis Cluster through any of its nodes (seeds); ioredis learns
 *   the slot map from them, follows MOVED/ASK and refreshes the map when a
 *   shard fails over. Pub/sub is sharded (SPUBLISH/SSUBSCRIBE) in this mode.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisEndpoint = { host: string; port: number };

/** A client of either kind: one server (single, Sentinel) or a cluster. */
export type RedisClient = Redis | Cluster;

type Auth = { username?: string; password?: string };

export type RedisTarget =
  | { mode: 'single'; url: string }
  | ({ mode: 'sentinel'; sentinels: RedisEndpoint[]; masterName: string; db: number; tls: boolean } & Auth)
  | ({ mode: 'cluster'; nodes: RedisEndpoint[]; tls: boolean } & Auth);

const SENTINEL_SCHEME = /^(rediss?)-sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/?#]+)(?:\/(\d+))?\/?$/;
const CLUSTER_SCHEME = /^(rediss?)-cluster:\/\/(?:([^@/]*)@)?([^/]+)\/?$/;

function endpoint(text: string, defaultPort: number): RedisEndpoint {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new TypeError(`redis: "${text}" is not host[:port]`);
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!(port > 0 && port < 65536)) throw new TypeError(`redis: bad port in "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function parseAuth(auth: string | undefined): Auth {
  if (!auth) return {};
  const colon = auth.indexOf(':');
  const username = colon > 0 ? decodeURIComponent(auth.slice(0, colon)) : undefined;
  const password = decodeURIComponent(colon >= 0 ? auth.slice(colon + 1) : auth);
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function endpoints(hosts: string, defaultPort: number, what: string): RedisEndpoint[] {
  const list = hosts.split(',').filter(Boolean).map((h) => endpoint(h, defaultPort));
  if (list.length === 0) throw new TypeError(`redis: a ${what} connection string needs at least one ${what === 'sentinel' ? 'sentinel' : 'node'}`);
  return list;
}

/** What a connection string names; TypeError when it is malformed. */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) return { mode: 'single', url };
  const cluster = CLUSTER_SCHEME.exec(url);
  if (cluster) {
    const [, scheme, auth, hosts] = cluster;
    return { mode: 'cluster', nodes: endpoints(hosts!, 6379, 'cluster'), ...parseAuth(auth), tls: scheme === 'rediss' };
  }
  const m = SENTINEL_SCHEME.exec(url);
  if (!m) {
    throw new TypeError(
      `redis: unsupported connection string "${redactRedisUrl(url)}" (redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster://, rediss-cluster://)`,
    );
  }
  const [, scheme, auth, hosts, masterName, db] = m;
  return {
    mode: 'sentinel',
    sentinels: endpoints(hosts!, 26379, 'sentinel'),
    masterName: decodeURIComponent(masterName!),
    ...parseAuth(auth),
    db: db ? Number(db) : 0,
    tls: scheme === 'rediss',
  };
}

/** The connection string for a list of sentinels (`host:port`) and the primary's name. */
export function sentinelUrl(sentinels: string[], masterName: string, options: { password?: string; tls?: boolean } = {}): string {
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return `${options.tls ? 'rediss' : 'redis'}-sentinel://${auth}${sentinels.map((s) => s.trim()).join(',')}/${encodeURIComponent(masterName)}`;
}

/** The connection string for a Redis Cluster's seed nodes (`host:port`). */
export function clusterUrl(nodes: string[], options: { password?: string; tls?: boolean } = {}): string {
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return `${options.tls ? 'rediss' : 'redis'}-cluster://${auth}${nodes.map((s) => s.trim()).join(',')}`;
}

/** True when `client` talks to a Redis Cluster (sharded pub/sub, one SCAN per primary). */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** Every key matching `pattern` (SCAN), on each primary of a cluster. For restore, cleanup and checks, not hot paths. */
export async function scanKeys(client: RedisClient, pattern: string, count = 500): Promise<string[]> {
  const found = new Set<string>();
  for (const server of isCluster(client) ? client.nodes('master') : [client]) {
    let cursor = '0';
    do {
      const [next, batch] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      for (const k of batch) found.add(k);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...found];
}

/** Another client like `client` (same server or cluster, same options) under `connectionName`: for blocking reads. */
export function duplicateRedis(client: RedisClient, connectionName: string): RedisClient {
  if (isCluster(client)) return client.duplicate(undefined, { redisOptions: { ...client.options.redisOptions, connectionName } });
  return client.duplicate({ connectionName });
}

/** The connection string without its password, for logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*):([^@/]*)@/, '//$1:***@');
}

/**
 * A client for `url` with `options` (connection name, retry policy, lazyConnect...). A Sentinel client
 * asks the sentinels for the primary on every (re)connection and checks it is one (`role: master`).
 *
 * ioredis's `failoverDetector` (reconnect as soon as the sentinels announce a new primary) stays off: when
 * its announcement arrives while the client is still asking the sentinels (the first failover is barely
 * over when the next begins), ioredis 5.11 ends the client for good ("Connection is closed."), and BullMQ's
 * duplicated connections inherit the option. Found by the chaos suite's second primary kill. Without it, a
 * client notices a failover when its connection to the old primary closes, as it does when the primary dies.
 */
export function createRedis(url: string, options: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (target.mode === 'single') return new Redis(url, options);
  if (target.mode === 'cluster') return new Cluster(target.nodes, clusterOptions(target, options));
  const tls = target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {};
  return new Redis({
    ...options,
    sentinels: target.sentinels,
    name: target.masterName,
    role: 'master',
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    sentinelRetryStrategy: (n: number) => Math.min(100 * n, 1000),
    ...tls,
  });
}

/**
 * Cluster-level options from the per-connection ones every caller passes. Sharded subscribers (one per
 * primary) carry SSUBSCRIBE; reads go to primaries (a replica may lag a write the reader just made);
 * the slot map is asked again at once when a node refuses connections (a primary lost mid-failover).
 */
function clusterOptions(target: Extract<RedisTarget, { mode: 'cluster' }>, options: RedisOptions): ClusterOptions {
  const { lazyConnect, enableOfflineQueue, retryStrategy: _perNode, ...perNode } = options;
  return {
    lazyConnect: lazyConnect ?? false,
    enableOfflineQueue: enableOfflineQueue ?? true,
    shardedSubscribers: true,
    scaleReads: 'master',
    clusterRetryStrategy: (n: number) => Math.min(100 * n, 1000),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    slotsRefreshTimeout: 2000,
    redisOptions: {
      ...perNode,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
}
