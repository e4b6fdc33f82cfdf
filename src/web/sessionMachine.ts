/**
 * The browser session's lifecycle, written down once: a pure state table. `step(state, event)` returns
 * the next state and the effects Session (session.ts) performs: it opens the socket, sends the join,
 * builds media, fetches tokens, and reports back with events. Nothing here does I/O, so the tests
 * drive it with plain calls.
 *
 * Two counters make late callbacks harmless (see `isCurrent`):
 * - `call` names the user's call attempt, bumped by join, leave and failure. Preparation results and
 *   socket events carry the call they belong to, so a client that was closed or replaced is not heard.
 * - `gen` names one attempt at media on the current socket, bumped when a join, a drain hop or a token
 *   renewal starts and when media is torn down. Their results carry it, so one that a drop overtook
 *   is dropped instead of installing a call on a dead socket or retrying a socket that is fine.
 *
 * Split of work with the SignalingClient: it picks the reconnect delay (backoff.ts) and moves to another
 * replica after failed connects (failover.ts). The session decides when that backoff starts over (only
 * once a re-join has completed with media), and whether a failed re-join retries the same replica,
 * follows a draining one, renews the token or gives up.
 *
 * States (shown to the page as a ConnectionState):
 *   idle                                              nothing going on
 *   preparing -> opening -> joining (<-> hopping)    the first join: token and microphone, socket, join
 *   connected                                         in the call
 *   waiting -> rejoining (-> renewing)                a re-join after the socket dropped
 *   disconnected                                      the call ended with an error
 */

import { ClientError, ClientErrors, drainTarget, FATAL_JOIN_ERRORS, RENEWABLE_TOKEN_ERRORS, REPLICA_DRAINING } from './errors.js';
import { sameReplica } from './failover.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** How many draining replicas in a row the first join follows before it gives up. */
export const MAX_DRAIN_HOPS = 3;
/** How long the first join waits for the socket to a replica a draining one named. */
export const MOVE_TIMEOUT_MS = 15_000;

export type StateName =
  | 'idle'
  | 'preparing' // token and microphone, and which replica to try first
  | 'opening' // the first socket is opening
  | 'joining' // the first join (and media) on an open socket
  | 'hopping' // the first join was refused by a draining replica: waiting for the socket to the one it named
  | 'connected'
  | 'waiting' // the socket dropped (or the server said it will): waiting for it to open again
  | 'rejoining' // joining again (same token, new media) on the reopened socket
  | 'renewing' // the server refused our dev token on a re-join: minting a fresh one
  | 'disconnected';

const SHOWN: Record<StateName, ConnectionState> = {
  idle: 'idle',
  preparing: 'connecting',
  opening: 'connecting',
  joining: 'connecting',
  hopping: 'connecting',
  connected: 'connected',
  waiting: 'reconnecting',
  rejoining: 'reconnecting',
  renewing: 'reconnecting',
  disconnected: 'disconnected',
};

export type SessionState = {
  readonly name: StateName;
  readonly call: number;
  readonly gen: number;
  /** The join token in use ('' before the first one arrives). */
  readonly token: string;
  /** Drain hops the first join has followed. */
  readonly hops: number;
  /** Successful re-joins (after a drop or a move to another replica) since the call started. */
  readonly reconnects: number;
  /** Base URL of the replica last connected to. */
  readonly url: string;
  /** Base URL of the page's own replica. */
  readonly pageUrl: string;
  /** The page minted its token (dev endpoint), so a spent or expired one can be replaced; not for a `?token=` link. */
  readonly canRenewToken: boolean;
};

