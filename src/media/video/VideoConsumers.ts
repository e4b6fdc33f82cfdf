import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { chooseLayers, parseScalabilityMode, type LayerChoice, type TileView, type VideoLayout } from './layers.js';

export type VideoConsumersEvents = {
  /** The preferred layers (or the view pause) of a consumer changed. */
  layerschosen: [consumerId: string, choice: LayerChoice];
};

type Entry = {
  consumer: types.Consumer;
  layout: VideoLayout | null;
  view: TileView | null;
  /** The client asked for it paused (or has not resumed it yet: consumers start paused). */
  clientPaused: boolean;
  /** What was last applied, so an unchanged report costs nothing. */
  applied: LayerChoice | null;
};

/**
 * The video consumers of one peer and the layers each gets: the page reports each tile's size and
 * visibility (`setView`), `chooseLayers` decides, and this applies the decision: preferred layers on a
 * simulcast/SVC consumer (mediasoup then sends the best layer at or below them that the link affords,
 * requesting a keyframe for the switch; the producer's keyFrameRequestDelay rate-limits those), and a
 * pause while the tile is hidden. A consumer is paused when its client or its view says so.
 */
export class VideoConsumers {
  readonly observer = new EventEmitter<VideoConsumersEvents>();
  readonly #entries = new Map<string, Entry>();

  add(consumer: types.Consumer, layout: VideoLayout | null): void {
    if (consumer.kind !== 'video') return;
    this.#entries.set(consumer.id, { consumer, layout, view: null, clientPaused: consumer.paused, applied: null });
    consumer.observer.once('close', () => this.#entries.delete(consumer.id));
  }

  has(consumerId: string): boolean {
    return this.#entries.has(consumerId);
  }

  /** The page's tile for this consumer changed size or visibility. */
  async setView(consumerId: string, view: TileView): Promise<LayerChoice | null> {
    const entry = this.#entries.get(consumerId);
    if (!entry) return null;
    entry.view = view;
    return this.#apply(entry);
  }

  /** The client paused or resumed the consumer (resumeConsumer after consume, or its own pause). */
  async setClientPaused(consumerId: string, paused: boolean): Promise<void> {
    const entry = this.#entries.get(consumerId);
    if (!entry) return;
    entry.clientPaused = paused;
    await this.#apply(entry);
  }

  /** The video consumers, for metrics and tests. */
  consumers(): types.Consumer[] {
    return [...this.#entries.values()].map((e) => e.consumer);
  }

  /** Current choice of every consumer, for metrics and debugging. */
  choices(): Array<{ consumerId: string; choice: LayerChoice | null }> {
    return [...this.#entries.values()].map((e) => ({ consumerId: e.consumer.id, choice: e.applied }));
  }

  async #apply(entry: Entry): Promise<LayerChoice> {
    const { consumer } = entry;
    const encoding = consumer.rtpParameters.encodings?.[0];
    const { spatialLayers, temporalLayers } = parseScalabilityMode(encoding?.scalabilityMode);
    const choice = chooseLayers(entry.view, entry.layout, spatialLayers, temporalLayers);
    const before = entry.applied;
    entry.applied = choice;
    if (consumer.closed) return choice;
    const layered = consumer.type === 'simulcast' || consumer.type === 'svc';
    if (layered && !choice.paused && (before?.spatialLayer !== choice.spatialLayer || before?.temporalLayer !== choice.temporalLayer)) {
      await consumer.setPreferredLayers({ spatialLayer: choice.spatialLayer, temporalLayer: choice.temporalLayer });
    }
    const paused = entry.clientPaused || choice.paused;
    if (paused && !consumer.paused) await consumer.pause();
    if (!paused && consumer.paused) await consumer.resume();
    if (!before || before.paused !== choice.paused || before.spatialLayer !== choice.spatialLayer || before.temporalLayer !== choice.temporalLayer) {
      this.observer.emit('layerschosen', consumer.id, choice);
    }
    return choice;
  }
}
