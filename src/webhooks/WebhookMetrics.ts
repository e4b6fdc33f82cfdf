/** Webhook metrics on the gateway's registry, labelled by receiver (a hash of its URL, never the URL). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type DeliveryResult = 'ok' | 'failed' | 'given_up';

export class WebhookMetrics {
  readonly #deliveries: Counter<'receiver' | 'result'>;
  readonly #latency: Histogram<'receiver'>;
  readonly #gaps: Counter<'receiver'>;
  readonly #enqueueErrors: Counter<'receiver'>;
  readonly #depth = new Map<string, number>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#deliveries = new Counter({
      name: 'parley_webhook_deliveries_total',
      help: 'Webhook POST attempts by result: ok (2xx), failed (an attempt that will be retried), given_up (retry window over)',
      labelNames: ['receiver', 'result'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'parley_webhook_delivery_seconds',
      help: 'From an event happening to its receiver answering 2xx (queueing and retries included)',
      labelNames: ['receiver'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
      registers,
    });
    this.#gaps = new Counter({
      name: 'parley_webhook_order_gaps_total',
      help: 'Room transitions delivered without their predecessor, which never reached the queue (lost between a room write and its enqueue)',
      labelNames: ['receiver'],
      registers,
    });
    this.#enqueueErrors = new Counter({
      name: 'parley_webhook_enqueue_errors_total',
      help: 'Room transitions this replica could not enqueue for a receiver (their events are lost)',
      labelNames: ['receiver'],
      registers,
    });
    const depth = this.#depth;
    new Gauge({
      name: 'parley_webhook_queue_depth',
      help: 'Room transitions waiting for delivery to a receiver (last sample, every few seconds)',
      labelNames: ['receiver'],
      registers,
      collect() {
        for (const [receiver, n] of depth) this.set({ receiver }, n);
      },
    });
  }

  delivery(receiver: string, result: DeliveryResult, sinceMs?: number): void {
    this.#deliveries.inc({ receiver, result });
    if (result === 'ok' && sinceMs !== undefined) this.#latency.observe({ receiver }, Math.max(0, Date.now() - sinceMs) / 1000);
  }

  gap(receiver: string): void {
    this.#gaps.inc({ receiver });
  }

  enqueueError(receiver: string): void {
    this.#enqueueErrors.inc({ receiver });
  }

  depth(receiver: string, n: number): void {
    this.#depth.set(receiver, n);
  }
}
