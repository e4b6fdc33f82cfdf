import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { diffRoom } from './diff.js';
import { roomMachine, roomRejection, type RoomContext, type RoomEvent, type RoomPeer, type RoomProducer } from './machine.js';

type RoomState = ReturnType<typeof initialTransition<typeof roomMachine>>[0];

function openRoom(maxPeers = 4): RoomState {
  return initialTransition(roomMachine, { roomId: 'room-1', maxPeers, now: 1_000 })[0];
}

/** Applies events the way RoomStore does: ask roomRejection first, then transition. */
function apply(state: RoomState, ...events: RoomEvent[]): RoomState {
  for (const event of events) {
    const rejection = roomRejection(state.context, event);
    if (rejection !== null) throw new Error(`${event.type} refused: ${rejection}`);
    state = transition(roomMachine, state, event)[0];
  }
  return state;
}

function joinEvent(peerId: string, overrides: Partial<Omit<RoomPeer, 'producers'>> = {}): RoomEvent {
  return {
    type: 'peer.join',
    peer: {
      peerId,
      displayName: `name-${peerId}`,
      role: 'speaker',
      replicaId: 'replica-a',
      spokenLanguage: 'en',
      listeningLanguage: 'fr',
      joinedAt: 2_000,
      ...overrides,
    },
  };
}

function producer(producerId: string, overrides: Partial<RoomProducer> = {}): RoomProducer {
  return { producerId, kind: 'audio', source: 'mic', paused: false, replicaId: 'replica-a', ...overrides };
}

