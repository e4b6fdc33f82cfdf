/** What the page reads from its own URL, and the choices it offers. */

export type Language = { code: string; label: string };

export const LANGUAGES: readonly Language[] = [
  { code: 'en', label: 'English' },
  { code: 'es', label: 'Spanish' },
  { code: 'vi', label: 'Vietnamese' },
  { code: 'fr', label: 'French' },
  { code: 'de', label: 'German' },
];

export const DEFAULT_LANGUAGE = 'en';

export function languageLabel(code: string): string {
  return LANGUAGES.find((l) => l.code === code)?.label ?? code;
}

export type PageConfig = {
  /** `?token=`: a join token to use instead of asking /dev/token. */
  token: string | null;
  /** `?room=`: pre-fills the room field. */
  room: string | null;
  /** `?audioProcessing=off` turns off AGC, echo cancellation and noise suppression. */
  audioProcessing: boolean;
  /** `?role=listener` joins without a microphone (dev tokens only). */
  role: 'speaker' | 'listener' | null;
  /** `?relay=1` sends media only through the gateway's TURN servers (to check a network that allows nothing else). */
  relay: boolean;
  /** The gateway's WebSocket URL (`/ws` next to the page). */
  socketUrl: string;
  /** The dev token endpoint next to the page. */
  devTokenUrl: string;
};

export function readPageConfig(location: Location = window.location): PageConfig {
  const params = new URLSearchParams(location.search);
  const role = params.get('role');
  const socket = new URL('ws', location.href);
  socket.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket.search = '';
  socket.hash = '';
  return {
    token: params.get('token') || null,
    room: params.get('room') || null,
    audioProcessing: params.get('audioProcessing') !== 'off',
    role: role === 'listener' || role === 'speaker' ? role : null,
    relay: params.get('relay') === '1',
    socketUrl: socket.toString(),
    devTokenUrl: new URL('dev/token', location.href).pathname,
  };
}
