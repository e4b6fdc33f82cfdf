import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, waitFor, type Actor } from 'xstate';
import { SnapshotVersionError, createSnapshotCodec } from '../codec.js';
import { peerCodec } from './codec.js';
import { PEER_MACHINE_VERSION, peerMachine, type PeerInput } from './machine.js';

const input: PeerInput = {
  peerId: 'alice',
  roomId: 'room-1',
  replicaId: 'replica-a',
  displayName: 'Alice',
  role: 'speaker',
  spokenLanguage: 'en',
  listeningLanguage: 'fr',
  joinedAt: 1_000,
};

const started: Actor<typeof peerMachine>[] = [];

function startPeer(): Actor<typeof peerMachine> {
  const actor = createActor(peerMachine, { input });
  started.push(actor);
  return actor.start();
}

/** Resolves when the actor reaches its final state (a guard, not a timing assertion). */
function untilLeft(actor: Actor<typeof peerMachine>) {
  return waitFor(actor, (s) => s.status === 'done', { timeout: 5_000 });
}

afterEach(() => {
  for (const actor of started.splice(0)) actor.stop();
  vi.useRealTimers();
});

describe('peer machine: media bookkeeping', () => {
  it('starts connected with the input and no media', () => {
    const { value, context } = startPeer().getSnapshot();
    expect(value).toBe('connected');
    expect(context).toEqual({ ...input, transports: {}, producers: {}, consumers: {}, reconnectDeadline: null, endReason: null });
  });

  it('records transports created, connected and closed', () => {
    const peer = startPeer();
    peer.send({ type: 'transport.created', transportId: 't-send', direction: 'send' });
    peer.send({ type: 'transport.created', transportId: 't-recv', direction: 'recv' });
    peer.send({ type: 'transport.connected', transportId: 't-send' });
    expect(peer.getSnapshot().context.transports).toEqual({
      't-send': { direction: 'send', connected: true },
      't-recv': { direction: 'recv', connected: false },
    });
    peer.send({ type: 'transport.closed', transportId: 't-send' });
    expect(Object.keys(peer.getSnapshot().context.transports)).toEqual(['t-recv']);
  });

  it('ignores transport.connected for an unknown transport', () => {
    const peer = startPeer();
    peer.send({ type: 'transport.connected', transportId: 'nope' });
    expect(peer.getSnapshot().context.transports).toEqual({});
  });

  it('records producers created unpaused, paused, and closed', () => {
    const peer = startPeer();
    peer.send({ type: 'producer.created', producerId: 'p1', kind: 'audio', source: 'mic' });
    expect(peer.getSnapshot().context.producers).toEqual({ p1: { kind: 'audio', source: 'mic', paused: false } });
    peer.send({ type: 'producer.paused', producerId: 'p1', paused: true });
    expect(peer.getSnapshot().context.producers.p1!.paused).toBe(true);
    peer.send({ type: 'producer.paused', producerId: 'ghost', paused: true });
    expect(Object.keys(peer.getSnapshot().context.producers)).toEqual(['p1']);
    peer.send({ type: 'producer.closed', producerId: 'p1' });
    expect(peer.getSnapshot().context.producers).toEqual({});
  });

  it('records consumers created paused, resumed, and closed', () => {
    const peer = startPeer();
    peer.send({ type: 'consumer.created', consumerId: 'c1', producerId: 'p9', kind: 'video' });
    expect(peer.getSnapshot().context.consumers).toEqual({ c1: { producerId: 'p9', kind: 'video', paused: true } });
    peer.send({ type: 'consumer.paused', consumerId: 'c1', paused: false });
    expect(peer.getSnapshot().context.consumers.c1!.paused).toBe(false);
    peer.send({ type: 'consumer.paused', consumerId: 'ghost', paused: false });
    expect(Object.keys(peer.getSnapshot().context.consumers)).toEqual(['c1']);
    peer.send({ type: 'consumer.closed', consumerId: 'c1' });
    expect(peer.getSnapshot().context.consumers).toEqual({});
  });

  it('updates only the languages given', () => {
    const peer = startPeer();
    peer.send({ type: 'peer.update', spokenLanguage: 'de' });
    expect(peer.getSnapshot().context).toMatchObject({ spokenLanguage: 'de', listeningLanguage: 'fr' });
  });

  it('forgets all media on media.lost and stays connected', () => {
    const peer = startPeer();
    peer.send({ type: 'transport.created', transportId: 't1', direction: 'send' });
    peer.send({ type: 'producer.created', producerId: 'p1', kind: 'audio', source: 'mic' });
    peer.send({ type: 'consumer.created', consumerId: 'c1', producerId: 'p9', kind: 'audio' });
    peer.send({ type: 'media.lost' });
    const { value, context } = peer.getSnapshot();
    expect(value).toBe('connected');
    expect(context).toMatchObject({ transports: {}, producers: {}, consumers: {} });
  });
});

