import { describe, expect, it } from 'vitest';
import { ClientError, ClientErrors, REPLICA_DRAINING } from './errors.js';
import { canJoin, initialState, MAX_DRAIN_HOPS, MOVE_TIMEOUT_MS, shown, step } from './sessionMachine.js';
import type { SessionEffect, SessionEvent, SessionState, StateName } from './sessionMachine.js';

const PAGE = 'http://gw-1.test';
const OTHER = 'http://gw-2.test';
const THIRD = 'http://gw-3.test';

/** An event built from the state it is sent in, so tags (`call`, `gen`) are the current ones unless a test pins old ones. */
type Ev = SessionEvent | ((s: SessionState) => SessionEvent);

/** Feeds `events` in order; returns the last state and every effect on the way. */
function drive(state: SessionState, ...events: Ev[]): { state: SessionState; effects: SessionEffect[] } {
  const effects: SessionEffect[] = [];
  for (const ev of events) {
    const next = step(state, typeof ev === 'function' ? ev(state) : ev);
    state = next.state;
    effects.push(...next.effects);
  }
  return { state, effects };
}

const types = (effects: SessionEffect[]): string[] => effects.map((e) => e.type);
const err = (code: string, data: Record<string, unknown> | null = null): ClientError => new ClientError(code, code, data);

const join: Ev = { type: 'user.join' };
const leave: Ev = { type: 'user.leave' };
const prepared = (located: string | null = null, token = 'tok-1'): Ev => (s) => ({ type: 'prepare.done', call: s.call, token, located });
const opened = (url = PAGE): Ev => (s) => ({ type: 'socket.opened', call: s.call, url });
const closed = (retrying = true): Ev => (s) => ({ type: 'socket.closed', call: s.call, retrying });
const ended = (error: ClientError | null): Ev => (s) => ({ type: 'socket.ended', call: s.call, error });
const announce = (reconnect: boolean): Ev => (s) => ({ type: 'server.disconnecting', call: s.call, reconnect });
const joinDone: Ev = (s) => ({ type: 'join.done', gen: s.gen });
const joinFailed = (error: ClientError): Ev => (s) => ({ type: 'join.failed', gen: s.gen, error });
const renewedTo = (token: string): Ev => (s) => ({ type: 'token.renewed', gen: s.gen, token });

const fresh = (canRenewToken = true): SessionState => initialState({ pageUrl: PAGE, canRenewToken });
const inCall = (canRenewToken = true): SessionState => drive(fresh(canRenewToken), join, prepared(), opened(), joinDone).state;
const draining = (url: string | null): ClientError => err(REPLICA_DRAINING, url ? { url } : null);

/** One way into every state. */
const REACH: Record<StateName, () => SessionState> = {
  idle: () => fresh(),
  preparing: () => drive(fresh(), join).state,
  opening: () => drive(fresh(), join, prepared()).state,
  joining: () => drive(fresh(), join, prepared(), opened()).state,
  hopping: () => drive(fresh(), join, prepared(), opened(), joinFailed(draining(OTHER))).state,
  connected: () => inCall(),
  waiting: () => drive(inCall(), closed()).state,
  rejoining: () => drive(inCall(), closed(), opened()).state,
  renewing: () => drive(inCall(), closed(), opened(), joinFailed(err('ERR_TOKEN_USED'))).state,
  disconnected: () => drive(fresh(), join, prepared(), opened(), joinFailed(err('ERR_ROOM_FULL'))).state,
};

describe('session machine: states', () => {
  it('reaches every state, each shown to the page as its connection state', () => {
    const seen = Object.fromEntries(Object.entries(REACH).map(([name, reach]) => [name, [reach().name, shown(reach())]]));
    expect(seen).toEqual({
      idle: ['idle', 'idle'],
      preparing: ['preparing', 'connecting'],
      opening: ['opening', 'connecting'],
      joining: ['joining', 'connecting'],
      hopping: ['hopping', 'connecting'],
      connected: ['connected', 'connected'],
      waiting: ['waiting', 'reconnecting'],
      rejoining: ['rejoining', 'reconnecting'],
      renewing: ['renewing', 'reconnecting'],
      disconnected: ['disconnected', 'disconnected'],
    });
  });

  it('starts a call only from idle or disconnected, and ignores a join while one is going on', () => {
    const joinable = Object.entries(REACH).filter(([, reach]) => canJoin(reach())).map(([name]) => name);
    expect(joinable).toEqual(['idle', 'disconnected']);
    const busy = REACH.connected();
    expect(step(busy, { type: 'user.join' })).toEqual({ state: busy, effects: [] });
  });
});

