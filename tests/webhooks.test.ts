/**
 * Webhooks end to end: a real gateway (embedded Redis, mediasoup), peers over signaling, and a local HTTP
 * receiver that verifies every delivery. Also the queue's ordering (a transition enqueued before its
 * predecessor) and translated voices published through RoomProducers with a real mediasoup producer.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomStore } from '../src/actors/room/RoomStore.js';
import { PlainInject } from '../src/ai/audio/plainInject.js';
import { createBullConnection } from '../src/ai/pipeline/PipelineQueues.js';
import type { WebhookEvent, WebhookEventKind } from '../src/api/types.js';
import type { Gateway } from '../src/app/gateway.js';
import { startTestGateway } from '../src/devkit/gateway.js';
import { waitFor } from '../src/devkit/media.js';
import { SignalingClient, testToken, OPUS_SEND, TEST_DTLS } from '../src/devkit/signaling.js';
import { createLogger } from '../src/logger.js';
import { ROUTER_MEDIA_CODECS } from '../src/media/codecs.js';
import type { RoomRouter, RoomRouters } from '../src/media/RoomRouters.js';
import { RoomProducers } from '../src/session/RoomProducers.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { MemoryStore } from '../src/state/MemoryStore.js';
import type { TransitionJob } from '../src/webhooks/events.js';
import { verifyWebhook } from '../src/webhooks/signature.js';
import { startWebhooks, type Webhooks } from '../src/webhooks/startWebhooks.js';
import { WebhookMetrics } from '../src/webhooks/WebhookMetrics.js';
import { WebhookReceiver } from '../src/webhooks/WebhookReceiver.js';

const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
const KEYS = [{ key: 'wh-test', secret: 'webhook-test-secret-0123456789-abcdef' }];

type Delivery = { headers: IncomingHttpHeaders; body: string; event: WebhookEvent };

/** A webhook receiver on a free port: verifies each delivery, answers `status`, can go away and come back. */
class TestReceiver {
  readonly got: Delivery[] = [];
  readonly refused: number[] = [];
  status = 200;
  port = 0;
  #server: Server | null = null;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/parley`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.status >= 300) {
          this.refused.push(this.status);
        } else {
          // Throws (an uncaught error fails the run) if anything is off: key, signature, age.
          const event = verifyWebhook({ body, signatureHeader: req.headers['parley-signature'] as string, keyHeader: req.headers['parley-key'] as string, keys: KEYS });
          this.got.push({ headers: req.headers, body, event });
        }
        res.statusCode = this.status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }

  /** Distinct events of a room in arrival order (first copy of each id). */
  room(roomId: string): WebhookEvent[] {
    const seen = new Set<string>();
    return this.got.map((d) => d.event).filter((e) => e.roomId === roomId && !seen.has(e.id) && seen.add(e.id));
  }

  kinds(roomId: string): WebhookEventKind[] {
    return this.room(roomId).map((e) => e.event);
  }

  async until(roomId: string, kind: WebhookEventKind, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (this.kinds(roomId).includes(kind) ? true : null), timeoutMs, `${kind} of ${roomId}`);
  }
}

/** Every duplicate is the same event; seqs never go down within a room. */
function expectConsistent(r: TestReceiver, roomId: string): void {
  const byId = new Map<string, WebhookEvent>();
  for (const { event, headers } of r.got.filter((d) => d.event.roomId === roomId)) {
    expect(headers['parley-event-id']).toBe(event.id);
    expect(headers['content-type']).toBe('application/json');
    if (byId.has(event.id)) expect(event).toEqual(byId.get(event.id));
    byId.set(event.id, event);
  }
  const seqs = r.room(roomId).map((e) => e.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
}

let redis: EmbeddedRedis;

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
});

afterAll(async () => {
  await redis?.stop();
});

