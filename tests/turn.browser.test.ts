/**
 * A browser that may only use TURN over TCP (iceTransportPolicy "relay", the one TURN URL with
 * ?transport=tcp) reaches the room through a real coturn on loopback, with the short-lived credential
 * the gateway derived from coturn's shared secret; the same page is refused by coturn when the gateway
 * holds a wrong secret.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/app/gateway.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import type { IceRoute } from '../src/web/call.js';
import { joinCall, launchBrowser, type ParleyBrowser } from '../src/devkit/browser.js';
import { bytesFrom } from '../src/devkit/cluster.js';
import { startTestGateway } from '../src/devkit/gateway.js';
import { SPEECH_WAV, waitFor } from '../src/devkit/media.js';
import { startCoturn, type Coturn } from './helpers/turn.js';

const SECRET = `turn-${randomUUID()}`;
let redis: EmbeddedRedis;
let coturn: Coturn;
let browser: ParleyBrowser;
const gateways: Gateway[] = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  coturn = await startCoturn(SECRET);
  browser = await launchBrowser({ fakeAudioWav: SPEECH_WAV });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const g of gateways) await g.close();
  await coturn?.stop();
  await redis?.stop();
});

async function gatewayWithTurn(secret: string): Promise<Gateway> {
  const g = await startTestGateway(redis.url, { turn: { urls: [`turn:127.0.0.1:${coturn.port}?transport=tcp`], secret, credentialTtlSeconds: 120 } });
  gateways.push(g);
  return g;
}

describe('TURN (coturn, REST credentials)', () => {
  it('a relay-only browser reaches the room through TURN over TCP and hears the other peer', async () => {
    const g = await gatewayWithTurn(SECRET);
    const a = await browser.newPage();
    const b = await browser.newPage();
    await joinCall(a, g.url, { roomId: 'turn', displayName: 'Ann', relay: true });
    await joinCall(b, g.url, { roomId: 'turn', displayName: 'Ben', relay: true });
    const idA = await a.evaluate(() => window.parley!.peerId!);
    const heard = await waitFor(async () => ((await bytesFrom(b, idA)) > 2000 ? bytesFrom(b, idA) : null), 30_000, 'audio from Ann through TURN');
    expect(heard).toBeGreaterThan(2000);
    const routes: IceRoute[] = await b.evaluate(() => window.parley!.iceRoutes());
    console.log(`[turn] routes ${JSON.stringify(routes)}`);
    expect(routes).toHaveLength(2);
    for (const route of routes) expect(route).toMatchObject({ localType: 'relay', relayProtocol: 'tcp' });
    // coturn allocated relays for Ben's time-limited username (<expiry>:<peer id>).
    const idB = await b.evaluate(() => window.parley!.peerId!);
    expect(coturn.logs()).toMatch(new RegExp(`user <\\d+:${idB}>: incoming packet ALLOCATE processed, success`));
  });

  it('with a wrong shared secret coturn refuses the credential and no media flows for relay-only pages', async () => {
    const g = await gatewayWithTurn('not-the-secret');
    const c = await browser.newPage();
    const d = await browser.newPage();
    // Signaling does not need TURN: both join. Media has no route: coturn answers 401 to every allocation.
    await joinCall(c, g.url, { roomId: 'turn-bad', displayName: 'Cy', relay: true });
    await joinCall(d, g.url, { roomId: 'turn-bad', displayName: 'Di', relay: true });
    const idC = await c.evaluate(() => window.parley!.peerId!);
    const idD = await d.evaluate(() => window.parley!.peerId!);
    const refused = new RegExp(`user <\\d+:${idD}>: incoming packet message processed, error 401`);
    await waitFor(async () => (refused.test(coturn.logs()) ? true : null), 20_000, "coturn refusing Di's credential");
    await new Promise((r) => setTimeout(r, 5000)); // what would have been ample for the relayed call above
    expect(await bytesFrom(d, idC)).toBe(0);
    const routes: IceRoute[] = await d.evaluate(() => window.parley!.iceRoutes());
    expect(routes.every((r) => r.localType === null)).toBe(true);
    expect(coturn.logs()).not.toMatch(new RegExp(`user <\\d+:(${idC}|${idD})>: incoming packet ALLOCATE processed, success`));
  });
});