export type SessionEvent =
  | { type: 'user.join' }
  | { type: 'user.leave' }
  | { type: 'prepare.done'; call: number; token: string; located: string | null }
  | { type: 'prepare.failed'; call: number; error: ClientError }
  | { type: 'socket.opened'; call: number; url: string }
  /** `retrying` is false when the client gives up (its `ended` follows). */
  | { type: 'socket.closed'; call: number; retrying: boolean }
  | { type: 'socket.ended'; call: number; error: ClientError | null }
  /** The server's `disconnecting` notification: it is about to close this socket. */
  | { type: 'server.disconnecting'; call: number; reconnect: boolean }
  | { type: 'join.done'; gen: number }
  | { type: 'join.failed'; gen: number; error: ClientError }
  /** A send or receive transport failed: the media needs a new socket. */
  | { type: 'media.failed'; gen: number; reason: string }
  | { type: 'hop.timeout'; gen: number }
  | { type: 'token.renewed'; gen: number; token: string }
  | { type: 'token.failed'; gen: number; error: ClientError };

export type SessionEffect =
  /** Get a token and the microphone, and ask the cluster where to go; answer prepare.done/failed. */
  | { type: 'prepare'; call: number }
  /** Open a SignalingClient to `replica` (null: the page's own), knowing `replicas`; wire its events with `call`. */
  | { type: 'connect'; call: number; replica: string | null; replicas: string[] }
  /** Join on the open socket with `token`, build media; answer join.done/failed with `gen`. */
  | { type: 'join'; gen: number; token: string }
  /** Close the media session (client side). */
  | { type: 'teardown' }
  /** Drop the socket and reconnect to the same replica after the backoff. */
  | { type: 'retry'; reason: string }
  /** Leave the socket for `url` at once (null: another replica, after the backoff). */
  | { type: 'moveTo'; url: string | null; reason: string }
  /** A join completed: the next drop starts from the shortest delay, and this replica is good. */
  | { type: 'resetBackoff' }
  /** Answer hop.timeout with `gen` after `ms`. */
  | { type: 'hopTimer'; gen: number; ms: number }
  /** Mint a fresh token; answer token.renewed/failed with `gen`. */
  | { type: 'renewToken'; gen: number }
  /** Stop the SignalingClient for good, reporting `error`; `goodbye` first tells the server we leave. */
  | { type: 'close'; error: ClientError | null; goodbye: boolean }
  /** Stop the microphone, camera and screen. */
  | { type: 'stopLocal' }
  /** Forget the roster and our peer id. */
  | { type: 'clearRoster' }
  | { type: 'report'; error: ClientError }
  /** Settle the promise of the pending join(): resolved with null, else rejected. */
  | { type: 'settle'; error: ClientError | null };

export type Step = { state: SessionState; effects: SessionEffect[] };

export function initialState(options: { pageUrl: string; canRenewToken: boolean }): SessionState {
  return { name: 'idle', call: 0, gen: 0, token: '', hops: 0, reconnects: 0, url: options.pageUrl, ...options };
}

/** What the page shows for `state`. */
export function shown(state: SessionState): ConnectionState {
  return SHOWN[state.name];
}

/** A new call can start only when none is going on. */
export function canJoin(state: SessionState): boolean {
  return state.name === 'idle' || state.name === 'disconnected';
}

/** Whether a callback tagged with `call` or `gen` still belongs to the present; older ones are ignored. */
export function isCurrent(state: SessionState, tag: { call: number } | { gen: number }): boolean {
  return 'call' in tag ? tag.call === state.call : tag.gen === state.gen;
}

type EventType = SessionEvent['type'];
type Handler<T extends EventType> = (s: SessionState, e: Extract<SessionEvent, { type: T }>) => Step;
type Handlers = { [T in EventType]?: Handler<T> };

const go = (s: SessionState, name: StateName, patch: Partial<SessionState>, effects: SessionEffect[] = []): Step => ({
  state: { ...s, ...patch, name },
  effects,
});