describe('webhooks from a real gateway', () => {
  let gateway: Gateway;
  let registry: Registry;
  const receiver = new TestReceiver();
  const clients: SignalingClient[] = [];

  async function join(roomId: string, identity: string): Promise<SignalingClient> {
    const c = await SignalingClient.connect(gateway.url);
    clients.push(c);
    const res = await c.request('join', { token: await testToken(roomId, identity), roomId });
    expect(res.ok, JSON.stringify(res.error)).toBe(true);
    return c;
  }

  async function produce(c: SignalingClient): Promise<string> {
    const send = await c.request('createTransport', { direction: 'send' });
    expect((await c.request('connectTransport', { transportId: send.data.id, dtlsParameters: TEST_DTLS })).ok).toBe(true);
    const res = await c.request('produce', { transportId: send.data.id, kind: 'audio', rtpParameters: OPUS_SEND });
    expect(res.ok, JSON.stringify(res.error)).toBe(true);
    return res.data.producerId as string;
  }

  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    const m = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    return m.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
  }

  beforeAll(async () => {
    await receiver.start();
    gateway = await startTestGateway(redis.url, { api: { keys: KEYS }, webhooks: { urls: [receiver.url], timeoutMs: 2000 } });
    registry = gateway.services.metrics.registry;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gateway?.close();
    await receiver.stop();
  });

  it('delivers every room, participant and track event of a call, signed, in order', async () => {
    const alice = await join('wh-call', 'alice');
    const producerId = await produce(alice);
    const bob = await join('wh-call', 'bob');
    expect((await alice.request('closeProducer', { producerId })).ok).toBe(true);
    await bob.waitFor('producerClosed', (d) => d.producerId === producerId);
    expect((await bob.request('leave')).ok).toBe(true);
    await alice.waitFor('peerLeft', (d) => d.peerId === 'bob');
    expect((await alice.request('leave')).ok).toBe(true);

    await receiver.until('wh-call', 'room_finished');
    expect(receiver.kinds('wh-call')).toEqual([
      'room_started', 'participant_joined', 'track_published', 'participant_joined',
      'track_unpublished', 'participant_left', 'participant_left', 'room_finished',
    ]);
    const events = receiver.room('wh-call');
    expect(events[1]!.participant).toEqual({ identity: 'alice', name: 'alice', role: 'speaker', replicaId: gateway.services.replicaId });
    expect(events[2]!.track).toEqual({ trackId: producerId, kind: 'audio', source: 'mic' });
    expect(events[4]!.track?.trackId).toBe(producerId);
    expect(events.map((e) => e.participant?.identity)).toEqual([undefined, 'alice', 'alice', 'bob', 'alice', 'bob', 'alice', undefined]);
    expectConsistent(receiver, 'wh-call');
    // The receiver records an event before it answers; the sender counts the delivery once the answer is back.
    await waitFor(async () => ((await metric('parley_webhook_deliveries_total', { result: 'ok' })) >= events.length ? true : null), 10_000, 'every delivery counted');
  });

  it('keeps the call going while the receiver fails or is gone, then delivers everything in order', async () => {
    receiver.status = 503;
    const carol = await join('wh-outage', 'carol'); // the enqueue never waits for the receiver
    await waitFor(async () => (receiver.refused.length > 0 ? true : null), 10_000, 'a refused delivery');

    const failedBefore = await metric('parley_webhook_deliveries_total', { result: 'failed' });
    await receiver.stop(); // gone: connections refused
    const joinedWhileDown = await Promise.race([
      join('wh-outage', 'dave').then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    expect(joinedWhileDown).toBe(true);
    const dave = clients.at(-1)!;
    const producerId = await produce(dave);
    expect((await dave.request('leave')).ok).toBe(true);
    await carol.waitFor('peerLeft', (d) => d.peerId === 'dave');
    expect((await carol.request('leave')).ok).toBe(true);
    expect(receiver.room('wh-outage')).toEqual([]);
    // At least one attempt found nobody listening.
    await waitFor(async () => ((await metric('parley_webhook_deliveries_total', { result: 'failed' })) > failedBefore ? true : null), 10_000, 'a refused connection');

    receiver.status = 200;
    await receiver.start(); // back, on the same port
    await receiver.until('wh-outage', 'room_finished', 60_000);
    expect(receiver.kinds('wh-outage')).toEqual([
      'room_started', 'participant_joined', 'participant_joined', 'track_published',
      'track_unpublished', 'participant_left', 'participant_left', 'room_finished',
    ]);
    expect(receiver.room('wh-outage')[3]!.track?.trackId).toBe(producerId);
    expectConsistent(receiver, 'wh-outage');
    expect(await metric('parley_webhook_deliveries_total', { result: 'failed' })).toBeGreaterThan(0);
    expect(await metric('parley_webhook_deliveries_total', { result: 'given_up' })).toBe(0);
  });
});

const event = (roomId: string, seq: number, i: number, kind: WebhookEventKind): WebhookEvent => ({ id: `ev_${roomId}_${seq}_${i}`, event: kind, roomId, seq, createdAt: Date.now() });
const job = (roomId: string, seq: number, created: boolean, kinds: WebhookEventKind[]): TransitionJob => ({ roomId, seq, created, events: kinds.map((k, i) => event(roomId, seq, i, k)) });

describe('a receiver queue fed by several replicas', () => {
  const receiver = new TestReceiver();
  let queue: WebhookReceiver;
  let connection: ReturnType<typeof createBullConnection>;
  const registry = new Registry();

  beforeAll(async () => {
    await receiver.start();
    connection = createBullConnection(redis.url, 'webhooks-test');
    const target = { url: receiver.url, key: KEYS[0]!.key, secret: KEYS[0]!.secret, timeoutMs: 2000, retryForMs: 60_000 };
    queue = await WebhookReceiver.create({ target, connection, metrics: new WebhookMetrics(registry), log, replicaId: 'test', prefix: 'wh-order' });
  });

  afterAll(async () => {
    await queue?.close();
    await connection?.quit();
    await receiver.stop();
  });

  it('holds back a transition that reached the queue before the one it follows', async () => {
    queue.enqueue(job('ord', 102, false, ['participant_left', 'room_finished']));
    await new Promise((r) => setTimeout(r, 400));
    queue.enqueue(job('ord', 101, false, []));
    await new Promise((r) => setTimeout(r, 400));
    queue.enqueue(job('ord', 100, true, ['room_started', 'participant_joined']));
    queue.enqueue(job('ord', 100, true, ['room_started', 'participant_joined'])); // a double enqueue: one job
    await receiver.until('ord', 'room_finished');
    expect(receiver.got.filter((d) => d.event.roomId === 'ord').map((d) => d.event.id)).toEqual(['ev_ord_100_0', 'ev_ord_100_1', 'ev_ord_102_0', 'ev_ord_102_1']);
  });

  it('delivers without a predecessor that never arrives, after the gap window, and counts it', async () => {
    queue.enqueue(job('gap', 201, false, ['participant_joined']));
    await receiver.until('gap', 'participant_joined');
    const gaps = (await registry.getSingleMetric('parley_webhook_order_gaps_total')!.get()).values;
    expect(gaps.reduce((a, v) => a + v.value, 0)).toBe(1);
  });
});

describe('a delivery in progress when its replica stops', () => {
  const receiver = new TestReceiver();
  const connections: Array<ReturnType<typeof createBullConnection>> = [];
  const queues: WebhookReceiver[] = [];

  const replica = async (name: string): Promise<WebhookReceiver> => {
    const connection = createBullConnection(redis.url, `webhooks-${name}`);
    connections.push(connection);
    const target = { url: receiver.url, key: KEYS[0]!.key, secret: KEYS[0]!.secret, timeoutMs: 2000, retryForMs: 60_000 };
    const q = await WebhookReceiver.create({ target, connection, metrics: new WebhookMetrics(new Registry()), log, replicaId: name, prefix: 'wh-handover' });
    queues.push(q);
    return q;
  };

  beforeAll(() => receiver.start());

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await Promise.all(connections.map((c) => c.quit()));
    await receiver.stop();
  });

  it('is handed back to the queue and finished by another replica', async () => {
    receiver.status = 503;
    const a = await replica('a');
    a.enqueue(job('hand', 300, true, ['room_started', 'participant_joined']));
    await waitFor(async () => (receiver.refused.length > 0 ? true : null), 10_000, 'a refused delivery');
    await replica('b');
    await a.close(); // stops retrying at once; the job goes back to the queue
    receiver.status = 200;
    await receiver.until('hand', 'participant_joined');
    expect(receiver.kinds('hand')).toEqual(['room_started', 'participant_joined']);
  });
});

