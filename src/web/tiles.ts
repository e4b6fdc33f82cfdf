/** The participant tiles: name, languages, mic state, a live level meter and the camera if on. */

import type { PeerInfo } from '../protocol/messages.js';
import { languageLabel } from './config.js';
import type { LevelMeters } from './levels.js';
import { peerLevelKey } from './mixer.js';
import type { Mixer } from './mixer.js';

export const SELF_LEVEL_KEY = 'self';

export type SelfView = {
  displayName: string;
  spokenLanguage: string;
  listeningLanguage: string;
  muted: boolean;
  hasMic: boolean;
  camTrack: MediaStreamTrack | null;
};

type TileView = {
  name: string;
  langs: string;
  mic: 'on' | 'off' | 'none';
  video: MediaStreamTrack | null;
  levelKey: string;
  self: boolean;
};

const SPEAKING_LEVEL = 0.35;
/** Level meter updates per second. */
const METER_HZ = 15;

export class Tiles {
  readonly #list: HTMLElement;
  readonly #template: HTMLTemplateElement;
  readonly #levels: LevelMeters;
  readonly #mixer: Mixer;
  readonly #tiles = new Map<string, { element: HTMLElement; view: TileView }>();
  #emptyNote: HTMLElement | null = null;
  #frame = 0;
  /** The level each tile's meter shows now. */
  readonly #shown = new WeakMap<Element, number>();

  constructor(list: HTMLElement, template: HTMLTemplateElement, levels: LevelMeters, mixer: Mixer) {
    this.#list = list;
    this.#template = template;
    this.#levels = levels;
    this.#mixer = mixer;
  }

  /** Brings the tiles in line with `self` (null: not in a call) and `peers`, keeping existing nodes. */
  render(self: SelfView | null, peers: PeerInfo[], roomId: string): void {
    const views = new Map<string, TileView>();
    if (self) {
      views.set(SELF_LEVEL_KEY, {
        name: `${self.displayName} (you)`,
        langs: describeLanguages(self.spokenLanguage, self.listeningLanguage),
        mic: !self.hasMic ? 'none' : self.muted ? 'off' : 'on',
        video: self.camTrack,
        levelKey: SELF_LEVEL_KEY,
        self: true,
      });
      for (const peer of peers) views.set(peer.peerId, peerView(peer, this.#mixer.videoTrack(peer.peerId)));
    }
    for (const [key, tile] of this.#tiles) {
      if (!views.has(key)) {
        tile.element.remove();
        this.#tiles.delete(key);
      }
    }
    for (const [key, view] of views) {
      let tile = this.#tiles.get(key);
      if (!tile) {
        tile = { element: this.#createTile(), view };
        this.#tiles.set(key, tile);
      }
      this.#list.append(tile.element); // keeps order: self first, then join order
      updateTile(tile.element, view);
      tile.view = view;
    }
    this.#renderEmptyNote(self !== null && peers.length === 0, roomId);
  }

  /**
   * Animates the level meters until stop(), METER_HZ times a second (a meter needs no more; every frame
   * kept a page repainting at 60 fps), touching a tile only when its meter moved.
   */
  start(): void {
    if (this.#frame) return;
    let last = 0;
    const tick = (now: number): void => {
      this.#frame = requestAnimationFrame(tick);
      if (now - last < 1000 / METER_HZ) return;
      last = now;
      for (const { element, view } of this.#tiles.values()) {
        const level = Math.round((view.mic === 'off' ? 0 : this.#levels.level(view.levelKey)) * 50) / 50;
        if (this.#shown.get(element) === level) continue;
        this.#shown.set(element, level);
        const fill = element.querySelector<HTMLElement>('.meter-fill');
        if (fill) fill.style.transform = `scaleX(${level})`;
        element.querySelector('.meter')?.setAttribute('aria-valuenow', String(Math.round(level * 100)));
        element.classList.toggle('speaking', level > SPEAKING_LEVEL);
      }
    };
    this.#frame = requestAnimationFrame(tick);
  }

  stop(): void {
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  #createTile(): HTMLElement {
    const fragment = this.#template.content.cloneNode(true) as DocumentFragment;
    const element = fragment.firstElementChild as HTMLElement;
    return element;
  }

  #renderEmptyNote(show: boolean, roomId: string): void {
    if (!show) {
      this.#emptyNote?.remove();
      this.#emptyNote = null;
      return;
    }
    this.#emptyNote ??= document.createElement('li');
    this.#emptyNote.className = 'empty-note';
    this.#emptyNote.textContent = `Nobody else is here yet. Invite others to room \u201c${roomId}\u201d.`;
    this.#list.append(this.#emptyNote);
  }
}

function peerView(peer: PeerInfo, video: MediaStreamTrack | null): TileView {
  const mic = peer.producers.find((p) => p.kind === 'audio' && p.source === 'mic');
  return {
    name: peer.displayName,
    langs: describeLanguages(peer.spokenLanguage, peer.listeningLanguage),
    mic: !mic ? 'none' : mic.paused ? 'off' : 'on',
    video,
    levelKey: peerLevelKey(peer.peerId),
    self: false,
  };
}

function describeLanguages(spoken: string, listening: string): string {
  return `Speaks ${languageLabel(spoken)} \u00b7 hears ${languageLabel(listening)}`;
}

function initials(name: string): string {
  const parts = name.replace(/\(you\)$/, '').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? `${parts[0]?.[0] ?? ''}${parts[parts.length - 1]?.[0] ?? ''}` : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

const MIC_BADGES: Record<TileView['mic'], { text: string; className: string }> = {
  on: { text: 'Mic on', className: 'badge mic-badge' },
  off: { text: 'Muted', className: 'badge mic-badge off' },
  none: { text: 'No mic', className: 'badge mic-badge none' },
};

function updateTile(element: HTMLElement, view: TileView): void {
  element.classList.toggle('self', view.self);
  setText(element, '.tile-name', view.name);
  setText(element, '.tile-langs', view.langs);
  setText(element, '.avatar', initials(view.name));
  const badge = element.querySelector<HTMLElement>('.mic-badge');
  if (badge) {
    badge.textContent = MIC_BADGES[view.mic].text;
    badge.className = MIC_BADGES[view.mic].className;
  }

  element.classList.toggle('has-video', view.video !== null);
  const media = element.querySelector<HTMLElement>('.tile-media');
  let video = media?.querySelector('video') ?? null;
  if (!view.video) {
    video?.remove();
    return;
  }
  if (!video) {
    video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // audio plays through the mixer; our own camera must never echo
    media?.append(video);
  }
  const current = video.srcObject instanceof MediaStream ? video.srcObject.getVideoTracks()[0] : undefined;
  if (current !== view.video) {
    video.srcObject = new MediaStream([view.video]);
    video.play().catch(() => undefined);
  }
}

function setText(root: HTMLElement, selector: string, text: string): void {
  const node = root.querySelector(selector);
  if (node && node.textContent !== text) node.textContent = text;
}
