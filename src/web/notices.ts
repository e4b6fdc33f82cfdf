/** The dismissable error area: one entry per distinct code, newest first, at most a few. */

import type { ClientError } from './errors.js';

const MAX_NOTICES = 4;

export class Notices {
  readonly #root: HTMLElement;

  constructor(root: HTMLElement) {
    this.#root = root;
  }

  show(error: Pick<ClientError, 'code' | 'message'>): void {
    for (const existing of this.#root.querySelectorAll<HTMLElement>('.error')) {
      if (existing.dataset['code'] === error.code) existing.remove();
    }
    const item = document.createElement('div');
    item.className = 'error';
    item.dataset['code'] = error.code;
    item.setAttribute('role', 'alert');

    const body = document.createElement('div');
    body.className = 'error-body';
    const code = document.createElement('span');
    code.className = 'error-code';
    code.textContent = error.code;
    const message = document.createElement('p');
    message.className = 'error-message';
    message.textContent = error.message;
    body.append(code, message);

    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'error-close';
    close.setAttribute('aria-label', `Dismiss ${error.code}`);
    close.textContent = '\u00d7';
    close.addEventListener('click', () => item.remove());

    item.append(body, close);
    this.#root.prepend(item);
    while (this.#root.children.length > MAX_NOTICES) this.#root.lastElementChild?.remove();
  }

  clear(): void {
    this.#root.replaceChildren();
  }
}
