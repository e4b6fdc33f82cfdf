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
 */
import { Redis, type RedisOptions } from 'ioredis';

export type RedisEndpoint = { host: string; port: number };

export type RedisTarget =
  | { mode: 'single'; url: string }
  | { mode: 'sentinel'; sentinels: RedisEndpoint[]; masterName: string; username?: string; password?: string; db: number; tls: boolean };

const SENTINEL_SCHEME = /^(rediss?)-sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/?#]+)(?:\/(\d+))?\/?$/;

function endpoint(text: string, defaultPort: number): RedisEndpoint {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new TypeError(`redis: "${text}" is not host[:port]`);
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!(port > 0 && port < 65536)) throw new TypeError(`redis: bad port in "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** What a connection string names; TypeError when it is malformed. */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) return { mode: 'single', url };
  const m = SENTINEL_SCHEME.exec(url);
  if (!m) throw new TypeError(`redis: unsupported connection string "${redactRedisUrl(url)}" (redis://, rediss://, redis-sentinel://, rediss-sentinel://)`);
  const [, scheme, auth, hosts, masterName, db] = m;
  const colon = auth?.indexOf(':') ?? -1;
  const username = auth && colon > 0 ? decodeURIComponent(auth.slice(0, colon)) : undefined;
  const password = auth ? decodeURIComponent(colon >= 0 ? auth.slice(colon + 1) : auth) : undefined;
  const sentinels = hosts!.split(',').filter(Boolean).map((h) => endpoint(h, 26379));
  if (sentinels.length === 0) throw new TypeError('redis: a sentinel connection string needs at least one sentinel');
  return {
    mode: 'sentinel',
    sentinels,
    masterName: decodeURIComponent(masterName!),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    db: db ? Number(db) : 0,
    tls: scheme === 'rediss',
  };
}

/** The connection string for a list of sentinels (`host:port`) and the primary's name. */
export function sentinelUrl(sentinels: string[], masterName: string, options: { password?: string; tls?: boolean } = {}): string {
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return `${options.tls ? 'rediss' : 'redis'}-sentinel://${auth}${sentinels.map((s) => s.trim()).join(',')}/${encodeURIComponent(masterName)}`;
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
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const target = parseRedisUrl(url);
  if (target.mode === 'single') return new Redis(url, options);
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