/** The state table. `user.leave` works from every state (see `step`); an event a state does not list is ignored. */
const TABLE: Record<StateName, Handlers> = {
  idle: { 'user.join': start },
  preparing: { 'prepare.done': connect, 'prepare.failed': (s, e) => fail(s, e.error) },
  opening: { 'socket.opened': joinNow, 'socket.ended': ended },
  joining: { 'join.done': joined, 'join.failed': firstJoinFailed, 'media.failed': retryMedia, 'socket.ended': ended },
  hopping: { 'socket.opened': joinNow, 'hop.timeout': (s) => fail(s, new ClientError(ClientErrors.CONNECT_FAILED, 'No replica answered')), 'socket.ended': ended },
  connected: { 'socket.closed': dropped, 'server.disconnecting': announced, 'socket.opened': rejoin, 'media.failed': retryMedia, 'socket.ended': ended },
  waiting: { 'socket.opened': rejoin, 'socket.closed': dropped, 'socket.ended': ended },
  rejoining: { 'join.done': joined, 'join.failed': (s, e) => rejoinFailed(s, e.error), 'media.failed': retryMedia, 'socket.closed': dropped, 'socket.opened': rejoin, 'socket.ended': ended },
  // The socket may drop and reopen while the token is minted: the renewal retries the socket anyway.
  renewing: { 'token.renewed': renewed, 'token.failed': (s, e) => rejoinFailed(s, e.error), 'socket.ended': ended },
  disconnected: { 'user.join': start },
};

export function step(s: SessionState, event: SessionEvent): Step {
  if (('call' in event || 'gen' in event) && !isCurrent(s, event)) {
    // A microphone the abandoned join captured after the user left would stay on: stop it.
    const late = (event.type === 'prepare.done' || event.type === 'prepare.failed') && s.name === 'idle';
    return { state: s, effects: late ? [{ type: 'stopLocal' }] : [] };
  }
  if (event.type === 'user.leave') return leave(s);
  // Wherever the socket opens (first replica, drain target, failover), that is where we are now.
  const at = event.type === 'socket.opened' ? { ...s, url: event.url } : s;
  const handler = TABLE[s.name][event.type] as Handler<typeof event.type> | undefined;
  return handler ? handler(at, event as never) : { state: at, effects: [] };
}

function start(s: SessionState): Step {
  return go(s, 'preparing', { call: s.call + 1, gen: s.gen + 1, token: '', hops: 0, reconnects: 0 }, [{ type: 'prepare', call: s.call + 1 }]);
}

/** Goes to the replica the cluster suggested for the room, keeping the page's own as the fallback. */
function connect(s: SessionState, e: Extract<SessionEvent, { type: 'prepare.done' }>): Step {
  const replica = e.located && !sameReplica(e.located, s.pageUrl) ? e.located : null;
  const replicas = replica ? [replica, s.pageUrl] : [s.pageUrl];
  return go(s, 'opening', { token: e.token }, [{ type: 'connect', call: s.call, replica, replicas }]);
}

/** The first join on an open socket (the first one, or the one a draining replica sent us to). */
function joinNow(s: SessionState): Step {
  return go(s, 'joining', { gen: s.gen + 1 }, [{ type: 'join', gen: s.gen + 1, token: s.token }]);
}

function joined(s: SessionState): Step {
  if (s.name === 'joining') return go(s, 'connected', { hops: 0 }, [{ type: 'resetBackoff' }, { type: 'settle', error: null }]);
  return go(s, 'connected', { reconnects: s.reconnects + 1 }, [{ type: 'resetBackoff' }]);
}

/** The first join gives up on any refusal but a draining replica's, which it follows a few times. */
function firstJoinFailed(s: SessionState, e: Extract<SessionEvent, { type: 'join.failed' }>): Step {
  if (e.error.code !== REPLICA_DRAINING || s.hops >= MAX_DRAIN_HOPS) return fail(s, e.error);
  const gen = s.gen + 1;
  return go(s, 'hopping', { gen, hops: s.hops + 1 }, [
    { type: 'moveTo', url: drainTarget(e.error), reason: REPLICA_DRAINING },
    { type: 'hopTimer', gen, ms: MOVE_TIMEOUT_MS },
  ]);
}

