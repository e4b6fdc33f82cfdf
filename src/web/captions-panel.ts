/**
 * The captions panel: one entry per utterance (speaker, original words, translation into our
 * listening language), newest at the bottom, following new lines unless the user scrolled up.
 * Entries are keyed by utterance id and updated in place, so partial captions do not flicker.
 */

import type { PeerInfo } from '../protocol/messages.js';
import { captionLines, captionParts, languageTag } from './captions.js';
import type { CaptionLine, CaptionText, Utterance } from './captions.js';
import { languageLabel } from './config.js';

export type CaptionContext = {
  listeningLanguage: string;
  selfPeerId: string | null;
  /** Other peers, for display names. */
  peers: readonly PeerInfo[];
};

/** Within this many pixels of the bottom counts as "at the bottom": new lines keep it there. */
const STICK_SLACK_PX = 32;

export class CaptionsPanel {
  readonly #root: HTMLElement;
  readonly #stage: HTMLElement;
  readonly #toggle: HTMLButtonElement;
  readonly #list: HTMLElement;
  readonly #empty: HTMLElement;
  readonly #jump: HTMLButtonElement;
  readonly #langNote: HTMLElement;
  readonly #items = new Map<string, HTMLElement>();
  /** Names outlive the roster, so lines of someone who left keep their name. */
  readonly #names = new Map<string, string>();
  readonly #self = new Set<string>();
  #stick = true;
  #shown = true;

  /** `root` is the panel, `stage` the container it shares with the tiles, `toggle` the show/hide button. */
  constructor(root: HTMLElement, stage: HTMLElement, toggle: HTMLButtonElement) {
    this.#root = root;
    this.#stage = stage;
    this.#toggle = toggle;
    this.#list = part(root, '.caption-list');
    this.#empty = part(root, '.captions-empty');
    this.#jump = part(root, '.captions-jump') as HTMLButtonElement;
    this.#langNote = part(root, '.captions-lang');
    this.#list.addEventListener('scroll', () => {
      this.#stick = this.#atBottom();
      if (this.#stick) this.#jump.hidden = true;
    }, { passive: true });
    this.#jump.addEventListener('click', () => this.#scrollToEnd());
    toggle.addEventListener('click', () => this.setShown(!this.#shown));
    this.setShown(true);
  }

  get shown(): boolean {
    return this.#shown;
  }

  setShown(shown: boolean): void {
    this.#shown = shown;
    this.#root.hidden = !shown;
    this.#stage.classList.toggle('with-captions', shown);
    this.#toggle.setAttribute('aria-pressed', String(shown));
    if (shown && this.#stick) this.#scrollToEnd();
  }

  /** Redraws from the store's utterances; cheap when little changed. */
  render(utterances: readonly Utterance[], context: CaptionContext): void {
    if (context.selfPeerId) this.#self.add(context.selfPeerId);
    for (const peer of context.peers) this.#names.set(peer.peerId, peer.displayName);
    const lines = captionLines(utterances, context.listeningLanguage, { self: this.#self, names: this.#names });
    const note = `Translations into ${languageLabel(context.listeningLanguage)}`;
    if (this.#langNote.textContent !== note) this.#langNote.textContent = note;

    const keep = new Set(lines.map((l) => l.utteranceId));
    for (const [id, item] of this.#items) {
      if (keep.has(id)) continue;
      item.remove();
      this.#items.delete(id);
    }
    let added = false;
    lines.forEach((line, index) => {
      let item = this.#items.get(line.utteranceId);
      if (!item) {
        item = createItem();
        this.#items.set(line.utteranceId, item);
        added = true;
      }
      if (this.#list.children[index] !== item) this.#list.insertBefore(item, this.#list.children[index] ?? null);
      updateItem(item, line);
    });
    this.#empty.hidden = lines.length > 0;
    if (this.#stick) this.#scrollToEnd();
    else if (added) this.#jump.hidden = false;
  }

  /** Forgets the shown lines (a new call); names are kept. */
  clear(): void {
    this.#items.clear();
    this.#list.replaceChildren();
    this.#empty.hidden = false;
    this.#jump.hidden = true;
    this.#stick = true;
  }

  #atBottom(): boolean {
    const list = this.#list;
    return list.scrollHeight - list.scrollTop - list.clientHeight <= STICK_SLACK_PX;
  }

  #scrollToEnd(): void {
    this.#list.scrollTop = this.#list.scrollHeight;
    this.#stick = true;
    this.#jump.hidden = true;
  }
}

function part(root: HTMLElement, selector: string): HTMLElement {
  const element = root.querySelector<HTMLElement>(selector);
  if (!element) throw new Error(`the captions panel has no ${selector}`);
  return element;
}

function createItem(): HTMLElement {
  const item = document.createElement('li');
  item.className = 'caption';
  const speaker = document.createElement('span');
  speaker.className = 'caption-speaker';
  item.append(speaker, createText('caption-original'), createText('caption-translation'));
  return item;
}

function createText(className: string): HTMLElement {
  const row = document.createElement('p');
  row.className = `caption-text ${className}`;
  const tag = document.createElement('abbr');
  tag.className = 'lang-tag';
  const words = document.createElement('span');
  words.className = 'words';
  row.append(tag, words);
  return row;
}

function updateItem(item: HTMLElement, line: CaptionLine): void {
  item.classList.toggle('self', line.self);
  item.classList.toggle('translated', line.translation !== null);
  item.dataset['utteranceId'] = line.utteranceId;
  // While partial the text keeps changing: screen readers wait for the final words.
  item.setAttribute('aria-busy', String(!line.final));
  const speaker = item.querySelector<HTMLElement>('.caption-speaker');
  if (speaker && speaker.textContent !== line.speaker) speaker.textContent = line.speaker;
  updateText(item.querySelector<HTMLElement>('.caption-original'), line.original);
  updateText(item.querySelector<HTMLElement>('.caption-translation'), line.translation);
}

function updateText(row: HTMLElement | null, text: CaptionText | null): void {
  if (!row) return;
  row.hidden = text === null;
  if (!text) return;
  row.classList.toggle('partial', !text.final);
  const tag = row.querySelector<HTMLElement>('.lang-tag');
  const label = languageTag(text.language);
  if (tag && tag.textContent !== label) {
    tag.textContent = label;
    tag.title = languageLabel(text.language.toLowerCase());
  }
  const words = row.querySelector<HTMLElement>('.words');
  if (!words) return;
  // Spoken (the voice has said it), committed (will not change), tentative (greyed: may still change).
  const parts = captionParts(text);
  const spans = [...words.children] as HTMLElement[];
  if (spans.length !== 3) {
    words.replaceChildren(...['spoken', 'committed', 'tentative'].map((name) => Object.assign(document.createElement('span'), { className: name })));
  }
  const [spoken, committed, tentative] = [...words.children] as HTMLElement[];
  const show = (el: HTMLElement | undefined, value: string) => el && el.textContent !== value && (el.textContent = value);
  const empty = !text.text.trim();
  show(spoken, parts.spoken);
  show(committed, parts.committed);
  show(tentative, empty ? '\u2026' : parts.tentative);
}