describe('room machine', () => {
  it('starts open and empty with the input recorded in context', () => {
    const state = openRoom(3);
    expect(state.value).toBe('open');
    expect(state.status).toBe('active');
    expect(state.context).toEqual({ roomId: 'room-1', maxPeers: 3, createdAt: 1_000, peers: {} });
  });

  it('adds the first peer with no producers', () => {
    const state = apply(openRoom(), joinEvent('alice'));
    expect(Object.keys(state.context.peers)).toEqual(['alice']);
    expect(state.context.peers.alice).toMatchObject({ peerId: 'alice', displayName: 'name-alice', replicaId: 'replica-a', producers: {} });
  });

  it('keeps one entry when the same identity joins again, and clears its producers', () => {
    let state = apply(openRoom(), joinEvent('alice'), { type: 'producer.add', peerId: 'alice', producer: producer('p1') });
    expect(Object.keys(state.context.peers.alice!.producers)).toEqual(['p1']);

    state = apply(state, joinEvent('alice', { replicaId: 'replica-b', joinedAt: 3_000 }));
    expect(Object.keys(state.context.peers)).toEqual(['alice']);
    expect(state.context.peers.alice).toMatchObject({ replicaId: 'replica-b', joinedAt: 3_000, producers: {} });
  });

  it('a restore of a peer the room holds keeps its joinedAt: not a rejoin, only what changed is reported', () => {
    const before = apply(openRoom(), joinEvent('alice'), { type: 'producer.add', peerId: 'alice', producer: producer('p1') });
    // The session's own clock said 2_007 (the room wrote 2_000 at join); it re-asserts with p1 and a new p2.
    const peer = { ...(joinEvent('alice', { joinedAt: 2_007 }) as { peer: Omit<RoomPeer, 'producers'> }).peer, producers: { p1: producer('p1'), p2: producer('p2') } };
    const after = apply(before, { type: 'peer.restore', peer });
    expect(after.context.peers.alice!.joinedAt).toBe(2_000);
    expect(diffRoom(before.context, after.context)).toEqual([{ type: 'producerAdded', peerId: 'alice', producer: producer('p2') }]);
    // A peer the room lost (Redis came back empty) is restored as it was sent.
    const fresh = apply(openRoom(), { type: 'peer.restore', peer });
    expect(fresh.context.peers.alice!.joinedAt).toBe(2_007);
  });

  it('refuses a new peer once maxPeers is reached and leaves the state unchanged', () => {
    const full = apply(openRoom(2), joinEvent('alice'), joinEvent('bob'));
    const event = joinEvent('carol');
    expect(roomRejection(full.context, event)).toBe('ROOM_FULL');

    const [after] = transition(roomMachine, full, event);
    expect(after.context).toEqual(full.context);
    expect(after.value).toBe('open');
  });

  it('still lets a present peer rejoin a full room', () => {
    const full = apply(openRoom(2), joinEvent('alice'), joinEvent('bob'));
    expect(roomRejection(full.context, joinEvent('bob', { joinedAt: 9_000 }))).toBeNull();
    const after = apply(full, joinEvent('bob', { joinedAt: 9_000 }));
    expect(Object.keys(after.context.peers).sort()).toEqual(['alice', 'bob']);
    expect(after.context.peers.bob!.joinedAt).toBe(9_000);
  });

  it('adds, pauses and closes producers', () => {
    let state = apply(openRoom(), joinEvent('alice'), { type: 'producer.add', peerId: 'alice', producer: producer('p1') });
    expect(state.context.peers.alice!.producers.p1).toEqual(producer('p1'));

    state = apply(state, { type: 'producer.pause', peerId: 'alice', producerId: 'p1', paused: true });
    expect(state.context.peers.alice!.producers.p1!.paused).toBe(true);

    state = apply(state, { type: 'producer.close', peerId: 'alice', producerId: 'p1' });
    expect(state.context.peers.alice!.producers).toEqual({});
  });

  it('clears all producers of a peer on peer.mediaLost but keeps the peer', () => {
    const state = apply(
      openRoom(),
      joinEvent('alice'),
      { type: 'producer.add', peerId: 'alice', producer: producer('p1') },
      { type: 'producer.add', peerId: 'alice', producer: producer('p2', { kind: 'video', source: 'camera' }) },
      { type: 'peer.mediaLost', peerId: 'alice' },
    );
    expect(state.context.peers.alice!.producers).toEqual({});
  });

  it('updates only the languages given in peer.update', () => {
    const state = apply(openRoom(), joinEvent('alice'), { type: 'peer.update', peerId: 'alice', listeningLanguage: 'de' });
    expect(state.context.peers.alice).toMatchObject({ spokenLanguage: 'en', listeningLanguage: 'de' });
  });

  it.each<[string, RoomEvent]>([
    ['peer.update', { type: 'peer.update', peerId: 'ghost', spokenLanguage: 'es' }],
    ['peer.leave', { type: 'peer.leave', peerId: 'ghost' }],
    ['peer.mediaLost', { type: 'peer.mediaLost', peerId: 'ghost' }],
    ['producer.add', { type: 'producer.add', peerId: 'ghost', producer: producer('p9') }],
    ['producer.close', { type: 'producer.close', peerId: 'ghost', producerId: 'p1' }],
    ['producer.pause', { type: 'producer.pause', peerId: 'ghost', producerId: 'p1', paused: true }],
  ])('refuses %s for an unknown peer without changing state', (_name, event) => {
    const state = apply(openRoom(), joinEvent('alice'), { type: 'producer.add', peerId: 'alice', producer: producer('p1') });
    expect(roomRejection(state.context, event)).toBe('UNKNOWN_PEER');
    const [after] = transition(roomMachine, state, event);
    expect(after.context).toEqual(state.context);
    expect(after.value).toBe('open');
  });

  it.each<[string, RoomEvent]>([
    ['producer.close', { type: 'producer.close', peerId: 'alice', producerId: 'nope' }],
    ['producer.pause', { type: 'producer.pause', peerId: 'alice', producerId: 'nope', paused: true }],
  ])('refuses %s for an unknown producer without changing state', (_name, event) => {
    const state = apply(openRoom(), joinEvent('alice'), { type: 'producer.add', peerId: 'alice', producer: producer('p1') });
    expect(roomRejection(state.context, event)).toBe('UNKNOWN_PRODUCER');
    const [after] = transition(roomMachine, state, event);
    expect(after.context).toEqual(state.context);
    expect(after.context.peers.alice!.producers.nope).toBeUndefined();
  });

  it('stays open while peers remain and closes (done) when the last one leaves', () => {
    let state = apply(openRoom(), joinEvent('alice'), joinEvent('bob'));
    state = apply(state, { type: 'peer.leave', peerId: 'alice' });
    expect(state.value).toBe('open');
    expect(state.status).toBe('active');
    expect(Object.keys(state.context.peers)).toEqual(['bob']);

    state = apply(state, { type: 'peer.leave', peerId: 'bob' });
    expect(state.value).toBe('closed');
    expect(state.status).toBe('done');
    expect(state.context.peers).toEqual({});
  });

  it('on replica.gone removes only that replica’s peers', () => {
    const state = apply(
      openRoom(),
      joinEvent('alice', { replicaId: 'replica-a' }),
      joinEvent('bob', { replicaId: 'replica-b' }),
      joinEvent('carol', { replicaId: 'replica-a' }),
      { type: 'replica.gone', replicaId: 'replica-a' },
    );
    expect(state.status).toBe('active');
    expect(Object.keys(state.context.peers)).toEqual(['bob']);
  });

  it('closes the room on replica.gone when no peers remain', () => {
    const state = apply(
      openRoom(),
      joinEvent('alice', { replicaId: 'replica-a' }),
      joinEvent('carol', { replicaId: 'replica-a' }),
      { type: 'replica.gone', replicaId: 'replica-a' },
    );
    expect(state.value).toBe('closed');
    expect(state.status).toBe('done');
    expect(state.context.peers).toEqual({});
  });

  it('ignores replica.gone for a replica that hosts nobody', () => {
    const before = apply(openRoom(), joinEvent('alice', { replicaId: 'replica-a' }));
    const after = apply(before, { type: 'replica.gone', replicaId: 'replica-z' });
    expect(after.status).toBe('active');
    expect(after.context).toEqual(before.context);
  });
});

