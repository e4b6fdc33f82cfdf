/**
 * RoomProducers, the one owner of a producer's life in a room: real mediasoup producers (PlainTransport, as
 * the translated voices use) and a real room actor on the in-memory store. Only the router index around it
 * is a recorder.
 */
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoomStore } from '../src/actors/room/RoomStore.js';
import { PlainInject } from '../src/ai/audio/plainInject.js';
import { createLogger } from '../src/logger.js';
import { ROUTER_MEDIA_CODECS } from '../src/media/codecs.js';
import type { RoomRouter, RoomRouters } from '../src/media/RoomRouters.js';
import { RoomProducers, type Publication } from '../src/session/RoomProducers.js';
import { MemoryStore } from '../src/state/MemoryStore.js';

const log = createLogger({ level: 'silent', pretty: false });
const ROOM = 'lobby';

describe('RoomProducers', () => {
  let worker: types.Worker;
  let router: types.Router;
  let rooms: RoomStore;
  let producers: RoomProducers;
  let marked: string[];
  let events: string[];
  const rr = {} as RoomRouter;
  const injects: PlainInject[] = [];

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
  });

  afterAll(() => {
    for (const i of injects) i.close();
    worker?.close();
  });

  beforeEach(async () => {
    rooms = new RoomStore({ store: new MemoryStore(), replicaId: 'r1', maxPeers: 12, log });
    marked = [];
    events = [];
    const routers = { markAvailable: (_roomId: string, producer: types.Producer) => marked.push(producer.id) } as unknown as RoomRouters;
    producers = new RoomProducers({ rooms, routers, replicaId: 'r1', log });
    const record = (name: string) => (p: Publication) => events.push(`${name}:${p.peerId}:${p.source}`);
    producers.observer.on('producercreated', record('created'));
    producers.observer.on('producerclosed', record('closed'));
    producers.observer.on('producerpaused', (p, paused) => events.push(`paused:${p.peerId}:${paused}`));
    await rooms.apply(ROOM, { type: 'peer.join', peer: { peerId: 'ana', displayName: 'Ana', role: 'speaker', replicaId: 'r1', spokenLanguage: 'en', listeningLanguage: 'en', joinedAt: Date.now() } });
  });

  const newProducer = async (): Promise<types.Producer> => {
    const inject = await PlainInject.create({ router });
    injects.push(inject);
    return inject.producer;
  };
  const listed = async () => Object.keys((await rooms.get(ROOM))?.peers['ana']?.producers ?? {});

  it('publishes: consumable on its router, listed in the room, announced once', async () => {
    const producer = await newProducer();
    await producers.publish({ roomId: ROOM, peerId: 'ana', producer, origin: 'client', source: 'mic', rr });
    expect(marked).toEqual([producer.id]);
    expect(await listed()).toEqual([producer.id]);
    expect((await rooms.get(ROOM))?.peers['ana']?.producers[producer.id]).toMatchObject({ kind: 'audio', source: 'mic', paused: false, replicaId: 'r1' });
    expect(events).toEqual(['created:ana:mic']);
    expect(producers.size).toBe(1);
  });

  it('takes a closed producer out of the room, whoever closed it', async () => {
    const producer = await newProducer();
    await producers.publish({ roomId: ROOM, peerId: 'ana', producer, origin: 'voice', source: 'translation:es', rr });
    producer.close();
    await producers.settle();
    expect(await listed()).toEqual([]);
    expect(events).toEqual(['created:ana:translation:es', 'closed:ana:translation:es']);
    expect(producers.size).toBe(0);
  });

  it('a producer closed while its add is being written ends up out of the room', async () => {
    const producer = await newProducer();
    const publishing = producers.publish({ roomId: ROOM, peerId: 'ana', producer, origin: 'client', source: 'mic', rr });
    producer.close();
    await publishing;
    await producers.settle();
    expect(await listed()).toEqual([]);
    expect(events).toEqual(['created:ana:mic', 'closed:ana:mic']);
  });

  it('a refused publish closes the producer and throws the coded refusal', async () => {
    const producer = await newProducer();
    await expect(producers.publish({ roomId: ROOM, peerId: 'nobody', producer, origin: 'client', source: 'mic', rr })).rejects.toMatchObject({ code: 'ERR_NOT_JOINED' });
    await producers.settle();
    expect(producer.closed).toBe(true);
    expect(await listed()).toEqual([]);
    expect(events).toEqual(['created:nobody:mic', 'closed:nobody:mic']);
  });

  it('pauses and resumes the producer and its room entry', async () => {
    const producer = await newProducer();
    await producers.publish({ roomId: ROOM, peerId: 'ana', producer, origin: 'client', source: 'mic', rr });
    await producers.setPaused(producer, true);
    expect(producer.paused).toBe(true);
    expect((await rooms.get(ROOM))?.peers['ana']?.producers[producer.id]?.paused).toBe(true);
    await producers.setPaused(producer, false);
    expect((await rooms.get(ROOM))?.peers['ana']?.producers[producer.id]?.paused).toBe(false);
    expect(events).toEqual(['created:ana:mic', 'paused:ana:true', 'paused:ana:false']);
  });
});
