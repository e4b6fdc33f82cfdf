/**
 * Plays what we receive. Each remote audio track gets an <audio> element; what is audible follows
 * the listening language: a `translation:<lang>` track plays only when <lang> is ours, and a
 * speaker's own voice is ducked while their translation into our language is playing.
 */

import type { RemoteMedia } from './call.js';
import type { LevelMeters } from './levels.js';

/** Volume of a speaker's original voice while a translation of it plays. */
/** Volume of a speaker's original voice while their translation plays (the server's ai.originalVolume). */
const DEFAULT_DUCKED_VOLUME = 0.2;

type Playing = { media: RemoteMedia; element: HTMLMediaElement | null };

/** Key under which LevelMeters measures a peer's microphone. */
export function peerLevelKey(peerId: string): string {
  return `peer:${peerId}`;
}

export class Mixer {
  readonly #sink: HTMLElement;
  readonly #levels: LevelMeters;
  readonly #playing = new Map<string, Playing>();
  #listening = 'en';
  #ducked = DEFAULT_DUCKED_VOLUME;

  /** Sets how loud originals play under their translation (0 = muted, 1 = not ducked). */
  setDuckedVolume(volume: number): void {
    this.#ducked = Math.min(1, Math.max(0, volume));
  }

  constructor(sink: HTMLElement, levels: LevelMeters) {
    this.#sink = sink;
    this.#levels = levels;
  }

  add(media: RemoteMedia): void {
    this.remove(media);
    let element: HTMLMediaElement | null = null;
    if (media.kind === 'audio') {
      element = document.createElement('audio');
      element.autoplay = true;
      element.srcObject = new MediaStream([media.track]);
      element.dataset['peerId'] = media.peerId;
      element.dataset['source'] = media.source;
      this.#sink.append(element);
      element.play().catch(() => undefined); // autoplay is allowed after the Join click
      if (media.source === 'mic') this.#levels.watch(peerLevelKey(media.peerId), media.track);
    }
    this.#playing.set(media.consumerId, { media, element });
    this.#applyPolicy();
  }

  remove(media: RemoteMedia): void {
    const playing = this.#playing.get(media.consumerId);
    if (!playing) return;
    this.#playing.delete(media.consumerId);
    if (playing.element) {
      playing.element.srcObject = null;
      playing.element.remove();
    }
    if (media.kind === 'audio' && media.source === 'mic') this.#levels.unwatch(peerLevelKey(media.peerId));
    this.#applyPolicy();
  }

  setListeningLanguage(language: string): void {
    this.#listening = language;
    this.#applyPolicy();
  }

  /** The video of a peer from `source` ('cam' or 'screen'), if we receive it. */
  video(peerId: string, source: string): RemoteMedia | null {
    for (const { media } of this.#playing.values()) {
      if (media.peerId === peerId && media.kind === 'video' && media.source === source) return media;
    }
    return null;
  }

  clear(): void {
    for (const { media } of [...this.#playing.values()]) this.remove(media);
  }

  #applyPolicy(): void {
    const wanted = `translation:${this.#listening}`;
    const translated = new Set<string>();
    for (const { media } of this.#playing.values()) if (media.source === wanted) translated.add(media.peerId);
    for (const { media, element } of this.#playing.values()) {
      if (!element) continue;
      if (media.source.startsWith('translation:')) {
        element.muted = media.source !== wanted;
        element.volume = 1;
      } else {
        element.muted = false;
        element.volume = translated.has(media.peerId) ? this.#ducked : 1;
      }
    }
  }
}
