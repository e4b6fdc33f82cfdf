import { Redis } from 'ioredis';

/**
 * One command to one local redis-server or sentinel over a fresh connection, for the local Redis sets
 * (RedisSentinelSet, RedisClusterSet) and their tests: the answer, or null when it does not answer (a
 * killed or starting server), or an Error thrown when `must` is set.
 */
export async function askRedis(port: number, command: string[], options: { password?: string; must?: boolean } = {}): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(options.password ? { password: options.password } : {}) });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(command[0]!, ...command.slice(1));
  } catch (err) {
    if (options.must) throw new Error(`127.0.0.1:${port} ${command.join(' ')}: ${(err as Error).message}`);
    return null;
  } finally {
    client.disconnect();
  }
}

/** INFO `section` of a local server ('' when it does not answer). */
export async function infoOf(port: number, section: string, password?: string): Promise<string> {
  const answer = await askRedis(port, ['INFO', section], { ...(password ? { password } : {}) });
  return typeof answer === 'string' ? answer : '';
}
