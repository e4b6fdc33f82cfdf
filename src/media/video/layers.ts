import type { VideoLayout } from '../../protocol/messages.js';

/**
 * Which simulcast layer a viewer gets: a pure decision from what the page shows (tile size in device
 * pixels, visible or not) and what the sender sends (the height of each spatial layer). The downlink is
 * not an input here: the layers chosen are the viewer's *preferred* layers, and mediasoup's bandwidth
 * estimation sends the best layer at or below them that the viewer's link affords.
 */

/** A tile as the page reports it: its size in device pixels, and whether any of it is on screen. */
export type TileView = { width: number; height: number; visible: boolean };

/** The sender's video: captured size and the downscale of each spatial layer, lowest first (e.g. [4, 2, 1]). */
export type { VideoLayout } from '../../protocol/messages.js';

export type LayerChoice = { paused: boolean; spatialLayer: number; temporalLayer: number };

/** A layer this much smaller than the tile still looks sharp enough (browsers scale it up a little). */
const UPSCALE_TOLERANCE = 1.25;

/** The height of each spatial layer of `layout`, lowest first. */
export function layerHeights(layout: VideoLayout): number[] {
  return layout.scales.map((s) => Math.round(layout.height / s));
}

/**
 * The preferred layers for one consumer: paused when its tile is hidden; otherwise the lowest spatial
 * layer whose height covers the tile (within UPSCALE_TOLERANCE), the top one when none does, and every
 * temporal layer. A viewer that never reported its tile (no `view`) gets the top layer, as without
 * simulcast. `spatialLayers` is what the consumer carries (1 for a non-simulcast producer).
 */
export function chooseLayers(view: TileView | null, layout: VideoLayout | null, spatialLayers: number, temporalLayers: number): LayerChoice {
  const top = Math.max(0, spatialLayers - 1);
  const temporalLayer = Math.max(0, temporalLayers - 1);
  if (!view) return { paused: false, spatialLayer: top, temporalLayer };
  if (!view.visible || view.width <= 0 || view.height <= 0) return { paused: true, spatialLayer: 0, temporalLayer: 0 };
  if (!layout || layout.scales.length !== spatialLayers) return { paused: false, spatialLayer: top, temporalLayer };
  // The tile shows the video contained (letterboxed): the height that matters is the smaller of the tile's
  // height and the height the tile's width allows at the video's aspect ratio.
  const shown = Math.min(view.height, (view.width * layout.height) / Math.max(1, layout.width));
  const heights = layerHeights(layout);
  const fits = heights.findIndex((h) => h * UPSCALE_TOLERANCE >= shown);
  return { paused: false, spatialLayer: fits === -1 ? top : fits, temporalLayer };
}

/** Spatial and temporal layer counts of a scalability mode such as 'L1T3', 'S3T3' or 'L3T3_KEY'. */
export function parseScalabilityMode(mode: string | undefined): { spatialLayers: number; temporalLayers: number } {
  const m = /^[LS]([1-9]\d?)T([1-9]\d?)/.exec(mode ?? '');
  return m ? { spatialLayers: Number(m[1]), temporalLayers: Number(m[2]) } : { spatialLayers: 1, temporalLayers: 1 };
}