describe('translated voices (RoomProducers, a real mediasoup producer)', () => {
  const receiver = new TestReceiver();
  let worker: types.Worker;
  let webhooks: Webhooks | null = null;
  let inject: PlainInject | null = null;

  beforeAll(async () => {
    await receiver.start();
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
  });

  afterAll(async () => {
    inject?.close();
    worker?.close();
    await webhooks?.close();
    await receiver.stop();
  });

  it('a voice published then closed reads translation_started then translation_stopped', async () => {
    const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    const rooms = new RoomStore({ store: new MemoryStore(), replicaId: 'g1', maxPeers: 8, log });
    const routers = { markAvailable: () => undefined } as unknown as RoomRouters;
    const producers = new RoomProducers({ rooms, routers, replicaId: 'g1', log });
    const config = { api: { enabled: true, keys: KEYS, maxRequestAgeSeconds: 300 }, webhooks: { urls: [receiver.url], apiKey: KEYS[0]!.key, timeoutMs: 2000, retryForMs: 60_000 } };
    webhooks = await startWebhooks({ config, redisUrl: redis.url, rooms, registry: new Registry(), log, replicaId: 'g1', prefix: 'wh-voice' });

    await rooms.apply('voice', { type: 'peer.join', peer: { peerId: 'ana', displayName: 'Ana', role: 'speaker', replicaId: 'g1', spokenLanguage: 'en', listeningLanguage: 'en', joinedAt: Date.now() } });
    inject = await PlainInject.create({ router });
    await producers.publish({ roomId: 'voice', peerId: 'ana', producer: inject.producer, origin: 'voice', source: 'translation:es', rr: {} as RoomRouter });
    inject.close();
    await producers.settle();
    await rooms.apply('voice', { type: 'peer.leave', peerId: 'ana' });

    await receiver.until('voice', 'room_finished');
    expect(receiver.kinds('voice')).toEqual(['room_started', 'participant_joined', 'translation_started', 'translation_stopped', 'participant_left', 'room_finished']);
    const [started, stopped] = receiver.room('voice').filter((e) => e.translation);
    expect(started!.translation).toEqual({ speakerIdentity: 'ana', language: 'es' });
    expect(stopped!.translation).toEqual({ speakerIdentity: 'ana', language: 'es' });
    expect(started!.track).toBeUndefined();
    expectConsistent(receiver, 'voice');
  });
});
