import type { types } from 'mediasoup';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The video objects of one peer, as metrics read them. */
export type PeerVideo = { roomId: string; producers: types.Producer[]; consumers: types.Consumer[] };

/** What one scrape measured (exported for tests). */
export type VideoFigures = {
  producersBySource: Map<string, number>;
  /** Simulcast/SVC streams arriving with media (each layer a sender sends counts once). */
  layersSent: number;
  /** Video consumers by the spatial layer they forward now ('paused' when nothing is sent). */
  consumersByLayer: Map<string, number>;
  scores: number[];
  bitrateByRoom: Map<string, number>;
  /** PLI + FIR the senders were sent, summed over their streams (a running total). */
  keyframeRequests: number;
};

/** Reads the figures from mediasoup (one getStats per video producer and consumer). */
export async function measureVideo(peers: Iterable<PeerVideo>): Promise<VideoFigures> {
  const f: VideoFigures = { producersBySource: new Map(), layersSent: 0, consumersByLayer: new Map(), scores: [], bitrateByRoom: new Map(), keyframeRequests: 0 };
  const add = (m: Map<string, number>, key: string, n: number) => m.set(key, (m.get(key) ?? 0) + n);
  const jobs: Array<Promise<void>> = [];
  for (const peer of peers) {
    for (const p of peer.producers) {
      if (p.closed || p.kind !== 'video') continue;
      add(f.producersBySource, String(p.appData.source ?? 'cam'), 1);
      jobs.push(
        p.getStats().then((stats) => {
          for (const s of stats) {
            if (s.bitrate > 0) f.layersSent += 1;
            f.keyframeRequests += (s.pliCount ?? 0) + (s.firCount ?? 0);
          }
        }, () => undefined),
      );
    }
    for (const c of peer.consumers) {
      if (c.closed || c.kind !== 'video') continue;
      const sending = !c.paused && !c.producerPaused;
      add(f.consumersByLayer, sending ? String(c.currentLayers?.spatialLayer ?? 0) : 'paused', 1);
      f.scores.push(c.score.score);
      jobs.push(
        c.getStats().then((stats) => {
          for (const s of stats) if (s.type === 'outbound-rtp') add(f.bitrateByRoom, peer.roomId, s.bitrate);
        }, () => undefined),
      );
    }
  }
  await Promise.all(jobs);
  return f;
}

/**
 * Video metrics: producers by source, layers sent, consumers by the layer they get, consumer scores,
 * bitrate sent to viewers per room, keyframe requests. Read from mediasoup at scrape time.
 */
export function registerVideoMetrics(registry: Registry, source: () => Promise<VideoFigures>): void {
  let current: Promise<VideoFigures> | null = null;
  // One measurement serves every video metric of a scrape.
  const figures = (): Promise<VideoFigures> => {
    current ??= source().finally(() => setTimeout(() => (current = null), 1000).unref());
    return current;
  };
  const registers = [registry];
  new Gauge({
    name: 'parley_video_producers', help: 'Video producers on this replica by source (cam, screen)', labelNames: ['source'], registers,
    async collect() { this.reset(); for (const [source, n] of (await figures()).producersBySource) this.set({ source }, n); },
  });
  new Gauge({
    name: 'parley_video_layers_sent', help: 'Simulcast layers arriving with media, summed over video producers', registers,
    async collect() { this.set((await figures()).layersSent); },
  });
  new Gauge({
    name: 'parley_video_consumers', help: 'Video consumers by the spatial layer they forward now (paused: hidden tile or paused sender)', labelNames: ['layer'], registers,
    async collect() { this.reset(); for (const [layer, n] of (await figures()).consumersByLayer) this.set({ layer }, n); },
  });
  new Gauge({
    name: 'parley_video_consumer_score_min', help: 'Lowest video consumer score (0-10: how well the viewer receives; 10 when there is none)', registers,
    async collect() { const s = (await figures()).scores; this.set(s.length ? Math.min(...s) : 10); },
  });
  new Gauge({
    name: 'parley_video_consumers_low_score', help: 'Video consumers scoring below 5 (losing packets on the way to the viewer)', registers,
    async collect() { this.set((await figures()).scores.filter((s) => s < 5).length); },
  });
  new Gauge({
    name: 'parley_room_video_bitrate_bps', help: 'Video bitrate sent to the viewers of each room on this replica', labelNames: ['room'], registers,
    async collect() { this.reset(); for (const [room, bps] of (await figures()).bitrateByRoom) this.set({ room }, bps); },
  });
  // mediasoup counts PLI/FIR per open producer; the counter adds what they gained since the last scrape.
  let seen = 0;
  new Counter({
    name: 'parley_video_keyframe_requests_total', help: 'Keyframes (PLI/FIR) asked of video senders (by viewers and layer switches)', registers,
    async collect() {
      const n = (await figures()).keyframeRequests;
      if (n > seen) this.inc(n - seen);
      seen = n;
    },
  });
}
