/**
 * Webhooks for one gateway replica: a receiver (queue + worker) per configured URL, fed by the room
 * transitions this replica applies. Each transition is enqueued once, by the replica that wrote it.
 */
import type { Registry } from 'prom-client';
import type { RoomApplied, RoomStore } from '../actors/room/RoomStore.js';
import { createBullConnection } from '../ai/pipeline/PipelineQueues.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { transitionJob } from './events.js';
import { WebhookMetrics } from './WebhookMetrics.js';
import { WebhookReceiver } from './WebhookReceiver.js';

export type StartWebhooksOptions = {
  config: Pick<Config, 'api' | 'webhooks'>;
  /** The Redis the replica uses (BullMQ opens its own connections to it). */
  redisUrl: string;
  /** Where room transitions come from (its `observer`). */
  rooms: Pick<RoomStore, 'observer'>;
  /** The gateway's metrics registry. */
  registry: Registry;
  log: Logger;
  /** Names this replica's workers (default 'gateway'). */
  replicaId?: string;
  /** Tests: BullMQ key prefix and worker lock (see WebhookReceiverOptions). */
  prefix?: string;
  lockMs?: number;
};

export type Webhooks = {
  /** Receiver ids (hashes of the URLs: queue names and metric labels), in the order of `webhooks.urls`. */
  receivers: string[];
  /** Stops listening, waits for enqueues under way, stops the workers (deliveries in progress go back to their queues). Idempotent. */
  close(): Promise<void>;
};

/** The API key pair that signs: `webhooks.apiKey`, or the first of `api.keys`. */
export function signingKey(config: Pick<Config, 'api' | 'webhooks'>): { key: string; secret: string } {
  const wanted = config.webhooks.apiKey;
  const pair = wanted ? config.api.keys.find((k) => k.key === wanted) : config.api.keys[0];
  if (!pair) throw new TypeError(wanted ? `webhooks.apiKey "${wanted}" is not one of api.keys` : 'webhooks.urls needs an API key to sign with: set api.keys');
  return pair;
}

/** Null when no receiver is configured. */
export async function startWebhooks(o: StartWebhooksOptions): Promise<Webhooks | null> {
  const { urls, timeoutMs, retryForMs } = o.config.webhooks;
  if (urls.length === 0) return null;
  const { key, secret } = signingKey(o.config);
  const connection = createBullConnection(o.redisUrl, 'parley-webhooks');
  const metrics = new WebhookMetrics(o.registry);
  const receivers: WebhookReceiver[] = [];
  const log = o.log.child({ module: 'webhooks' });
  const onApplied = (roomId: string, applied: RoomApplied) => {
    const job = transitionJob(roomId, applied);
    for (const r of receivers) r.enqueue(job);
  };
  try {
    for (const url of urls) {
      const target = { url, key, secret, timeoutMs, retryForMs };
      const opts = { target, connection, metrics, log, replicaId: o.replicaId ?? 'gateway', prefix: o.prefix, lockMs: o.lockMs };
      receivers.push(await WebhookReceiver.create(opts));
    }
  } catch (err) {
    await Promise.all(receivers.map((r) => r.close()));
    await connection.quit().catch(() => connection.disconnect());
    throw err;
  }
  o.rooms.observer.on('applied', onApplied);
  let closing: Promise<void> | null = null;
  return {
    receivers: receivers.map((r) => r.id),
    close() {
      closing ??= (async () => {
        o.rooms.observer.off('applied', onApplied);
        await Promise.all(receivers.map((r) => r.close()));
        await connection.quit().catch(() => connection.disconnect());
      })();
      return closing;
    },
  };
}
