import { describe, expect, it } from 'vitest';
import type { PeerInfo, PeerPermissions, ProducerInfo } from '../protocol/messages.js';
import { ClientError, FATAL_JOIN_ERRORS, FINAL_DISCONNECTS } from './errors.js';
import { audioPermission, endedMessage, INITIAL_MIC, micMuted, moderationView, moderatorMuted, userToggled } from './moderation.js';
import type { MicState } from './moderation.js';
import { initialState, shown, step } from './sessionMachine.js';
import type { SessionEvent, SessionState } from './sessionMachine.js';

const SPEAKER: PeerPermissions = { publishAudio: true, publishVideo: true, publishScreen: true, subscribe: true, translation: true, moderate: false };
const ADMIN: PeerPermissions = { ...SPEAKER, moderate: true };

const producer = (peerId: string, source: string, paused = false): ProducerInfo => ({
  producerId: `${peerId}-${source}`,
  peerId,
  kind: source === 'cam' ? 'video' : 'audio',
  paused,
  source,
});

const peer = (peerId: string, producers: ProducerInfo[]): PeerInfo => ({
  peerId,
  displayName: peerId.toUpperCase(),
  role: 'speaker',
  spokenLanguage: 'en',
  listeningLanguage: 'en',
  producers,
});

describe('moderationView', () => {
  const peers = [peer('ana', [producer('ana', 'cam'), producer('ana', 'mic', true)]), peer('bo', [producer('bo', 'translation:es')])];

  it('shows nothing without `moderate`, or before the join says', () => {
    expect(moderationView(SPEAKER, peers)).toBeNull();
    expect(moderationView(null, peers)).toBeNull();
  });

  it('gives every other participant Remove, and Mute/Unmute for their microphone when they send one', () => {
    const view = moderationView(ADMIN, peers);
    expect([...(view?.peers.keys() ?? [])]).toEqual(['ana', 'bo']);
    expect(view?.peers.get('ana')).toEqual({ peerId: 'ana', displayName: 'ANA', mic: { producerId: 'ana-mic', muted: true } });
    expect(view?.peers.get('bo')?.mic).toBeNull(); // a translated voice is not their microphone
  });

  it('shows controls with an empty room too (End room for everyone)', () => {
    expect(moderationView(ADMIN, [])?.peers.size).toBe(0);
  });
});

describe('the microphone under moderation', () => {
  const run = (s: MicState, ...steps: Array<(s: MicState) => { state: MicState }>): MicState => steps.reduce((acc, f) => f(acc).state, s);

  it("a moderator's mute mutes it here without asking the server again, and says so", () => {
    const { state, tellServer } = moderatorMuted(INITIAL_MIC, true);
    expect(micMuted(state)).toBe(true);
    expect(state.notice).toBe('moderator-muted');
    expect(tellServer).toBe(false);
  });

  it("the moderator's unmute brings the mic back only if the user's own toggle was on", () => {
    const wasOn = run(INITIAL_MIC, (s) => moderatorMuted(s, true));
    const back = moderatorMuted(wasOn, false);
    expect(micMuted(back.state)).toBe(false);
    expect(back.state.notice).toBe('moderator-unmuted');
    expect(back.tellServer).toBe(false); // the server resumed it already

    const wasOff = run(INITIAL_MIC, (s) => userToggled(s, true), (s) => moderatorMuted(s, true));
    const stays = moderatorMuted(wasOff, false);
    expect(micMuted(stays.state)).toBe(true);
    expect(stays.tellServer).toBe(true); // the server resumed it: pause it there again
  });

  it("the user may unmute themselves after a moderator's mute, and that clears the notice", () => {
    const muted = run(INITIAL_MIC, (s) => moderatorMuted(s, true));
    const { state, tellServer } = userToggled(muted, false);
    expect(micMuted(state)).toBe(false);
    expect(state).toEqual(INITIAL_MIC);
    expect(tellServer).toBe(true);
  });

  it('taking publishAudio away drops the producer and keeps the mic muted until it is given back', () => {
    const taken = audioPermission(INITIAL_MIC, false);
    expect(taken).toMatchObject({ drop: true, produce: false });
    expect(micMuted(taken.state)).toBe(true);
    expect(taken.state.notice).toBe('mic-forbidden');
    // The toggle cannot unmute it meanwhile, and the notice stays.
    expect(micMuted(userToggled(taken.state, false).state)).toBe(true);
    expect(userToggled(taken.state, false).state.notice).toBe('mic-forbidden');

    const given = audioPermission(taken.state, true);
    expect(given).toMatchObject({ drop: false, produce: true });
    expect(micMuted(given.state)).toBe(false);
    expect(given.state.notice).toBeNull();
  });

  it('the same permission again changes nothing (a re-join repeats it)', () => {
    expect(audioPermission(INITIAL_MIC, true)).toEqual({ state: INITIAL_MIC, drop: false, produce: false });
    const taken = audioPermission(INITIAL_MIC, false).state;
    expect(audioPermission(taken, false)).toEqual({ state: taken, drop: false, produce: false });
  });
});

