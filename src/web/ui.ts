/** The page shell: join form, connection status, call controls and which view is showing. */

import { DEFAULT_LANGUAGE, LANGUAGES } from './config.js';
import type { PageConfig } from './config.js';
import { MIC_NOTICE_TEXT, type MicNotice } from './moderation.js';
import type { ConnectionState, JoinForm } from './session.js';

export type ShellHandlers = {
  join: (form: JoinForm) => void;
  leave: () => void;
  toggleMute: () => void;
  toggleCamera: () => void;
  toggleScreen: () => void;
  changeLanguages: (languages: { spokenLanguage?: string; listeningLanguage?: string }) => void;
};

export type LocalControls = {
  roomId: string;
  muted: boolean;
  cameraOn: boolean;
  screenOn: boolean;
  hasMic: boolean;
  /** What the server lets us send (permissions); a button for what we may not send is disabled. */
  allowed: { mic: boolean; camera: boolean; screen: boolean };
  /** What to say about the microphone (a moderator muted it, ...), if anything. */
  micNotice: MicNotice | null;
  spokenLanguage: string;
  listeningLanguage: string;
  peerCount: number;
};

const STATE_TEXT: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting\u2026',
  connected: 'Connected',
  reconnecting: 'Reconnecting\u2026',
  disconnected: 'Disconnected',
};

/** Remembered between visits so people do not retype their name and languages. */
const PREFS_KEY = 'parley.prefs';

export class Shell {
  readonly #el;

  constructor(config: PageConfig, handlers: ShellHandlers) {
    this.#el = {
      status: byId('status'),
      statusText: byId('status').querySelector('.status-text') as HTMLElement,
      joinView: byId('join-view'),
      callView: byId('call-view'),
      form: byId('join-form') as HTMLFormElement,
      room: byId('room-input') as HTMLInputElement,
      name: byId('name-input') as HTMLInputElement,
      spoken: byId('spoken-input') as HTMLSelectElement,
      listening: byId('listening-input') as HTMLSelectElement,
      joinButton: byId('join-button') as HTMLButtonElement,
      tokenHint: byId('token-hint'),
      roomTitle: byId('room-title'),
      peerCount: byId('peer-count'),
      mute: byId('mute-button') as HTMLButtonElement,
      camera: byId('camera-button') as HTMLButtonElement,
      screen: byId('screen-button') as HTMLButtonElement,
      callSpoken: byId('spoken-select') as HTMLSelectElement,
      callListening: byId('listening-select') as HTMLSelectElement,
      leave: byId('leave-button') as HTMLButtonElement,
      micNotice: byId('mic-notice'),
      ended: byId('ended-reason'),
    };
    const el = this.#el;
    for (const select of [el.spoken, el.listening, el.callSpoken, el.callListening]) fillLanguages(select);
    const prefs = loadPrefs();
    el.room.value = config.room ?? '';
    el.name.value = prefs.displayName ?? '';
    el.spoken.value = prefs.spokenLanguage ?? DEFAULT_LANGUAGE;
    el.listening.value = prefs.listeningLanguage ?? DEFAULT_LANGUAGE;
    if (config.token) {
      el.tokenHint.hidden = false;
      el.name.required = false;
      el.name.placeholder = 'Optional: the invitation names you';
    }

