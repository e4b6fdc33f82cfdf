/**
 * The admin controls, shown only to a peer with `moderate` (moderation.ts decides; this draws): on each
 * other participant's tile, Mute/Unmute for their microphone and Remove with an optional reason, and
 * "End room for everyone" in the call header, also with an optional reason. They only ask: the server
 * decides, its errors come back through the page's notices, and a mute shows once the server says the
 * producer paused.
 *
 * Stable hooks for tests: each peer tile carries `data-peer-id`; inside it `data-testid` mute-peer,
 * remove-peer, remove-peer-reason and remove-peer-confirm; in the header end-room, end-room-reason and
 * end-room-confirm.
 */

import type { ModerationView, PeerControls } from './moderation.js';

export type ModerationHandlers = {
  remove: (peerId: string, reason: string) => void;
  mute: (peerId: string, producerId: string, muted: boolean) => void;
  closeRoom: (reason: string) => void;
};

export class ModerationControls {
  readonly #bar: HTMLElement;
  readonly #handlers: ModerationHandlers;
  #view: ModerationView = null;

  /** `bar`: where the room-wide controls go (hidden unless this page may moderate). */
  constructor(bar: HTMLElement, handlers: ModerationHandlers) {
    this.#bar = bar;
    this.#handlers = handlers;
    const end = reasonAction('end-room', 'End room for everyone', 'End room', (reason) => handlers.closeRoom(reason));
    bar.append(...end);
    bar.hidden = true;
  }

  /** The controls to show from now on (null: none); tiles pick it up as they render (`decorate`). */
  update(view: ModerationView): void {
    this.#view = view;
    this.#bar.hidden = view === null;
  }

  /** Adds, updates or removes the controls of `peerId` on its tile (null: our own tile or a screen). */
  decorate(tile: HTMLElement, peerId: string | null): void {
    const controls = peerId ? this.#view?.peers.get(peerId) : undefined;
    let actions = tile.querySelector<HTMLElement>('.tile-actions');
    if (!controls) {
      actions?.remove();
      return;
    }
    if (!actions) {
      actions = this.#createActions(controls.peerId);
      (tile.querySelector('.tile-info') ?? tile).append(actions);
    }
    const mute = actions.querySelector<HTMLButtonElement>('[data-testid="mute-peer"]');
    if (mute) {
      mute.hidden = controls.mic === null;
      mute.textContent = controls.mic?.muted ? 'Unmute' : 'Mute';
      mute.setAttribute('aria-pressed', String(controls.mic?.muted ?? false));
      mute.setAttribute('aria-label', `${controls.mic?.muted ? 'Unmute' : 'Mute'} ${controls.displayName}`);
    }
    actions.querySelector('[data-testid="remove-peer"]')?.setAttribute('aria-label', `Remove ${controls.displayName}`);
  }

  #createActions(peerId: string): HTMLElement {
    const actions = document.createElement('div');
    actions.className = 'tile-actions';
    const mute = button('Mute', 'mute-peer', 'button small');
    mute.addEventListener('click', () => {
      const mic = this.#controls(peerId)?.mic;
      if (mic) this.#handlers.mute(peerId, mic.producerId, !mic.muted);
    });
    const remove = reasonAction('remove-peer', 'Remove', 'Remove', (reason) => this.#handlers.remove(peerId, reason));
    actions.append(mute, ...remove);
    return actions;
  }

  #controls(peerId: string): PeerControls | undefined {
    return this.#view?.peers.get(peerId);
  }
}

/**
 * A button that opens a small inline form asking for an optional reason, then calls `confirm` with it
 * (trimmed, '' when none). Test ids: `<id>`, `<id>-reason`, `<id>-confirm`.
 */
function reasonAction(id: string, label: string, confirmLabel: string, confirm: (reason: string) => void): [HTMLButtonElement, HTMLFormElement] {
  const open = button(label, id, 'button small danger');
  const form = document.createElement('form');
  form.className = 'reason-form';
  form.hidden = true;
  const input = document.createElement('input');
  input.type = 'text';
  input.maxLength = 200;
  input.placeholder = 'Reason (optional)';
  input.setAttribute('aria-label', `Reason for: ${label}`);
  input.dataset['testid'] = `${id}-reason`;
  const submit = button(confirmLabel, `${id}-confirm`, 'button small danger');
  submit.type = 'submit';
  const cancel = button('Cancel', `${id}-cancel`, 'button small');
  form.append(input, submit, cancel);

  const close = (): void => {
    form.hidden = true;
    open.hidden = false;
    input.value = '';
  };
  open.addEventListener('click', () => {
    open.hidden = true;
    form.hidden = false;
    input.focus();
  });
  cancel.addEventListener('click', close);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const reason = input.value.trim();
    close();
    confirm(reason);
  });
  return [open, form];
}

function button(text: string, testId: string, className: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.dataset['testid'] = testId;
  return b;
}
