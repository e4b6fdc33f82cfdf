import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../api/types.js';
import { backoffMs, deliverWithRetry, postEvent, type DeliveryTarget } from './deliver.js';
import { verifyWebhook } from './signature.js';

const SECRET = 'a-secret-of-at-least-32-characters-000';
const servers: Server[] = [];

async function receiver(answer: (n: number) => number): Promise<{ url: string; got: Array<{ headers: Record<string, unknown>; body: string }> }> {
  const got: Array<{ headers: Record<string, unknown>; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = answer(got.length);
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const event = (): WebhookEvent => ({ id: 'wh_x_1_0', event: 'participant_joined', roomId: 'r', seq: 1, createdAt: Date.now(), participant: { identity: 'ana', name: 'Ana', role: 'speaker', replicaId: 'g1' } });
const target = (url: string, extra: Partial<DeliveryTarget> = {}): DeliveryTarget => ({ url, key: 'k1', secret: SECRET, timeoutMs: 1000, retryForMs: 60_000, ...extra });

describe('webhook delivery', () => {
  it('backs off 0.5 s, 1 s, 2 s ... up to 30 s', () => {
    expect([0, 1, 2, 5, 6, 100].map(backoffMs)).toEqual([500, 1000, 2000, 16_000, 30_000, 30_000]);
  });

  it('POSTs the event as signed JSON with its id header', async () => {
    const r = await receiver(() => 204);
    const e = event();
    expect(await postEvent(target(r.url), e)).toEqual({ ok: true, status: 204 });
    const [req] = r.got;
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['parley-event-id']).toBe(e.id);
    const verified = verifyWebhook({ body: req!.body, signatureHeader: req!.headers['parley-signature'] as string, keyHeader: req!.headers['parley-key'] as string, keys: { k1: SECRET } });
    expect(verified).toEqual(e);
  });

  it('retries non-2xx answers until one succeeds', async () => {
    const r = await receiver((n) => (n < 3 ? 503 : 200));
    const failures: Array<number | null> = [];
    const outcome = await deliverWithRetry(target(r.url), event(), { sleep: async () => true, failed: (res) => failures.push(res.status) });
    expect(outcome).toBe('ok');
    expect(failures).toEqual([503, 503]);
    expect(r.got).toHaveLength(3);
  });

  it('gives up once the event is older than the retry window, and stops when told', async () => {
    const r = await receiver(() => 500);
    const old = { ...event(), createdAt: Date.now() - 59_800 };
    const waits: Array<number | null> = [];
    expect(await deliverWithRetry(target(r.url), old, { sleep: async () => true, failed: (_r, _n, next) => waits.push(next) })).toBe('given-up');
    expect(waits).toEqual([null]);
    expect(await deliverWithRetry(target(r.url), event(), { sleep: async () => false })).toBe('stopped');
  });

  it('times out a receiver that does not answer', async () => {
    const server = createServer(() => undefined); // never answers
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const res = await postEvent(target(url, { timeoutMs: 200 }), event());
    expect(res).toEqual({ ok: false, status: null, error: 'timed out after 200 ms' });
    server.closeAllConnections();
  });
});