describe('diffRoom', () => {
  const ctx = (peers: Record<string, RoomPeer>): RoomContext => ({ roomId: 'room-1', maxPeers: 4, createdAt: 1_000, peers });
  const peer = (peerId: string, overrides: Partial<RoomPeer> = {}): RoomPeer => ({
    peerId,
    displayName: `name-${peerId}`,
    role: 'speaker',
    replicaId: 'replica-a',
    spokenLanguage: 'en',
    listeningLanguage: 'fr',
    joinedAt: 2_000,
    producers: {},
    ...overrides,
  });

  it('reports a join into a new room as peerJoined', () => {
    const alice = peer('alice');
    expect(diffRoom(null, ctx({ alice }))).toEqual([{ type: 'peerJoined', peer: alice }]);
  });

  it('reports nothing when nothing changed', () => {
    const room = ctx({ alice: peer('alice', { producers: { p1: producer('p1') } }) });
    expect(diffRoom(room, structuredClone(room))).toEqual([]);
  });

  it('reports a leave with producers as producerRemoved for each, then peerLeft', () => {
    const alice = peer('alice', { replicaId: 'replica-b', producers: { p1: producer('p1'), p2: producer('p2', { kind: 'video' }) } });
    const bob = peer('bob');
    expect(diffRoom(ctx({ alice, bob }), ctx({ bob }))).toEqual([
      { type: 'producerRemoved', peerId: 'alice', producerId: 'p1', replicaId: 'replica-b' },
      { type: 'producerRemoved', peerId: 'alice', producerId: 'p2', replicaId: 'replica-b' },
      { type: 'peerLeft', peerId: 'alice', replicaId: 'replica-b' },
    ]);
  });

  it('reports the room closing (next = null) as every peer leaving', () => {
    expect(diffRoom(ctx({ alice: peer('alice') }), null)).toEqual([{ type: 'peerLeft', peerId: 'alice', replicaId: 'replica-a' }]);
  });

  it('reports a rejoin (new joinedAt) as left-then-joined', () => {
    const old = peer('alice', { joinedAt: 2_000, replicaId: 'replica-a', producers: { p1: producer('p1') } });
    const rejoined = peer('alice', { joinedAt: 5_000, replicaId: 'replica-b' });
    expect(diffRoom(ctx({ alice: old }), ctx({ alice: rejoined }))).toEqual([
      { type: 'producerRemoved', peerId: 'alice', producerId: 'p1', replicaId: 'replica-a' },
      { type: 'peerLeft', peerId: 'alice', replicaId: 'replica-a' },
      { type: 'peerJoined', peer: rejoined },
    ]);
  });

  it('reports a producer added and a pause toggled', () => {
    const before = ctx({ alice: peer('alice', { producers: { p1: producer('p1') } }) });
    const p2 = producer('p2', { kind: 'video' });
    const after = ctx({ alice: peer('alice', { producers: { p1: producer('p1', { paused: true }), p2 } }) });
    expect(diffRoom(before, after)).toEqual([
      { type: 'producerPaused', peerId: 'alice', producerId: 'p1', paused: true },
      { type: 'producerAdded', peerId: 'alice', producer: p2 },
    ]);
  });

  it('reports a language change as peerUpdated', () => {
    const updated = peer('alice', { spokenLanguage: 'es' });
    expect(diffRoom(ctx({ alice: peer('alice') }), ctx({ alice: updated }))).toEqual([{ type: 'peerUpdated', peer: updated }]);
  });

  it('matches the machine: the diff of a real leave transition names the dropped producer', () => {
    const before = apply(openRoom(), joinEvent('alice'), joinEvent('bob'), { type: 'producer.add', peerId: 'alice', producer: producer('p1') });
    const after = apply(before, { type: 'peer.leave', peerId: 'alice' });
    expect(diffRoom(before.context, after.context)).toEqual([
      { type: 'producerRemoved', peerId: 'alice', producerId: 'p1', replicaId: 'replica-a' },
      { type: 'peerLeft', peerId: 'alice', replicaId: 'replica-a' },
    ]);
  });
});
