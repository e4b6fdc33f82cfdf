import { describe, expect, it } from 'vitest';
import { cameraSettings, preferredVideoCodec, screenSettings } from './videoEncodings.js';

describe('video send settings', () => {
  it('sends a 720p camera as 180p, 360p and 720p layers with rising bitrates', () => {
    const s = cameraSettings(1280, 720);
    expect(s.layout).toEqual({ width: 1280, height: 720, scales: [4, 2, 1] });
    expect(s.encodings.map((e) => e.scaleResolutionDownBy)).toEqual([4, 2, 1]);
    expect(s.encodings.map((e) => e.maxBitrate)).toEqual([150_000, 500_000, 1_500_000]);
    expect(s.encodings.every((e) => e.scalabilityMode === 'L1T3')).toBe(true);
  });

  it('drops layers too small to be worth sending from a small camera', () => {
    expect(cameraSettings(320, 240).layout.scales).toEqual([2, 1]);
    expect(cameraSettings(160, 120).layout.scales).toEqual([1]);
  });

  it('sends a screen as one sharp layer at a low frame rate', () => {
    const s = screenSettings(1920, 1080);
    expect(s.layout.scales).toEqual([1]);
    expect(s.encodings).toEqual([{ maxBitrate: 2_500_000, maxFramerate: 15 }]);
  });

  it('picks the browser-preferred codec among those the room offers', () => {
    const offered = [{ mimeType: 'video/VP8' }, { mimeType: 'video/rtx' }, { mimeType: 'video/H264' }, { mimeType: 'audio/opus' }];
    expect(preferredVideoCodec(offered, ['video/H264', 'video/VP8'])?.mimeType).toBe('video/H264');
    expect(preferredVideoCodec(offered, ['video/VP9', 'video/VP8'])?.mimeType).toBe('video/VP8');
    expect(preferredVideoCodec(offered, [])?.mimeType).toBe('video/VP8');
    expect(preferredVideoCodec([{ mimeType: 'audio/opus' }], ['video/VP8'])).toBeUndefined();
  });
});
