/**
 * Tells the server how each received video is shown: the size of its element in device pixels and
 * whether any of it is on screen (a tile scrolled away, a hidden page). The server picks each
 * consumer's layer from that (and pauses what nobody sees). Reports are sent when they change,
 * at most every REPORT_MS per video.
 */

export type VideoView = { width: number; height: number; visible: boolean };

export type ViewSink = (consumerId: string, view: VideoView) => Promise<void>;

/** A report as sent, with its time (performance.now()), for the debug hook and the bench. */
export type SentView = VideoView & { consumerId: string; at: number };

/** Reports kept for the debug hook. */
const LOG_SIZE = 100;

/** Resizes during a layout change come in bursts: one report per video per this long. */
const REPORT_MS = 250;

type Watched = { consumerId: string; size: { width: number; height: number }; onScreen: boolean; sent: string; timer: number };

export class VideoViews {
  readonly #sink: ViewSink;
  readonly #watched = new Map<HTMLVideoElement, Watched>();
  readonly #log: SentView[] = [];
  readonly #resize = new ResizeObserver((entries) => {
    for (const e of entries) {
      const w = this.#watched.get(e.target as HTMLVideoElement);
      if (!w) continue;
      const box = e.devicePixelContentBoxSize?.[0];
      w.size = box
        ? { width: Math.round(box.inlineSize), height: Math.round(box.blockSize) }
        : { width: Math.round(e.contentRect.width * devicePixelRatio), height: Math.round(e.contentRect.height * devicePixelRatio) };
      this.#schedule(e.target as HTMLVideoElement, w);
    }
  });
  readonly #intersection = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const w = this.#watched.get(e.target as HTMLVideoElement);
      if (!w) continue;
      w.onScreen = e.isIntersecting;
      this.#schedule(e.target as HTMLVideoElement, w);
    }
  });

  constructor(sink: ViewSink) {
    this.#sink = sink;
    document.addEventListener('visibilitychange', () => {
      for (const [element, w] of this.#watched) this.#schedule(element, w);
    });
  }

  /** The last reports sent, oldest first. */
  log(): SentView[] {
    return [...this.#log];
  }

  /** Starts reporting `element`, which shows consumer `consumerId` (a new consumer restarts the reports). */
  watch(element: HTMLVideoElement, consumerId: string): void {
    const known = this.#watched.get(element);
    if (known?.consumerId === consumerId) return;
    if (known) this.unwatch(element);
    this.#watched.set(element, { consumerId, size: { width: 0, height: 0 }, onScreen: false, sent: '', timer: 0 });
    element.dataset['consumerId'] = consumerId;
    this.#resize.observe(element, { box: 'device-pixel-content-box' });
    this.#intersection.observe(element);
  }

  unwatch(element: HTMLVideoElement): void {
    const w = this.#watched.get(element);
    if (!w) return;
    clearTimeout(w.timer);
    this.#watched.delete(element);
    this.#resize.unobserve(element);
    this.#intersection.unobserve(element);
  }

  #schedule(element: HTMLVideoElement, w: Watched): void {
    if (w.timer) return;
    w.timer = window.setTimeout(() => {
      w.timer = 0;
      if (this.#watched.get(element) !== w) return;
      const view: VideoView = { ...w.size, visible: w.onScreen && document.visibilityState === 'visible' && w.size.width > 0 };
      const key = `${view.width}x${view.height}:${view.visible}`;
      if (key === w.sent) return;
      w.sent = key;
      this.#log.push({ consumerId: w.consumerId, ...view, at: performance.now() });
      if (this.#log.length > LOG_SIZE) this.#log.shift();
      void this.#sink(w.consumerId, view).catch(() => undefined);
    }, REPORT_MS);
  }
}