describe('session machine: the first join', () => {
  it('prepares, opens the socket, joins, and settles join() once media is up', () => {
    let { state, effects } = drive(fresh(), join);
    expect(state.name).toBe('preparing');
    expect(effects).toEqual([{ type: 'prepare', call: state.call }]);

    ({ state, effects } = drive(state, prepared(null, 'tok-A')));
    expect(state).toMatchObject({ name: 'opening', token: 'tok-A' });
    expect(effects).toEqual([{ type: 'connect', call: state.call, replica: null, replicas: [PAGE] }]);

    ({ state, effects } = drive(state, opened()));
    expect(state.name).toBe('joining');
    expect(effects).toEqual([{ type: 'join', gen: state.gen, token: 'tok-A' }]);

    ({ state, effects } = drive(state, joinDone));
    expect(state).toMatchObject({ name: 'connected', reconnects: 0, url: PAGE });
    expect(effects).toEqual([{ type: 'resetBackoff' }, { type: 'settle', error: null }]);
  });

  it('goes first to the replica the cluster suggested, keeping the page own one as the fallback', () => {
    expect(drive(fresh(), join, prepared(OTHER)).effects.at(-1)).toMatchObject({ replica: OTHER, replicas: [OTHER, PAGE] });
    // The suggestion is the page's own replica (as a socket URL): nothing to move to.
    expect(drive(fresh(), join, prepared('ws://gw-1.test/ws')).effects.at(-1)).toMatchObject({ replica: null, replicas: [PAGE] });
  });

  it('fails join() when the token or the microphone cannot be had', () => {
    const error = err(ClientErrors.MEDIA_DEVICE);
    const { state, effects } = drive(fresh(), join, (s) => ({ type: 'prepare.failed', call: s.call, error }));
    expect(state.name).toBe('disconnected');
    expect(effects).toEqual([
      { type: 'prepare', call: 1 },
      { type: 'teardown' },
      { type: 'close', error, goodbye: false },
      { type: 'stopLocal' },
      { type: 'report', error },
      { type: 'settle', error },
    ]);
  });

  it('fails join() when the first socket never opens', () => {
    const error = err(ClientErrors.CONNECT_FAILED);
    const { state, effects } = drive(fresh(), join, prepared(), closed(false), ended(error));
    expect(state.name).toBe('disconnected');
    expect(effects.at(-1)).toEqual({ type: 'settle', error });
  });

  it('gives up on a drop during the first join instead of re-joining', () => {
    const { state, effects } = drive(REACH.joining(), closed(), joinFailed(err(ClientErrors.SOCKET_CLOSED)));
    expect(state.name).toBe('disconnected');
    expect(types(effects)).not.toContain('retry');
    expect(effects.at(-1)).toMatchObject({ type: 'settle', error: { code: ClientErrors.SOCKET_CLOSED } });
  });

  it('does not retry a refusal that cannot succeed (room full)', () => {
    const error = err('ERR_ROOM_FULL');
    const { state, effects } = drive(REACH.joining(), joinFailed(error));
    expect(state.name).toBe('disconnected');
    expect(types(effects)).toEqual(['teardown', 'close', 'stopLocal', 'report', 'settle']);
    expect(effects).toContainEqual({ type: 'close', error, goodbye: false });
  });
});