describe('peer machine: reconnect grace', () => {
  it('on socket.closed forgets media and records the deadline', () => {
    const peer = startPeer();
    peer.send({ type: 'producer.created', producerId: 'p1', kind: 'audio', source: 'mic' });
    const deadline = Date.now() + 60_000;
    peer.send({ type: 'socket.closed', deadline });
    const { value, context } = peer.getSnapshot();
    expect(value).toBe('disconnected');
    expect(context).toMatchObject({ reconnectDeadline: deadline, transports: {}, producers: {}, consumers: {} });
  });

  it('ignores media events while disconnected', () => {
    const peer = startPeer();
    peer.send({ type: 'socket.closed', deadline: Date.now() + 60_000 });
    peer.send({ type: 'producer.created', producerId: 'p1', kind: 'audio', source: 'mic' });
    expect(peer.getSnapshot().context.producers).toEqual({});
  });

  it('leaves with endReason grace-expired when the deadline passes', async () => {
    const peer = startPeer();
    peer.send({ type: 'socket.closed', deadline: Date.now() + 30 });
    expect(peer.getSnapshot().value).toBe('disconnected');
    const end = await untilLeft(peer);
    expect(end.value).toBe('left');
    expect(end.context.endReason).toBe('grace-expired');
  });

  it('leaves at once when the deadline is already in the past', async () => {
    const peer = startPeer();
    peer.send({ type: 'socket.closed', deadline: Date.now() - 1_000 });
    const end = await untilLeft(peer);
    expect(end.context.endReason).toBe('grace-expired');
  });

  it('returns to connected on socket.resumed and cancels the grace timer', () => {
    vi.useFakeTimers();
    const peer = startPeer();
    peer.send({ type: 'socket.closed', deadline: Date.now() + 30 });
    expect(vi.getTimerCount()).toBe(1);

    peer.send({ type: 'socket.resumed' });
    expect(peer.getSnapshot().value).toBe('connected');
    expect(peer.getSnapshot().context.reconnectDeadline).toBeNull();
    expect(vi.getTimerCount()).toBe(0);

    vi.advanceTimersByTime(1_000);
    expect(peer.getSnapshot().value).toBe('connected');
    expect(peer.getSnapshot().status).toBe('active');
  });

  it('a second disconnect waits for its own deadline, not the first one', () => {
    vi.useFakeTimers();
    const peer = startPeer();
    peer.send({ type: 'socket.closed', deadline: Date.now() + 30 });
    peer.send({ type: 'socket.resumed' });
    peer.send({ type: 'socket.closed', deadline: Date.now() + 10_000 });

    vi.advanceTimersByTime(1_000);
    expect(peer.getSnapshot().value).toBe('disconnected');
    vi.advanceTimersByTime(9_000);
    expect(peer.getSnapshot().value).toBe('left');
    expect(peer.getSnapshot().context.endReason).toBe('grace-expired');
  });

  it('re-arms the timer when a persisted disconnected snapshot is restored, and it still expires', async () => {
    const original = startPeer();
    original.send({ type: 'producer.created', producerId: 'p1', kind: 'audio', source: 'mic' });
    const deadline = Date.now() + 40;
    original.send({ type: 'socket.closed', deadline });
    // Stored and read back the way PeerSession does, then the original replica goes away.
    const doc = peerCodec.encode(original.getPersistedSnapshot());
    original.stop();

    const restored = createActor(peerMachine, { snapshot: peerCodec.decode(doc), input });
    started.push(restored);
    restored.start();
    expect(restored.getSnapshot().value).toBe('disconnected');
    expect(restored.getSnapshot().context.reconnectDeadline).toBe(deadline);

    const end = await untilLeft(restored);
    expect(end.context.endReason).toBe('grace-expired');
    expect(end.context.peerId).toBe('alice');
  });

  it('a restored disconnected peer can still resume before its deadline', () => {
    vi.useFakeTimers();
    const original = startPeer();
    original.send({ type: 'socket.closed', deadline: Date.now() + 5_000 });
    const snapshot = original.getPersistedSnapshot();
    original.stop();

    const restored = createActor(peerMachine, { snapshot, input });
    started.push(restored);
    restored.start();
    expect(vi.getTimerCount()).toBe(1);
    restored.send({ type: 'socket.resumed' });
    vi.advanceTimersByTime(10_000);
    expect(restored.getSnapshot().value).toBe('connected');
  });
});

