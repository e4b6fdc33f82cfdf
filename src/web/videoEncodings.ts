/**
 * How the page sends video: simulcast layers for a camera (each viewer's tile then picks one on the
 * server), one sharp layer for a screen share, and the video codec the browser itself prefers among
 * those the room offers (VP8 in Chromium and Firefox, H264 in Safari).
 */

import type { types as ms } from 'mediasoup-client';
import type { VideoLayout } from '../protocol/messages.js';

/** Camera layers as downscales of the captured size, lowest first: 180p, 360p and 720p of a 720p camera. */
const CAMERA_SCALES = [4, 2, 1];
/** A layer smaller than this (pixels high) is not worth sending. */
const MIN_LAYER_HEIGHT = 90;

export type VideoSendSettings = {
  encodings: ms.RtpEncodingParameters[];
  layout: VideoLayout;
};

/** Bitrate for a layer of `height` pixels (bits/s), as conferencing systems budget them. */
export function layerBitrate(height: number): number {
  if (height <= 180) return 150_000;
  if (height <= 360) return 500_000;
  if (height <= 720) return 1_500_000;
  return 2_500_000;
}

/** Simulcast for a camera of `width` x `height`: up to three layers, each with three temporal layers. */
export function cameraSettings(width: number, height: number): VideoSendSettings {
  const scales = CAMERA_SCALES.filter((s, i) => height / s >= MIN_LAYER_HEIGHT || i === CAMERA_SCALES.length - 1);
  return {
    encodings: scales.map((s) => ({ scaleResolutionDownBy: s, maxBitrate: layerBitrate(height / s), scalabilityMode: 'L1T3' })),
    layout: { width, height, scales },
  };
}

/** A screen share: one full-size layer at a low frame rate, so text stays sharp (the track says 'detail'). */
export function screenSettings(width: number, height: number): VideoSendSettings {
  return {
    encodings: [{ maxBitrate: Math.max(1_000_000, layerBitrate(height)), maxFramerate: 15 }],
    layout: { width, height, scales: [1] },
  };
}

/**
 * The video codec to send with: the first in the browser's own order (RTCRtpSender.getCapabilities)
 * that the room also offers; the room's first video codec when the browser does not say.
 */
export function preferredVideoCodec<C extends { mimeType: string; kind?: string }>(offered: C[], browserOrder: string[]): C | undefined {
  const video = offered.filter((c) => c.mimeType.toLowerCase().startsWith('video/') && !/\/(rtx|red|ulpfec)$/i.test(c.mimeType));
  for (const mime of browserOrder) {
    const match = video.find((c) => c.mimeType.toLowerCase() === mime.toLowerCase());
    if (match) return match;
  }
  return video[0];
}