describe('session machine: drain hops on the first join', () => {
  it('follows a draining replica to the one it names and joins there', () => {
    let { state, effects } = drive(REACH.joining(), joinFailed(draining(OTHER)));
    expect(state).toMatchObject({ name: 'hopping', hops: 1 });
    expect(effects).toEqual([
      { type: 'moveTo', url: OTHER, reason: REPLICA_DRAINING },
      { type: 'hopTimer', gen: state.gen, ms: MOVE_TIMEOUT_MS },
    ]);
    // moveTo makes the client report the close of the old socket: not a reason to give up.
    ({ state, effects } = drive(state, closed(), opened(OTHER)));
    expect(state).toMatchObject({ name: 'joining', url: OTHER });
    expect(effects).toEqual([{ type: 'join', gen: state.gen, token: 'tok-1' }]);
    ({ state } = drive(state, joinDone));
    expect(state).toMatchObject({ name: 'connected', url: OTHER, hops: 0, reconnects: 0 });
  });

  it(`gives up after ${MAX_DRAIN_HOPS} draining replicas in a row`, () => {
    let state = REACH.joining();
    for (let i = 0; i < MAX_DRAIN_HOPS; i++) state = drive(state, joinFailed(draining(OTHER)), opened(OTHER)).state;
    expect(state).toMatchObject({ name: 'joining', hops: MAX_DRAIN_HOPS });
    const { state: last, effects } = drive(state, joinFailed(draining(THIRD)));
    expect(last.name).toBe('disconnected');
    expect(effects.at(-1)).toMatchObject({ type: 'settle', error: { code: REPLICA_DRAINING } });
  });

  it('gives up when the named replica does not answer in time, but not once it has', () => {
    const hopping = REACH.hopping();
    const timeout: SessionEvent = { type: 'hop.timeout', gen: hopping.gen };
    const { state, effects } = drive(hopping, timeout);
    expect(state.name).toBe('disconnected');
    expect(effects).toContainEqual({ type: 'report', error: expect.objectContaining({ code: ClientErrors.CONNECT_FAILED }) });
    // The same timer firing after the socket opened is stale.
    expect(drive(hopping, opened(OTHER), timeout).state.name).toBe('joining');
  });
});

