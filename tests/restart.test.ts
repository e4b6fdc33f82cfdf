import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { Keys } from '../src/state/keys.js';
import { RedisStore } from '../src/state/RedisStore.js';
import { freePortRange, freeTcpPort } from '../src/util/ports.js';
import { joinAs, launchBrowser, waitForState, type ParleyBrowser } from '../src/devkit/browser.js';
import { bytesFrom } from '../src/devkit/cluster.js';
import { spawnGateway, type GatewayProcess } from '../src/devkit/gateway.js';
import { SPEECH_WAV, waitFor } from '../src/devkit/media.js';
import { SignalingClient, testToken } from '../src/devkit/signaling.js';

let redis: EmbeddedRedis;
let store: RedisStore;
let browser: ParleyBrowser;
const gateways: GatewayProcess[] = [];

async function start(options: { port: number; rtcBasePort: number; replicaId: string; graceMs: number }): Promise<GatewayProcess> {
  const g = await spawnGateway(redis.url, { ...options, env: { PARLEY_ROOMS_RECONNECT_GRACE_MS: String(options.graceMs) } });
  gateways.push(g);
  return g;
}

async function roomPeers(roomId: string): Promise<string[]> {
  const rec = await store.get(Keys.room(roomId));
  if (!rec) return [];
  return Object.keys((JSON.parse(rec.doc) as { snapshot: { context: { peers: object } } }).snapshot.context.peers).sort();
}

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  store = await RedisStore.create({ url: redis.url });
  browser = await launchBrowser({ fakeAudioWav: SPEECH_WAV });
});

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.kill()));
  // Killed gateways would look alive for the staleness window and be chosen as drain targets by the next test.
  await store.del(Keys.replicas());
});

afterAll(async () => {
  await browser?.close();
  await store?.close();
  await redis?.stop();
});

describe('gateway restart', () => {
  it('restores the room from Redis and the browsers reconnect with audio', async () => {
    const port = await freeTcpPort();
    const rtcBasePort = await freePortRange(1);
    const opts = { port, rtcBasePort, replicaId: 'restart-a', graceMs: 30_000 };
    let gateway = await start(opts);
    const { page: a, peerId: idA } = await joinAs(browser, gateway.url, 'restart', 'Ann');
    const { page: b, peerId: idB } = await joinAs(browser, gateway.url, 'restart', 'Ben');
    await waitFor(async () => ((await bytesFrom(a, idB)) > 0 ? true : null), 20_000, 'first audio');

    await gateway.stop();
    expect(await gateway.exited).toBe(0);
    // The peers wait in Redis for their reconnect.
    expect(await roomPeers('restart')).toEqual([idA, idB].sort());
    await waitForState(a, ['reconnecting']);

    gateway = await start(opts);
    await waitForState(a, ['connected'], 30_000);
    await waitForState(b, ['connected'], 30_000);
    await waitFor(async () => ((await bytesFrom(a, idB)) > 0 && (await bytesFrom(b, idA)) > 0 ? true : null), 20_000, 'audio after restart');
    expect(gateway.logs()).toMatch(/"restored":2/);
    expect(await roomPeers('restart')).toEqual([idA, idB].sort());
    await a.close();
    await b.close();
  });

  it('pages whose peers were removed while the gateway was down (past the grace) come back with their single-use dev tokens', async () => {
    const port = await freeTcpPort();
    const rtcBasePort = await freePortRange(1);
    const opts = { port, rtcBasePort, replicaId: 'restart-c', graceMs: 1000 };
    let gateway = await start(opts);
    const { page: a, peerId: idA } = await joinAs(browser, gateway.url, 'respent', 'Ann');
    const { page: b, peerId: idB } = await joinAs(browser, gateway.url, 'respent', 'Ben');
    await waitFor(async () => ((await bytesFrom(a, idB)) > 0 ? true : null), 20_000, 'first audio');
    await gateway.stop();
    await waitForState(a, ['reconnecting']);
    await new Promise((r) => setTimeout(r, 2000)); // past the grace: the restart removes both peers
    gateway = await start(opts);
    await waitForState(a, ['connected'], 30_000);
    await waitForState(b, ['connected'], 30_000);
    // A removal they did not choose does not spend their tokens: same identities, hearing each other again.
    await waitFor(async () => ((await bytesFrom(a, idB)) > 0 && (await bytesFrom(b, idA)) > 0 ? true : null), 20_000, 'audio after coming back');
    expect(await roomPeers('respent')).toEqual([idA, idB].sort());
    await a.close();
    await b.close();
  });

  it('removes restored peers that do not come back within the grace period', async () => {
    const port = await freeTcpPort();
    const rtcBasePort = await freePortRange(1);
    let gateway = await start({ port, rtcBasePort, replicaId: 'restart-b', graceMs: 1500 });
    const c = await SignalingClient.connect(gateway.url);
    expect((await c.request('join', { token: await testToken('gone', 'ghost'), roomId: 'gone' })).ok).toBe(true);
    await gateway.stop();
    await c.close();
    expect(await roomPeers('gone')).toEqual(['ghost']);

    gateway = await start({ port, rtcBasePort, replicaId: 'restart-b', graceMs: 1500 });
    await waitFor(async () => ((await store.keys(Keys.roomPattern('gone'))).length === 0 ? true : null), 10_000, 'room keys removed');
    expect(await store.setMembers(Keys.roomIndex())).not.toContain('gone');
  });
});