    el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const form = this.#readForm();
      if (!form) return;
      savePrefs({ displayName: form.displayName, spokenLanguage: form.spokenLanguage, listeningLanguage: form.listeningLanguage });
      handlers.join(form);
    });
    for (const input of [el.room, el.name]) input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
    el.mute.addEventListener('click', () => handlers.toggleMute());
    el.camera.addEventListener('click', () => handlers.toggleCamera());
    el.screen.addEventListener('click', () => handlers.toggleScreen());
    el.leave.addEventListener('click', () => handlers.leave());
    el.callSpoken.addEventListener('change', () => handlers.changeLanguages({ spokenLanguage: el.callSpoken.value }));
    el.callListening.addEventListener('change', () => handlers.changeLanguages({ listeningLanguage: el.callListening.value }));
  }

  setState(state: ConnectionState): void {
    const el = this.#el;
    el.status.dataset['state'] = state;
    el.statusText.textContent = STATE_TEXT[state];
    document.body.dataset['state'] = state;
    const inCall = state === 'connected' || state === 'reconnecting';
    el.joinView.hidden = inCall;
    el.callView.hidden = !inCall;
    el.joinButton.disabled = state === 'connecting';
    el.joinButton.textContent = state === 'connecting' ? 'Joining\u2026' : 'Join call';
    for (const button of [el.mute, el.camera, el.screen]) button.disabled = !inCall;
    if (!inCall && state !== 'connecting') el.room.focus({ preventScroll: true });
  }

  setLocal(local: LocalControls): void {
    const el = this.#el;
    el.roomTitle.textContent = local.roomId;
    el.peerCount.textContent = local.peerCount === 1 ? '1 other participant' : `${local.peerCount} other participants`;
    el.mute.setAttribute('aria-pressed', String(local.muted));
    setLabel(el.mute, !local.hasMic ? 'No microphone' : !local.allowed.mic ? 'Microphone not allowed' : local.muted ? 'Unmute' : 'Mute');
    el.mute.hidden = !local.hasMic && !local.muted;
    el.mute.disabled = !local.allowed.mic;
    el.camera.disabled = !local.allowed.camera && !local.cameraOn;
    el.screen.disabled = !local.allowed.screen && !local.screenOn;
    el.micNotice.hidden = local.micNotice === null;
    el.micNotice.dataset['testid'] = local.micNotice ?? 'mic-notice';
    el.micNotice.textContent = local.micNotice ? MIC_NOTICE_TEXT[local.micNotice] : '';
    el.camera.setAttribute('aria-pressed', String(local.cameraOn));
    setLabel(el.camera, local.cameraOn ? 'Stop camera' : 'Start camera');
    el.screen.setAttribute('aria-pressed', String(local.screenOn));
    setLabel(el.screen, local.screenOn ? 'Stop sharing' : 'Share screen');
    el.screen.hidden = !navigator.mediaDevices?.getDisplayMedia;
    el.callSpoken.value = local.spokenLanguage;
    el.callListening.value = local.listeningLanguage;
  }

  /** Says why the call ended when a moderator ended it (null: nothing to say). */
  setEnded(text: string | null): void {
    this.#el.ended.hidden = text === null;
    this.#el.ended.textContent = text ?? '';
  }

  #readForm(): JoinForm | null {
    const el = this.#el;
    const roomId = el.room.value.trim();
    const displayName = el.name.value.trim();
    let firstInvalid: HTMLInputElement | null = null;
    for (const [input, ok] of [[el.room, roomId !== ''], [el.name, displayName !== '' || !el.name.required]] as const) {
      input.setAttribute('aria-invalid', String(!ok));
      if (!ok) firstInvalid ??= input;
    }
    if (firstInvalid) {
      firstInvalid.focus();
      return null;
    }
    return { roomId, displayName: displayName || 'Guest', spokenLanguage: el.spoken.value, listeningLanguage: el.listening.value };
  }
}

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element;
}

function fillLanguages(select: HTMLSelectElement): void {
  select.replaceChildren(...LANGUAGES.map((l) => new Option(`${l.label} (${l.code})`, l.code)));
  select.value = DEFAULT_LANGUAGE;
}

function setLabel(button: HTMLButtonElement, text: string): void {
  const label = button.querySelector('.label');
  if (label) label.textContent = text;
}

type Prefs = { displayName?: string; spokenLanguage?: string; listeningLanguage?: string };

function loadPrefs(): Prefs {
  try {
    const prefs = JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}') as Prefs;
    const known = (code: string | undefined): string | undefined => (LANGUAGES.some((l) => l.code === code) ? code : undefined);
    return { displayName: prefs.displayName, spokenLanguage: known(prefs.spokenLanguage), listeningLanguage: known(prefs.listeningLanguage) };
  } catch {
    return {};
  }
}

function savePrefs(prefs: Prefs): void {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // storage may be off (private mode); the form still works
  }
}
