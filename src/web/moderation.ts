/**
 * Moderation as this page sees it, as pure decisions (no DOM, no I/O; moderation.test.ts drives them):
 * which admin controls to show, what our microphone does when a moderator mutes or unmutes it or the
 * server takes `publishAudio` away, and what to say when a moderator ended our call. LocalMic
 * (localMic.ts), ModerationControls (moderationControls.ts) and main.ts only apply what these return.
 *
 * The microphone, LiveKit-style: a moderator's mute is a mute, not a lock. It pauses our producer on the
 * server; the page pauses it here too and shows the mic as muted ("Muted by a moderator"). The user may
 * unmute themselves (to keep someone quiet for good, a moderator takes `publishAudio` away instead). When
 * the moderator unmutes, the mic goes live again only if the user's own toggle was on when they were
 * muted (and they have not touched it since); a user who had muted themselves stays muted, and the page
 * pauses the producer on the server again, since the moderator's unmute resumed it there.
 */

import type { PeerInfo, PeerPermissions } from '../protocol/messages.js';
import { PEER_REMOVED, ROOM_CLOSED } from './errors.js';

/** What a moderator can do to one other participant. */
export type PeerControls = {
  peerId: string;
  displayName: string;
  /** Their microphone producer and whether it is paused; null when they send none. */
  mic: { producerId: string; muted: boolean } | null;
};

/** The admin controls to show: null when this page may not moderate (no controls at all). */
export type ModerationView = { peers: ReadonlyMap<string, PeerControls> } | null;

/** Controls for every other participant when `permissions` include `moderate`; null otherwise (or not yet joined). */
export function moderationView(permissions: PeerPermissions | null, peers: readonly PeerInfo[]): ModerationView {
  if (!permissions?.moderate) return null;
  const controls = new Map<string, PeerControls>();
  for (const peer of peers) {
    const mic = peer.producers.find((p) => p.kind === 'audio' && p.source === 'mic');
    controls.set(peer.peerId, {
      peerId: peer.peerId,
      displayName: peer.displayName,
      mic: mic ? { producerId: mic.producerId, muted: mic.paused } : null,
    });
  }
  return { peers: controls };
}

/** What the page says about its microphone: its `data-testid` doubles as the kind. */
export type MicNotice = 'moderator-muted' | 'moderator-unmuted' | 'mic-forbidden';

export const MIC_NOTICE_TEXT: Record<MicNotice, string> = {
  'moderator-muted': 'Muted by a moderator. You can unmute yourself when you are ready to speak.',
  'moderator-unmuted': 'A moderator allowed your microphone again.',
  'mic-forbidden': 'You may not send audio in this room right now.',
};

export type MicState = {
  /** The user's own toggle. */
  readonly userMuted: boolean;
  /** A moderator muted the microphone and neither they nor the user has unmuted it since. */
  readonly moderatorMuted: boolean;
  /** `publishAudio`: false while the server does not let us send audio (the producer is closed, not paused). */
  readonly allowed: boolean;
  readonly notice: MicNotice | null;
};

export const INITIAL_MIC: MicState = { userMuted: false, moderatorMuted: false, allowed: true, notice: null };

/** Whether the microphone sends nothing now (the toggle shows muted). */
export function micMuted(s: MicState): boolean {
  return s.userMuted || s.moderatorMuted || !s.allowed;
}

/**
 * A change of the microphone: the new state, and whether the server must be told to pause or resume our
 * producer to match `micMuted(state)` (false when the server already did it, e.g. a moderator's mute).
 */
export type MicStep = { state: MicState; tellServer: boolean };

/** The user clicked Mute or Unmute; this overrides a moderator's mute. */
export function userToggled(s: MicState, muted: boolean): MicStep {
  const notice = s.notice === 'mic-forbidden' ? s.notice : null;
  return { state: { ...s, userMuted: muted, moderatorMuted: false, notice }, tellServer: true };
}

/** A `mutedByModerator` for our microphone: the server has already paused (or resumed) the producer. */
export function moderatorMuted(s: MicState, muted: boolean): MicStep {
  if (muted) return { state: { ...s, moderatorMuted: true, notice: 'moderator-muted' }, tellServer: false };
  const state: MicState = { ...s, moderatorMuted: false, notice: 'moderator-unmuted' };
  // The server resumed it; if our own toggle says muted, pause it there again.
  return { state, tellServer: micMuted(state) };
}

/** `publishAudio` changed (join response or `permissionsChanged`); `drop`: the server closed our producer, `produce`: send again. */
export function audioPermission(s: MicState, allowed: boolean): { state: MicState; drop: boolean; produce: boolean } {
  if (allowed === s.allowed) return { state: s, drop: false, produce: false };
  const notice = allowed ? (s.notice === 'mic-forbidden' ? null : s.notice) : 'mic-forbidden';
  return { state: { ...s, allowed, notice }, drop: !allowed, produce: allowed };
}

/** The reason a moderator gave, from a `disconnecting` message that may be empty or the catalogue's default text. */
function reasonOf(message: string, defaults: readonly string[]): string {
  const text = message.trim();
  for (const fallback of defaults) {
    if (text === fallback) return '';
    if (text.startsWith(`${fallback}: `)) return text.slice(fallback.length + 2).trim();
  }
  return text;
}

/** The catalogue's texts (src/errors.ts), which a server that has no reason to give may send as the message. */
const REMOVED_DEFAULTS = ['The peer was removed from the room'];
const CLOSED_DEFAULTS = ['The room was ended by a moderator'];

/**
 * What to tell the user when the call ended because they were removed or the room was closed; null for any
 * other error. `endedByMe`: this page asked for the room to close.
 */
export function endedMessage(error: { code: string; message: string }, endedByMe = false): string | null {
  if (error.code === PEER_REMOVED) {
    // The signaling client's own text for a close without a notification already says it all.
    if (error.message.startsWith('You were removed')) return error.message;
    const reason = reasonOf(error.message, REMOVED_DEFAULTS);
    return reason ? `You were removed from the room: ${reason}` : 'You were removed from the room.';
  }
  if (error.code === ROOM_CLOSED) {
    if (endedByMe) return 'You ended the room for everyone.';
    const reason = reasonOf(error.message, CLOSED_DEFAULTS);
    return reason ? `The room was ended by a moderator: ${reason}` : 'The room was ended by a moderator.';
  }
  return null;
}
