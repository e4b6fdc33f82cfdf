import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { startReplicas } from '../src/devkit/cluster.js';
import type { GatewayProcess } from '../src/devkit/gateway.js';
import { waitFor } from '../src/devkit/media.js';
import { SignalingClient, testToken, OPUS_SEND, TEST_DTLS } from '../src/devkit/signaling.js';

let redis: EmbeddedRedis;
let replicas: GatewayProcess[] = [];
const clients: SignalingClient[] = [];


async function metric(g: GatewayProcess, name: string): Promise<number> {
  const text = await (await fetch(`${g.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : NaN;
}

async function joined(g: GatewayProcess, roomId: string, identity: string): Promise<{ c: SignalingClient; data: any }> {
  const c = await SignalingClient.connect(g.url);
  clients.push(c);
  const res = await c.request('join', { token: await testToken(roomId, identity), roomId });
  expect(res.ok, JSON.stringify(res.error)).toBe(true);
  return { c, data: res.data };
}

/** A peer joined on `g` with a connected send transport. */
async function sender(g: GatewayProcess, roomId: string, identity: string) {
  const peer = await joined(g, roomId, identity);
  const send = await peer.c.request('createTransport', { direction: 'send' });
  expect((await peer.c.request('connectTransport', { transportId: send.data.id, dtlsParameters: TEST_DTLS })).ok).toBe(true);
  const produce = (ssrc = 11111111) => peer.c.request('produce', { transportId: send.data.id, kind: 'audio', rtpParameters: { ...OPUS_SEND, encodings: [{ ssrc }] } });
  return { ...peer, produce };
}

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  replicas = await startReplicas(redis.url, 2, 'sig');
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(replicas.map((r) => r.kill()));
  await redis?.stop();
});

describe('media across two replicas (signaling level)', () => {
  it('pipes a producer on demand, cascades its close to the far consumer, and closes idle pipes', async () => {
    const [g0, g1] = replicas as [GatewayProcess, GatewayProcess];
    const alice = await sender(g0, 'pipes', 'alice');
    const produced = await alice.produce();
    expect(produced.ok, JSON.stringify(produced.error)).toBe(true);
    const producerId = produced.data.producerId as string;

    const bob = await joined(g1, 'pipes', 'bob');
    expect(bob.data.replicas.map((r: { url: string }) => r.url)).toContain(g0.url);
    const alicePeer = bob.data.peers.find((p: { peerId: string }) => p.peerId === 'alice');
    expect(alicePeer.producers.map((p: { producerId: string }) => p.producerId)).toEqual([producerId]);

    const recv = await bob.c.request('createTransport', { direction: 'recv' });
    const consumed = await bob.c.request('consume', { transportId: recv.data.id, producerId, rtpCapabilities: bob.data.routerRtpCapabilities });
    expect(consumed.ok, JSON.stringify(consumed.error)).toBe(true);
    expect(consumed.data.peerId).toBe('alice');
    expect(await metric(g1, 'parley_piped_producers')).toBe(1);
    expect(await metric(g1, 'parley_pipes_open')).toBe(1);
    expect(await metric(g0, 'parley_pipes_open')).toBe(1);

    // Closing on A cascades: room event -> B drops its piped copy -> B's consumer closes -> Bob is told.
    expect((await alice.c.request('closeProducer', { producerId })).ok).toBe(true);
    await bob.c.waitFor('producerClosed', (d) => d.producerId === producerId);
    await bob.c.waitFor('consumerClosed', (d) => d.consumerId === consumed.data.consumerId);
    await waitFor(async () => ((await metric(g1, 'parley_pipes_open')) === 0 && (await metric(g0, 'parley_pipes_open')) === 0 ? true : null), 5000, 'idle pipes closed');
    expect(await metric(g1, 'parley_piped_producers')).toBe(0);

    // A producer the room does not know is refused with a code, across replicas too.
    const bogus = await bob.c.request('consume', { transportId: recv.data.id, producerId: 'nope', rtpCapabilities: bob.data.routerRtpCapabilities });
    expect(bogus.error!.code).toBe('ERR_PRODUCER_NOT_FOUND');
    // Each replica sees the other in its registry view (refreshed every heartbeat).
    await waitFor(async () => ((await metric(g0, 'parley_replicas_alive')) === 2 && (await metric(g1, 'parley_replicas_alive')) === 2 ? true : null), 5000, 'both replicas alive in both views');
  });

  it('a pipe whose sending end closed while Redis was down is replaced on the next consume; its dead copies are closed', async () => {
    const [g0, g1] = replicas as [GatewayProcess, GatewayProcess];
    const alice = await sender(g0, 'stale-pipes', 'alice');
    const first = await alice.produce();
    const bob = await joined(g1, 'stale-pipes', 'bob');
    const recv = await bob.c.request('createTransport', { direction: 'recv' });
    const caps = bob.data.routerRtpCapabilities;
    const consumed = await bob.c.request('consume', { transportId: recv.data.id, producerId: first.data.producerId, rtpCapabilities: caps });
    expect(consumed.ok, JSON.stringify(consumed.error)).toBe(true);
    await waitFor(async () => ((await metric(g0, 'parley_pipes_open')) === 1 ? true : null), 5000, 'pipe open on the owner');

    // Redis dies; alice's producer closes meanwhile: its room event and the owner's notice are lost, g0 closes its idle end.
    await redis.kill();
    await alice.c.request('closeProducer', { producerId: first.data.producerId });
    await waitFor(async () => ((await metric(g0, 'parley_pipes_open')) === 0 ? true : null), 5000, 'owner closed its idle end');
    expect(await metric(g1, 'parley_pipes_open')).toBe(1);
    redis = await EmbeddedRedis.start({ port: redis.port });
    await waitFor(async () => ((await Promise.all(replicas.map(async (g) => (await fetch(`${g.url}/ready`)).ok))).every(Boolean) ? true : null), 15_000, 'replicas ready again');

    const second = await waitFor(async () => {
      const res = await alice.produce(22222222);
      return res.ok ? res : null;
    }, 15_000, 'alice produces again');
    const again = await bob.c.request('consume', { transportId: recv.data.id, producerId: second.data.producerId, rtpCapabilities: caps });
    expect(again.ok, JSON.stringify(again.error)).toBe(true);
    // Replacing the stale pipe closed the dead copy of the first producer, and bob was told.
    await bob.c.waitFor('consumerClosed', (d) => d.consumerId === consumed.data.consumerId);
    expect(await metric(g1, 'parley_piped_producers')).toBe(1);
    expect(await metric(g1, 'parley_pipes_open')).toBe(1);
    expect(await metric(g0, 'parley_pipes_open')).toBe(1);
  });

  it('tells connected peers when the live replicas change, so they can fail over to replicas started after they joined', async () => {
    const { c } = await joined(replicas[0]!, 'replica-list', 'carol');
    const [late] = await startReplicas(redis.url, 1, 'sig-late');
    replicas.push(late!);
    await c.waitFor('replicas', (d) => d.replicas.some((r: { url: string }) => r.url === late!.url), 10_000);
    await late!.kill();
    await c.waitFor('replicas', (d) => !d.replicas.some((r: { url: string }) => r.url === late!.url), 10_000);
  });
});

