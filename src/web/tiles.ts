/**
 * The participant tiles: name, languages, mic state, a live level meter and the camera if on; a shared
 * screen as a tile of its own. The grid adapts to how many there are, the active speaker's tile is
 * highlighted (and larger once the room has three or more), and a screen share spans the whole row.
 * Each received video's element is reported to the server (VideoViews), which picks its layer.
 * A peer's tile carries `data-peer-id`; `decorate` may add controls to it (moderationControls.ts).
 */

import type { PeerInfo } from '../protocol/messages.js';
import { languageLabel } from './config.js';
import type { LevelMeters } from './levels.js';
import { peerLevelKey } from './mixer.js';
import type { Mixer } from './mixer.js';
import type { VideoViews } from './videoViews.js';

export const SELF_LEVEL_KEY = 'self';

export type SelfView = {
  displayName: string;
  spokenLanguage: string;
  listeningLanguage: string;
  muted: boolean;
  hasMic: boolean;
  camTrack: MediaStreamTrack | null;
  screenTrack: MediaStreamTrack | null;
};

/** A video a tile shows: a local track, or a received one with its consumer (whose layer the tile's size picks). */
type TileVideo = { track: MediaStreamTrack; consumerId: string | null };

type TileView = {
  /** The participant a person's tile shows; null for our own tile and for screens. */
  peerId: string | null;
  name: string;
  langs: string;
  mic: 'on' | 'off' | 'none';
  video: TileVideo | null;
  levelKey: string;
  self: boolean;
  screen: boolean;
  active: boolean;
};

const SPEAKING_LEVEL = 0.35;
/** Level meter updates per second. */
const METER_HZ = 15;
/** From this many tiles on, the active speaker's tile is drawn larger. */
const FEATURE_FROM = 3;

export class Tiles {
  readonly #list: HTMLElement;
  readonly #template: HTMLTemplateElement;
  readonly #levels: LevelMeters;
  readonly #mixer: Mixer;
  readonly #views: VideoViews;
  readonly #decorate: (tile: HTMLElement, peerId: string | null) => void;
  readonly #tiles = new Map<string, { element: HTMLElement; view: TileView }>();
  #emptyNote: HTMLElement | null = null;
  #frame = 0;
  /** The level each tile's meter shows now. */
  readonly #shown = new WeakMap<Element, number>();

  /** `decorate` runs on every tile each time it is drawn (e.g. to add a moderator's controls). */
  constructor(list: HTMLElement, template: HTMLTemplateElement, levels: LevelMeters, mixer: Mixer, views: VideoViews, decorate: (tile: HTMLElement, peerId: string | null) => void = () => undefined) {
    this.#list = list;
    this.#decorate = decorate;
    this.#template = template;
    this.#levels = levels;
    this.#mixer = mixer;
    this.#views = views;
  }