describe('peer machine: peer.leave', () => {
  it('ends a connected peer with the given reason', () => {
    const peer = startPeer();
    peer.send({ type: 'peer.leave', reason: 'left' });
    expect(peer.getSnapshot().value).toBe('left');
    expect(peer.getSnapshot().status).toBe('done');
    expect(peer.getSnapshot().context.endReason).toBe('left');
  });

  it('ends a disconnected peer with the given reason and stops its grace timer', () => {
    vi.useFakeTimers();
    const peer = startPeer();
    peer.send({ type: 'socket.closed', deadline: Date.now() + 5_000 });
    peer.send({ type: 'peer.leave', reason: 'replaced' });
    expect(peer.getSnapshot().status).toBe('done');
    expect(peer.getSnapshot().context.endReason).toBe('replaced');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('snapshot codec', () => {
  const codec = createSnapshotCodec<{ value: string; n: number }>('thing', 3);

  it('wraps the snapshot with its version and reads it back', () => {
    const doc = codec.encode({ value: 'open', n: 7 });
    expect(JSON.parse(doc)).toEqual({ v: 3, snapshot: { value: 'open', n: 7 } });
    expect(codec.decode(doc)).toEqual({ value: 'open', n: 7 });
  });

  it('refuses a document of another version with SnapshotVersionError naming both versions', () => {
    const doc = JSON.stringify({ v: 2, snapshot: { value: 'open', n: 7 } });
    expect(() => codec.decode(doc)).toThrow(SnapshotVersionError);
    expect(() => codec.decode(doc)).toThrow(/thing snapshot has version 2.*version 3/);
  });

  it('refuses a document without a version or without a snapshot', () => {
    expect(() => codec.decode(JSON.stringify({ snapshot: { value: 'open', n: 1 } }))).toThrow(SnapshotVersionError);
    expect(() => codec.decode(JSON.stringify({ v: 3 }))).toThrow(SnapshotVersionError);
  });

  it('the peer codec refuses a peer document from another machine version', () => {
    const snapshot = startPeer().getPersistedSnapshot();
    const foreign = JSON.stringify({ v: PEER_MACHINE_VERSION + 1, snapshot });
    expect(() => peerCodec.decode(foreign)).toThrow(SnapshotVersionError);
    expect(peerCodec.decode(peerCodec.encode(snapshot))).toEqual(JSON.parse(JSON.stringify(snapshot)));
  });
});