describe('endedMessage', () => {
  const removed = (message: string) => ({ code: 'ERR_PEER_REMOVED', message });
  const closed = (message: string) => ({ code: 'ERR_ROOM_CLOSED', message });

  it("says the moderator's reason when there is one", () => {
    expect(endedMessage(removed('spam'))).toBe('You were removed from the room: spam');
    expect(endedMessage(removed('The peer was removed from the room: spam'))).toBe('You were removed from the room: spam');
    expect(endedMessage(closed('meeting over'))).toBe('The room was ended by a moderator: meeting over');
  });

  it('says it plainly without one', () => {
    expect(endedMessage(removed(''))).toBe('You were removed from the room.');
    expect(endedMessage(removed('The peer was removed from the room'))).toBe('You were removed from the room.');
    expect(endedMessage(closed('The room was ended by a moderator'))).toBe('The room was ended by a moderator.');
  });

  it("keeps the signaling client's own text and tells the moderator who ended the room", () => {
    expect(endedMessage(removed('You were removed from the room (kicked)'))).toBe('You were removed from the room (kicked)');
    expect(endedMessage(closed('bye'), true)).toBe('You ended the room for everyone.');
  });

  it('has nothing to say about other errors', () => {
    expect(endedMessage({ code: 'ERR_FORBIDDEN', message: 'no' })).toBeNull();
  });
});

describe('removed or the room closed ends the call for good', () => {
  const PAGE = 'http://gw.test';
  const connected = (): SessionState => {
    let s = initialState({ pageUrl: PAGE, canRenewToken: false });
    const events: Array<(s: SessionState) => SessionEvent> = [
      () => ({ type: 'user.join' }),
      (s) => ({ type: 'prepare.done', call: s.call, token: 't', located: null }),
      (s) => ({ type: 'socket.opened', call: s.call, url: PAGE }),
      (s) => ({ type: 'join.done', gen: s.gen }),
    ];
    for (const e of events) s = step(s, e(s)).state;
    return s;
  };

  it.each([...FINAL_DISCONNECTS])('%s: the client ends, the page shows it and does not reconnect', (code) => {
    const s = connected();
    const announced = step(s, { type: 'server.disconnecting', call: s.call, reconnect: false });
    expect(shown(announced.state)).toBe('connected');
    const error = new ClientError(code, 'spam');
    const { state, effects } = step(announced.state, { type: 'socket.ended', call: s.call, error });
    expect(shown(state)).toBe('disconnected');
    expect(effects).toContainEqual({ type: 'report', error });
    expect(effects.some((e) => e.type === 'retry' || e.type === 'join')).toBe(false);
  });

  it.each([...FINAL_DISCONNECTS])('%s refusing a re-join after a drop is final too', (code) => {
    expect(FATAL_JOIN_ERRORS.has(code)).toBe(true);
    let s = connected();
    s = step(s, { type: 'socket.closed', call: s.call, retrying: true }).state;
    s = step(s, { type: 'socket.opened', call: s.call, url: PAGE }).state;
    const { state } = step(s, { type: 'join.failed', gen: s.gen, error: new ClientError(code, 'spam') });
    expect(shown(state)).toBe('disconnected');
  });
});
