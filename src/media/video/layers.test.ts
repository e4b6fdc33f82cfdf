import { describe, expect, it } from 'vitest';
import { chooseLayers, layerHeights, parseScalabilityMode, type VideoLayout } from './layers.js';

const HD: VideoLayout = { width: 1280, height: 720, scales: [4, 2, 1] };

describe('chooseLayers', () => {
  it('gives each tile size the lowest layer that covers it', () => {
    expect(layerHeights(HD)).toEqual([180, 360, 720]);
    expect(chooseLayers({ width: 320, height: 180, visible: true }, HD, 3, 3).spatialLayer).toBe(0);
    expect(chooseLayers({ width: 400, height: 225, visible: true }, HD, 3, 3).spatialLayer).toBe(0); // 180 x 1.25 covers 225
    expect(chooseLayers({ width: 640, height: 360, visible: true }, HD, 3, 3).spatialLayer).toBe(1);
    expect(chooseLayers({ width: 1280, height: 720, visible: true }, HD, 3, 3).spatialLayer).toBe(2);
    expect(chooseLayers({ width: 2560, height: 1440, visible: true }, HD, 3, 3).spatialLayer).toBe(2);
  });

  it('reads a wide, short tile by the height the video shows at in it', () => {
    // 1600 x 300: a 16:9 video is 300 high there (width would allow 900).
    expect(chooseLayers({ width: 1600, height: 300, visible: true }, HD, 3, 3).spatialLayer).toBe(1);
    // 300 x 1000 (portrait tile): the video is 169 high, whatever the tile's height.
    expect(chooseLayers({ width: 300, height: 1000, visible: true }, HD, 3, 3).spatialLayer).toBe(0);
  });

  it('pauses a hidden or empty tile and keeps every temporal layer of a shown one', () => {
    expect(chooseLayers({ width: 640, height: 360, visible: false }, HD, 3, 3)).toEqual({ paused: true, spatialLayer: 0, temporalLayer: 0 });
    expect(chooseLayers({ width: 0, height: 0, visible: true }, HD, 3, 3).paused).toBe(true);
    expect(chooseLayers({ width: 640, height: 360, visible: true }, HD, 3, 3)).toEqual({ paused: false, spatialLayer: 1, temporalLayer: 2 });
  });

  it('gives the top layer to a viewer that never reported its tile, or when the layout does not match the stream', () => {
    expect(chooseLayers(null, HD, 3, 3)).toEqual({ paused: false, spatialLayer: 2, temporalLayer: 2 });
    expect(chooseLayers({ width: 320, height: 180, visible: true }, null, 3, 1)).toEqual({ paused: false, spatialLayer: 2, temporalLayer: 0 });
    expect(chooseLayers({ width: 320, height: 180, visible: true }, { ...HD, scales: [2, 1] }, 3, 3).spatialLayer).toBe(2);
    expect(chooseLayers({ width: 320, height: 180, visible: true }, { width: 1280, height: 720, scales: [1] }, 1, 1).spatialLayer).toBe(0);
  });
});

describe('parseScalabilityMode', () => {
  it('reads the spatial and temporal layer counts', () => {
    expect(parseScalabilityMode('S3T3')).toEqual({ spatialLayers: 3, temporalLayers: 3 });
    expect(parseScalabilityMode('L1T3')).toEqual({ spatialLayers: 1, temporalLayers: 3 });
    expect(parseScalabilityMode('L3T3_KEY')).toEqual({ spatialLayers: 3, temporalLayers: 3 });
    expect(parseScalabilityMode(undefined)).toEqual({ spatialLayers: 1, temporalLayers: 1 });
    expect(parseScalabilityMode('bogus')).toEqual({ spatialLayers: 1, temporalLayers: 1 });
  });
});