describe('session machine: staying in the call', () => {
  it('re-joins after a drop, and starts the backoff over only once a re-join completed', () => {
    let { state, effects } = drive(inCall(), closed());
    expect(state.name).toBe('waiting');
    expect(effects).toEqual([{ type: 'teardown' }]);

    // Three rounds that fail: each retries the same replica and none resets the backoff, so the client's delay keeps growing.
    const rounds = drive(state, opened(), joinFailed(err(ClientErrors.TIMEOUT)), closed(), opened(), joinFailed(err(ClientErrors.SOCKET_CLOSED)), closed(), opened(), joinFailed(err('ERR_INTERNAL')), closed());
    expect(rounds.state.name).toBe('waiting');
    expect(types(rounds.effects)).not.toContain('resetBackoff');
    expect(rounds.effects.filter((e) => e.type === 'retry')).toEqual([
      { type: 'retry', reason: ClientErrors.TIMEOUT },
      { type: 'retry', reason: ClientErrors.SOCKET_CLOSED },
      { type: 'retry', reason: 'ERR_INTERNAL' },
    ]);
    // A drop mid-join is no news to the user; other failures are shown.
    expect(rounds.effects.filter((e) => e.type === 'report').map((e) => (e as { error: ClientError }).error.code)).toEqual([ClientErrors.TIMEOUT, 'ERR_INTERNAL']);

    ({ state, effects } = drive(rounds.state, opened()));
    expect(state.name).toBe('rejoining');
    expect(effects).toEqual([{ type: 'teardown' }, { type: 'join', gen: state.gen, token: 'tok-1' }]);
    ({ state, effects } = drive(state, joinDone));
    expect(state).toMatchObject({ name: 'connected', reconnects: 1 });
    expect(effects).toEqual([{ type: 'resetBackoff' }]); // no settle: join() settled long ago

    expect(drive(state, closed(), opened(), joinDone).state.reconnects).toBe(2);
  });

  it('asks for a new socket when a media transport fails', () => {
    const state = inCall();
    expect(step(state, { type: 'media.failed', gen: state.gen, reason: 'send transport failed' }).effects).toEqual([{ type: 'retry', reason: 'send transport failed' }]);
  });

  it('ends the call when the client gives up, and ignores the close that announces it', () => {
    const error = err('ERR_SESSION_REPLACED');
    const quiet = drive(inCall(), closed(false));
    expect(quiet).toMatchObject({ state: { name: 'connected' }, effects: [] });
    const { state, effects } = drive(quiet.state, ended(error));
    expect(state.name).toBe('disconnected');
    expect(effects).toEqual([{ type: 'teardown' }, { type: 'close', error, goodbye: false }, { type: 'stopLocal' }, { type: 'report', error }]);
  });

  it('follows a drain: the server says it will close, then the socket reopens at the replica it named', () => {
    let { state, effects } = drive(inCall(), announce(true));
    expect(state.name).toBe('waiting');
    expect(effects).toEqual([]); // media goes with the close, not before
    ({ state, effects } = drive(state, closed()));
    expect(effects).toEqual([{ type: 'teardown' }]);
    ({ state } = drive(state, opened(OTHER), joinDone));
    expect(state).toMatchObject({ name: 'connected', url: OTHER, reconnects: 1 });
    // A goodbye without reconnect leaves the state to the close that follows.
    expect(drive(inCall(), announce(false)).state.name).toBe('connected');
  });

  it('moves at once to the replica a draining one names when it refuses the re-join', () => {
    const { state, effects } = drive(REACH.rejoining(), joinFailed(draining(THIRD)));
    expect(state.name).toBe('waiting');
    expect(effects).toEqual([{ type: 'teardown' }, { type: 'moveTo', url: THIRD, reason: REPLICA_DRAINING }]);
  });

  it('fails over: after failed rounds on its replica, re-joins wherever the client reopened, with the same token', () => {
    // A failed round, then two connects to the same replica that never open (each a close with a retry).
    const failing = drive(inCall(), closed(), opened(), joinFailed(err(ClientErrors.TIMEOUT)), closed(), closed(), closed());
    expect(failing.state).toMatchObject({ name: 'waiting', url: PAGE });
    const { state, effects } = drive(failing.state, opened(OTHER));
    expect(state).toMatchObject({ name: 'rejoining', url: OTHER });
    expect(effects.at(-1)).toEqual({ type: 'join', gen: state.gen, token: 'tok-1' });
    expect(drive(state, joinDone).state).toMatchObject({ name: 'connected', url: OTHER, reconnects: 1 });
  });
});

describe('session machine: token renewal', () => {
  it('mints a fresh dev token when the re-join says ours is spent, and re-joins with it', () => {
    let { state, effects } = drive(REACH.rejoining(), joinFailed(err('ERR_TOKEN_USED')));
    expect(state.name).toBe('renewing');
    expect(effects).toEqual([{ type: 'teardown' }, { type: 'renewToken', gen: state.gen }]);
    // The socket may come and go meanwhile; the renewal still counts.
    ({ state, effects } = drive(state, closed(), opened(), renewedTo('tok-2')));
    expect(state).toMatchObject({ name: 'waiting', token: 'tok-2' });
    expect(effects).toEqual([{ type: 'retry', reason: 'token renewed' }]);
    ({ state, effects } = drive(state, closed(), opened()));
    expect(effects.at(-1)).toEqual({ type: 'join', gen: state.gen, token: 'tok-2' });
  });

  it('retries after the backoff when no token can be had right now', () => {
    const renewing = REACH.renewing();
    const { state, effects } = drive(renewing, { type: 'token.failed', gen: renewing.gen, error: err(ClientErrors.TOKEN_UNAVAILABLE) });
    expect(state.name).toBe('waiting');
    expect(types(effects)).toEqual(['teardown', 'report', 'retry']);
  });

  it('gives up on an expired token from a ?token= link: only its issuer can make a new one', () => {
    const { state, effects } = drive(inCall(false), closed(), opened(), joinFailed(err('ERR_TOKEN_EXPIRED')));
    expect(state.name).toBe('disconnected');
    expect(types(effects)).not.toContain('renewToken');
    expect(effects).toContainEqual({ type: 'report', error: expect.objectContaining({ code: 'ERR_TOKEN_EXPIRED' }) });
  });

  it('gives up on a re-join refused for good, and no longer hears that client', () => {
    const error = err('ERR_PEER_REMOVED');
    const { state, effects } = drive(REACH.rejoining(), joinFailed(error));
    expect(state.name).toBe('disconnected');
    expect(effects).toEqual([{ type: 'teardown' }, { type: 'close', error, goodbye: false }, { type: 'stopLocal' }, { type: 'report', error }]);
    // close() makes the old client emit `ended` with its old call: already handled.
    const late: SessionEvent = { type: 'socket.ended', call: state.call - 1, error };
    expect(step(state, late)).toEqual({ state, effects: [] });
  });
});

