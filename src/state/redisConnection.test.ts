import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import type { RedisOptions } from 'ioredis';
import { clusterUrl, createRedis, isCluster, parseRedisUrl, redactRedisUrl, sentinelUrl } from './redisConnection.js';

describe('Redis connection strings', () => {
  it('keeps redis:// and rediss:// URLs as one server', () => {
    expect(parseRedisUrl('redis://cache:6379/2')).toEqual({ mode: 'single', url: 'redis://cache:6379/2' });
    expect(parseRedisUrl('rediss://u:p@cache:6380')).toEqual({ mode: 'single', url: 'rediss://u:p@cache:6380' });
  });

  it('reads the sentinels, the primary\'s name, the password, the database and TLS from redis-sentinel://', () => {
    expect(parseRedisUrl('redis-sentinel://s1:26379,s2,[::1]:26380/parley')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      masterName: 'parley',
      db: 0,
      tls: false,
    });
    expect(parseRedisUrl('rediss-sentinel://app:s%40cret@s1:1/main/3')).toMatchObject({ username: 'app', password: 's@cret', masterName: 'main', db: 3, tls: true });
    expect(parseRedisUrl('redis-sentinel://:pw@s1/main')).toMatchObject({ password: 'pw' });
    expect(parseRedisUrl('redis-sentinel://:pw@s1/main')).not.toHaveProperty('username');
  });

  it('refuses what it cannot connect to, without printing the password', () => {
    expect(() => parseRedisUrl('http://cache')).toThrow(/unsupported connection string/);
    expect(() => parseRedisUrl('redis-sentinel://s1:26379')).toThrow(TypeError); // no primary name
    expect(() => parseRedisUrl('redis-sentinel://s1:99999/p')).toThrow(/bad port/);
    expect(() => parseRedisUrl('redis-cluster://:hunter2@a:1/x')).toThrow(/:\*\*\*@/);
    expect(() => parseRedisUrl('redis-cluster://:pw@')).toThrow(TypeError); // no node
    expect(redactRedisUrl('redis://app:hunter2@cache:6379')).toBe('redis://app:***@cache:6379');
  });

  it('writes the string for a list of sentinels and parses it back', () => {
    const url = sentinelUrl(['10.0.0.1:26379', ' 10.0.0.2:26379'], 'parley', { password: 'p w' });
    expect(url).toBe('redis-sentinel://:p%20w@10.0.0.1:26379,10.0.0.2:26379/parley');
    expect(parseRedisUrl(url)).toMatchObject({ masterName: 'parley', password: 'p w', sentinels: [{ host: '10.0.0.1' }, { host: '10.0.0.2' }] });
  });

  it('builds a Sentinel client that asks for the primary', () => {
    const client = createRedis('redis-sentinel://127.0.0.1:1,127.0.0.1:2/parley/1', { lazyConnect: true, connectionName: 'test' });
    try {
      const options = client.options as RedisOptions;
      expect(options).toMatchObject({ name: 'parley', role: 'master', db: 1, connectionName: 'test' });
      expect(options.failoverDetector).toBeFalsy();
      expect(options.sentinels).toEqual([
        { host: '127.0.0.1', port: 1 },
        { host: '127.0.0.1', port: 2 },
      ]);
    } finally {
      client.disconnect();
    }
  });

  it('reads the seed nodes, the password and TLS from redis-cluster://, and writes it back', () => {
    expect(parseRedisUrl('redis-cluster://a:7000,b,[::1]:7002')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisUrl('rediss-cluster://app:s%40cret@a:1/')).toMatchObject({ mode: 'cluster', username: 'app', password: 's@cret', tls: true });
    const url = clusterUrl(['a:7000', ' b:7001'], { password: 'p w' });
    expect(url).toBe('redis-cluster://:p%20w@a:7000,b:7001');
    expect(parseRedisUrl(url)).toMatchObject({ password: 'p w', nodes: [{ host: 'a' }, { host: 'b' }] });
  });

  it('builds a Cluster client with sharded subscribers, primaries for reads and the per-node options', () => {
    const client = createRedis('redis-cluster://:pw@127.0.0.1:1,127.0.0.1:2', { lazyConnect: true, connectionName: 'test', maxRetriesPerRequest: null });
    try {
      if (!isCluster(client)) throw new Error('not a cluster client');
      expect(client.options).toMatchObject({ lazyConnect: true, shardedSubscribers: true, scaleReads: 'master' });
      expect(client.options.redisOptions).toMatchObject({ connectionName: 'test', password: 'pw', maxRetriesPerRequest: null });
    } finally {
      client.disconnect();
    }
  });

  it('config: redis.sentinels becomes the connection string; a bad redis.url is refused at boot', () => {
    const config = loadConfig({ env: { PARLEY_REDIS_SENTINELS: 'a:26379,b:26379', PARLEY_REDIS_MASTER_NAME: 'm' } });
    expect(config.redis.url).toBe('redis-sentinel://a:26379,b:26379/m');
    expect(() => loadConfig({ env: { PARLEY_REDIS_URL: 'redis://x', PARLEY_REDIS_SENTINELS: 'a:1' } })).toThrow(/one of redis.url, redis.sentinels or redis.clusterNodes/);
    expect(loadConfig({ env: { PARLEY_REDIS_CLUSTER_NODES: 'a:7000,b:7001', PARLEY_REDIS_PASSWORD: 'pw' } }).redis.url).toBe('redis-cluster://:pw@a:7000,b:7001');
    expect(() => loadConfig({ env: { PARLEY_REDIS_URL: 'mongodb://x' } })).toThrow(/redis.url: redis: unsupported/);
  });
});
