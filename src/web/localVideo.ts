/**
 * The page's own video sources, camera ('cam') and screen share ('screen'): captured while toggled on,
 * sent on the current call with their settings (simulcast for the camera, one sharp layer for the
 * screen), sent again on the next call after a reconnect, and stopped on leave. A screen share the
 * user ends from the browser's own bar is turned off here too.
 */

import type { Call } from './call.js';
import { captureCamera, captureScreen, trackSize } from './media.js';
import { cameraSettings, screenSettings, type VideoSendSettings } from './videoEncodings.js';

export type VideoSource = 'cam' | 'screen';

const SOURCES: Record<VideoSource, { capture: () => Promise<MediaStreamTrack>; settings: (w: number, h: number) => VideoSendSettings }> = {
  cam: { capture: captureCamera, settings: cameraSettings },
  screen: { capture: captureScreen, settings: screenSettings },
};

export class LocalVideo {
  readonly #tracks = new Map<VideoSource, MediaStreamTrack>();
  readonly #onChange: () => void;

  /** `onChange`: a source started or stopped (the page re-renders). */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  track(source: VideoSource): MediaStreamTrack | null {
    return this.#tracks.get(source) ?? null;
  }

  /** Starts or stops `source`, sending it on `call` when one is up. Throws a ClientError when capture fails. */
  async set(source: VideoSource, on: boolean, call: Call | null): Promise<void> {
    const track = this.#tracks.get(source);
    if (on && !track) {
      const fresh = await SOURCES[source].capture();
      this.#tracks.set(source, fresh);
      fresh.addEventListener('ended', () => void this.set(source, false, call?.closed ? null : call).catch(() => undefined), { once: true });
      this.#onChange();
      if (call && !call.closed) await this.#produce(call, source, fresh);
    } else if (!on && track) {
      track.stop();
      this.#tracks.delete(source);
      this.#onChange();
      if (call && !call.closed) await call.closeProducer(source);
    }
  }

  /** Sends every running source on a new call. */
  produceAll(call: Call): Array<Promise<unknown>> {
    if (!call.canProduce('video')) return [];
    return [...this.#tracks].map(([source, track]) => this.#produce(call, source, track));
  }

  stopAll(): void {
    for (const track of this.#tracks.values()) track.stop();
    this.#tracks.clear();
    this.#onChange();
  }

  #produce(call: Call, source: VideoSource, track: MediaStreamTrack): Promise<string> {
    const { width, height } = trackSize(track);
    return call.produce(track, source, false, SOURCES[source].settings(width, height));
  }
}