describe('session machine: leaving', () => {
  it.each(Object.keys(REACH) as StateName[])('leaves from %s: says goodbye, stops everything, returns to idle', (name) => {
    const before = REACH[name]();
    const { state, effects } = step(before, { type: 'user.leave' });
    expect(state.name).toBe('idle');
    expect(state.call).toBe(before.call + 1);
    const firstJoin = ['preparing', 'opening', 'joining', 'hopping'].includes(name);
    expect(effects).toEqual([
      { type: 'teardown' },
      { type: 'close', error: null, goodbye: true },
      { type: 'stopLocal' },
      { type: 'clearRoster' },
      // A join() still pending resolves quietly: the user cancelled it.
      ...(firstJoin ? [{ type: 'settle', error: null }] : []),
    ]);
  });

  it('can join again after leaving, from scratch', () => {
    const { state, effects } = drive(inCall(), closed(), opened(), joinDone, leave, join);
    expect(state).toMatchObject({ name: 'preparing', reconnects: 0, token: '' });
    expect(effects.at(-1)).toEqual({ type: 'prepare', call: state.call });
  });
});

describe('session machine: stale callbacks', () => {
  it('ignores what the join abandoned by leave finds later, but stops the microphone it captured', () => {
    const preparing = REACH.preparing();
    const left = step(preparing, { type: 'user.leave' }).state;
    const late = step(left, { type: 'prepare.done', call: preparing.call, token: 't', located: null });
    expect(late).toEqual({ state: left, effects: [{ type: 'stopLocal' }] });
    // Joined again meanwhile: the new call shares the microphone, leave it be.
    const again = step(left, { type: 'user.join' }).state;
    expect(step(again, { type: 'prepare.failed', call: preparing.call, error: err('X') })).toEqual({ state: again, effects: [] });
  });

  it('ignores a join that a drop overtook, and the failure of an old media session', () => {
    const rejoining = REACH.rejoining();
    const waiting = drive(rejoining, closed()).state;
    expect(step(waiting, { type: 'join.done', gen: rejoining.gen })).toEqual({ state: waiting, effects: [] });
    // Without the gen check, this would retry (close) the socket that has just reopened.
    const reopened = drive(waiting, opened()).state;
    expect(step(reopened, { type: 'join.failed', gen: rejoining.gen, error: err(ClientErrors.SOCKET_CLOSED) })).toEqual({ state: reopened, effects: [] });
    const connected = inCall();
    const later = drive(connected, closed(), opened(), joinDone).state;
    expect(step(later, { type: 'media.failed', gen: connected.gen, reason: 'old' })).toEqual({ state: later, effects: [] });
  });

  it('ignores the socket of a call that ended, even in the next call', () => {
    const first = inCall();
    const next = drive(first, leave, join, prepared(), opened(), joinDone).state;
    for (const event of [
      { type: 'socket.closed', call: first.call, retrying: true },
      { type: 'socket.opened', call: first.call, url: OTHER },
      { type: 'socket.ended', call: first.call, error: err('ERR_PEER_REMOVED') },
      { type: 'server.disconnecting', call: first.call, reconnect: true },
    ] as SessionEvent[]) {
      expect(step(next, event)).toEqual({ state: next, effects: [] });
    }
  });

  it('ignores a token renewal that a leave overtook', () => {
    const renewing = REACH.renewing();
    const left = step(renewing, { type: 'user.leave' }).state;
    expect(step(left, { type: 'token.renewed', gen: renewing.gen, token: 'late' })).toEqual({ state: left, effects: [] });
  });
});
