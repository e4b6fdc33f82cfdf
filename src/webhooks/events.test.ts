/** The events a room's transitions make, through a real RoomStore (in-memory store) and its observer. */
import { describe, expect, it } from 'vitest';
import { RoomStore } from '../actors/room/RoomStore.js';
import type { RoomProducer } from '../actors/room/machine.js';
import { createLogger } from '../logger.js';
import { MemoryStore } from '../state/MemoryStore.js';
import { transitionJob, transitionJobId, type TransitionJob } from './events.js';

const log = createLogger({ level: 'silent', pretty: false });
const peer = (peerId: string) => ({ peerId, displayName: peerId.toUpperCase(), role: 'speaker' as const, replicaId: 'g1', spokenLanguage: 'en', listeningLanguage: 'en', joinedAt: Date.now() });
const producer = (producerId: string, source: string): RoomProducer => ({ producerId, kind: 'audio', source, paused: false, replicaId: 'g1' });

function observed(): { rooms: RoomStore; jobs: TransitionJob[] } {
  const rooms = new RoomStore({ store: new MemoryStore(), replicaId: 'g1', maxPeers: 8, log });
  const jobs: TransitionJob[] = [];
  rooms.observer.on('applied', (roomId, a) => jobs.push(transitionJob(roomId, a)));
  return { rooms, jobs };
}

describe('webhook events of room transitions', () => {
  it('a room from start to finish: one job per transition, seqs one apart, events in order', async () => {
    const { rooms, jobs } = observed();
    await rooms.apply('r', { type: 'peer.join', peer: peer('ana') });
    await rooms.apply('r', { type: 'peer.join', peer: peer('bo') });
    await rooms.apply('r', { type: 'producer.add', peerId: 'ana', producer: producer('p1', 'mic') });
    await rooms.apply('r', { type: 'producer.add', peerId: 'ana', producer: producer('v1', 'translation:es') });
    await rooms.apply('r', { type: 'producer.pause', peerId: 'ana', producerId: 'p1', paused: true });
    await rooms.apply('r', { type: 'producer.close', peerId: 'ana', producerId: 'v1' });
    await rooms.apply('r', { type: 'producer.add', peerId: 'ana', producer: producer('v2', 'translation:fr') });
    await rooms.apply('r', { type: 'peer.leave', peerId: 'bo' });
    const last = await rooms.apply('r', { type: 'peer.leave', peerId: 'ana' });
    expect(last.closed).toBe(true);

    const first = jobs[0]!.seq;
    expect(jobs.map((j) => j.seq)).toEqual(jobs.map((_, i) => first + i));
    expect(jobs.map((j) => j.created)).toEqual(jobs.map((_, i) => i === 0));
    expect(jobs.map((j) => j.events.map((e) => e.event))).toEqual([
      ['room_started', 'participant_joined'],
      ['participant_joined'],
      ['track_published'],
      ['translation_started'],
      [], // a pause: no event, but the job keeps the room's chain unbroken
      ['translation_stopped'],
      ['translation_started'],
      ['participant_left'],
      ['track_unpublished', 'translation_stopped', 'participant_left', 'room_finished'],
    ]);
    const events = jobs.flatMap((j) => j.events);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.every((e) => e.roomId === 'r' && !e.id.includes(':'))).toBe(true);
    expect(events[0]!.id).toBe(`${transitionJobId('r', first)}_0`);
    expect(events.find((e) => e.event === 'track_published')).toMatchObject({
      participant: { identity: 'ana', name: 'ANA', role: 'speaker', replicaId: 'g1' },
      track: { trackId: 'p1', kind: 'audio', source: 'mic' },
    });
    expect(events.find((e) => e.event === 'translation_started')).toMatchObject({ translation: { speakerIdentity: 'ana', language: 'es' } });
    expect(events.find((e) => e.event === 'participant_left')).toMatchObject({ participant: { identity: 'bo', name: 'BO' } });
    const end = jobs.at(-1)!.events;
    expect(end[0]).toMatchObject({ event: 'track_unpublished', track: { trackId: 'p1', source: 'mic' }, participant: { identity: 'ana' } });
    expect(end[1]).toMatchObject({ event: 'translation_stopped', translation: { speakerIdentity: 'ana', language: 'fr' } });
  });

  it('a re-created room starts a new chain with a higher seq', async () => {
    const { rooms, jobs } = observed();
    await rooms.apply('r', { type: 'peer.join', peer: peer('ana') });
    await rooms.apply('r', { type: 'peer.leave', peerId: 'ana' });
    await new Promise((r) => setTimeout(r, 2));
    await rooms.apply('r', { type: 'peer.join', peer: peer('ana') });
    expect(jobs.map((j) => j.created)).toEqual([true, false, true]);
    expect(jobs[2]!.seq).toBeGreaterThan(jobs[1]!.seq);
    expect(jobs[2]!.events.map((e) => e.event)).toEqual(['room_started', 'participant_joined']);
  });

  it('a refused event makes no job, and an observer that throws does not undo the write', async () => {
    const { rooms, jobs } = observed();
    await expect(rooms.apply('r', { type: 'peer.leave', peerId: 'nobody' })).rejects.toThrow();
    expect(jobs).toEqual([]);
    rooms.observer.on('applied', () => {
      throw new Error('boom');
    });
    await rooms.apply('r', { type: 'peer.join', peer: peer('ana') });
    expect(jobs).toHaveLength(1);
    expect(await rooms.get('r')).not.toBeNull();
  });
});
