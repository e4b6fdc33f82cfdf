import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import { RedisStore } from '../../state/RedisStore.js';
import { bullName, PIPELINE_PREFIX, QueueNames } from './names.js';
import { dropResultsQueue } from './ResultsConsumer.js';

let server: EmbeddedRedis;
let store: RedisStore;

beforeAll(async () => {
  server = await EmbeddedRedis.start();
  store = await RedisStore.create({ url: server.url });
});
afterAll(async () => {
  await store?.close();
  await server?.stop();
});

describe('dropResultsQueue (the AI pipeline cleaning up after a reaped gateway replica)', () => {
  it("deletes the gone replica's results queue and leaves every other replica's", async () => {
    const queues = ['gone', 'alive'].map((id) => new Queue(bullName(QueueNames.results(id)), { connection: { url: server.url }, prefix: PIPELINE_PREFIX }));
    try {
      for (const q of queues) await q.add('caption', { text: 'hola' });
      const keysOf = (id: string) => store.keys(`${PIPELINE_PREFIX}:${bullName(QueueNames.results(id))}:*`);
      expect((await keysOf('gone')).length).toBeGreaterThan(0);
      const dropped = await dropResultsQueue(store, 'gone');
      expect(dropped).toBeGreaterThan(0);
      expect(await keysOf('gone')).toEqual([]);
      expect(await queues[1]!.getJobCounts('wait')).toEqual({ wait: 1 });
      expect(await dropResultsQueue(store, 'gone')).toBe(0);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });
});