  /** Brings the tiles in line with `self` (null: not in a call), `peers` and who speaks, keeping existing nodes. */
  render(self: SelfView | null, peers: PeerInfo[], roomId: string, activeSpeaker: string | null): void {
    const views = new Map<string, TileView>();
    if (self) {
      views.set(SELF_LEVEL_KEY, {
        peerId: null,
        name: `${self.displayName} (you)`,
        langs: describeLanguages(self.spokenLanguage, self.listeningLanguage),
        mic: !self.hasMic ? 'none' : self.muted ? 'off' : 'on',
        video: self.camTrack ? { track: self.camTrack, consumerId: null } : null,
        levelKey: SELF_LEVEL_KEY,
        self: true,
        screen: false,
        active: false,
      });
      if (self.screenTrack) views.set(`${SELF_LEVEL_KEY}:screen`, screenView(`Your screen`, { track: self.screenTrack, consumerId: null }));
      for (const peer of peers) {
        views.set(peer.peerId, peerView(peer, this.#received(peer.peerId, 'cam'), peer.peerId === activeSpeaker));
        const screen = this.#received(peer.peerId, 'screen');
        if (screen) views.set(`${peer.peerId}:screen`, screenView(`${peer.displayName}\u2019s screen`, screen));
      }
    }
    for (const [key, tile] of this.#tiles) {
      if (!views.has(key)) {
        const video = tile.element.querySelector('video');
        if (video) this.#views.unwatch(video);
        tile.element.remove();
        this.#tiles.delete(key);
      }
    }
    const people = [...views.values()].filter((v) => !v.screen).length;
    const feature = people >= FEATURE_FROM && [...views.values()].some((v) => v.active);
    let index = 0;
    for (const [key, view] of views) {
      let tile = this.#tiles.get(key);
      if (!tile) {
        tile = { element: this.#createTile(), view };
        this.#tiles.set(key, tile);
      }
      // Keeps order (self first, then join order; screens after their owner), moving only what is out of
      // place so a control being typed in (a moderator's reason) keeps its focus.
      const here = this.#list.children[index++] ?? null;
      if (here !== tile.element) this.#list.insertBefore(tile.element, here);
      this.#update(tile.element, view, feature);
      tile.view = view;
    }
    // Columns for a balanced grid of the people's tiles (a featured one takes 2 x 2 cells; screens a row each).
    const cells = people + (feature ? 3 : 0);
    this.#list.style.setProperty('--columns', String(Math.max(1, Math.ceil(Math.sqrt(cells)))));
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
        if (view.screen) continue;
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

  #received(peerId: string, source: string): TileVideo | null {
    const media = this.#mixer.video(peerId, source);
    return media ? { track: media.track, consumerId: media.consumerId } : null;
  }

  #createTile(): HTMLElement {
    const fragment = this.#template.content.cloneNode(true) as DocumentFragment;
    return fragment.firstElementChild as HTMLElement;
  }

  #update(element: HTMLElement, view: TileView, feature: boolean): void {
    if (view.peerId) element.dataset['peerId'] = view.peerId;
    else delete element.dataset['peerId'];
    this.#decorate(element, view.peerId);
    element.classList.toggle('self', view.self);
    element.classList.toggle('screen', view.screen);
    element.classList.toggle('active-speaker', view.active);
    element.classList.toggle('featured', view.active && feature);
    setText(element, '.tile-name', view.name);
    setText(element, '.tile-langs', view.langs);
    setText(element, '.avatar', initials(view.name));
    const badge = element.querySelector<HTMLElement>('.mic-badge');
    if (badge) {
      badge.hidden = view.screen;
      badge.textContent = MIC_BADGES[view.mic].text;
      badge.className = MIC_BADGES[view.mic].className;
    }
    element.classList.toggle('has-video', view.video !== null);
    const media = element.querySelector<HTMLElement>('.tile-media');
    let video = media?.querySelector('video') ?? null;
    if (!view.video) {
      if (video) {
        this.#views.unwatch(video);
        video.remove();
      }
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
    if (current !== view.video.track) {
      video.srcObject = new MediaStream([view.video.track]);
      video.play().catch(() => undefined);
    }
    if (view.video.consumerId) this.#views.watch(video, view.video.consumerId);
    else this.#views.unwatch(video);
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

function peerView(peer: PeerInfo, video: TileVideo | null, active: boolean): TileView {
  const mic = peer.producers.find((p) => p.kind === 'audio' && p.source === 'mic');
  return {
    peerId: peer.peerId,
    name: peer.displayName,
    langs: describeLanguages(peer.spokenLanguage, peer.listeningLanguage),
    mic: !mic ? 'none' : mic.paused ? 'off' : 'on',
    video,
    levelKey: peerLevelKey(peer.peerId),
    self: false,
    screen: false,
    active,
  };
}

function screenView(name: string, video: TileVideo): TileView {
  return { peerId: null, name, langs: 'Screen share', mic: 'none', video, levelKey: '', self: false, screen: true, active: false };
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

function setText(root: HTMLElement, selector: string, text: string): void {
  const node = root.querySelector(selector);
  if (node && node.textContent !== text) node.textContent = text;
}