/** The socket dropped; the client reconnects on its own. Before the first join, the join fails instead. */
function dropped(s: SessionState, e: Extract<SessionEvent, { type: 'socket.closed' }>): Step {
  if (!e.retrying) return { state: s, effects: [] }; // it gave up: `socket.ended` follows
  return go(s, 'waiting', { gen: s.gen + 1 }, [{ type: 'teardown' }]);
}

/** The server will close this socket and wants us back (a drain): show it now; media goes with the close. */
function announced(s: SessionState, e: Extract<SessionEvent, { type: 'server.disconnecting' }>): Step {
  return e.reconnect ? go(s, 'waiting', {}) : { state: s, effects: [] };
}

/** A socket opened after the first join: join again with the same token and new media. */
function rejoin(s: SessionState): Step {
  const gen = s.gen + 1;
  // The teardown is a no-op after a drop; it matters if a socket opens without a close before it.
  return go(s, 'rejoining', { gen }, [{ type: 'teardown' }, { type: 'join', gen, token: s.token }]);
}

function retryMedia(s: SessionState, e: Extract<SessionEvent, { type: 'media.failed' }>): Step {
  return { state: s, effects: [{ type: 'retry', reason: e.reason }] };
}

function rejoinFailed(s: SessionState, error: ClientError): Step {
  const gen = s.gen + 1;
  // A dev token we minted is single use and expires: once spent (we were removed from the room meanwhile,
  // e.g. our replica died) or expired, mint a new one and join again as a new participant.
  if (RENEWABLE_TOKEN_ERRORS.has(error.code) && s.canRenewToken) {
    return go(s, 'renewing', { gen }, [{ type: 'teardown' }, { type: 'renewToken', gen }]);
  }
  if (FATAL_JOIN_ERRORS.has(error.code)) return fail(s, error);
  if (error.code === REPLICA_DRAINING) {
    return go(s, 'waiting', { gen }, [{ type: 'teardown' }, { type: 'moveTo', url: drainTarget(error), reason: REPLICA_DRAINING }]);
  }
  // Anything else is worth another try on the same replica after the backoff (a drop mid-join says nothing new).
  const report: SessionEffect[] = error.code === ClientErrors.SOCKET_CLOSED ? [] : [{ type: 'report', error }];
  return go(s, 'waiting', { gen }, [{ type: 'teardown' }, ...report, { type: 'retry', reason: error.code }]);
}

function renewed(s: SessionState, e: Extract<SessionEvent, { type: 'token.renewed' }>): Step {
  return go(s, 'waiting', { token: e.token }, [{ type: 'retry', reason: 'token renewed' }]);
}

function ended(s: SessionState, e: Extract<SessionEvent, { type: 'socket.ended' }>): Step {
  return fail(s, e.error ?? new ClientError(ClientErrors.CONNECT_FAILED, 'Connection closed'));
}

const FIRST_JOIN: ReadonlySet<StateName> = new Set(['preparing', 'opening', 'joining', 'hopping']);

/** The call ends with `error`; a pending join() rejects with it. Bumping `call` silences the old client. */
function fail(s: SessionState, error: ClientError): Step {
  const settle: SessionEffect[] = FIRST_JOIN.has(s.name) ? [{ type: 'settle', error }] : [];
  return go(s, 'disconnected', { call: s.call + 1, gen: s.gen + 1, hops: 0 }, [
    { type: 'teardown' },
    { type: 'close', error, goodbye: false },
    { type: 'stopLocal' },
    { type: 'report', error },
    ...settle,
  ]);
}

/** Leaving works from every state; a pending join() resolves quietly (the user cancelled it). */
function leave(s: SessionState): Step {
  const settle: SessionEffect[] = FIRST_JOIN.has(s.name) ? [{ type: 'settle', error: null }] : [];
  return go(s, 'idle', { call: s.call + 1, gen: s.gen + 1, hops: 0 }, [
    { type: 'teardown' },
    { type: 'close', error: null, goodbye: true },
    { type: 'stopLocal' },
    { type: 'clearRoster' },
    ...settle,
  ]);
}
