import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from './backoff.js';
import { ClientError } from './errors.js';
import { SignalingClient, toSocketUrl } from './signaling.js';
import type { SignalingOptions } from './signaling.js';

/** Just enough of the browser WebSocket for SignalingClient. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: Array<{ id: number; method: string; data: unknown }> = [];
  readonly #listeners = new Map<string, Array<(event: unknown) => void>>();

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  addEventListener(type: string, listener: (event: unknown) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as { id: number; method: string; data: unknown });
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.fire('close', { code, reason }));
  }

  // test controls
  open(): void {
    this.readyState = 1;
    this.fire('open', {});
  }

  receive(message: unknown): void {
    this.fire('message', { data: JSON.stringify(message) });
  }

  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.fire('close', { code, reason });
  }

  fire(type: string, event: unknown): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}

function client(extra: Partial<SignalingOptions> = {}): SignalingClient {
  return new SignalingClient({
    url: 'ws://gw.test/ws',
    requestTimeoutMs: 1_000,
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    ...extra,
  });
}

/** A client joined on its first socket, knowing `replicas`. */
async function joined(replicas: string[], extra: Partial<SignalingOptions> = {}): Promise<SignalingClient> {
  const signaling = client(extra);
  const connected = signaling.connect();
  last().open();
  await connected;
  signaling.setReplicas(replicas);
  signaling.resetBackoff();
  return signaling;
}

const REPLICAS = ['http://gw.test', 'http://gw-2.test', 'http://gw-3.test'];

const last = (): FakeSocket => FakeSocket.instances[FakeSocket.instances.length - 1] as FakeSocket;

describe('backoffDelay', () => {
  it('doubles from 250 ms to a 5 s cap, within the jitter', () => {
    const mid = (): number => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, undefined, mid))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelay(0, undefined, () => 0)).toBe(200);
    expect(backoffDelay(10, undefined, () => 1)).toBe(5000);
    expect(backoffDelay(10, undefined, () => 0)).toBe(4000);
  });
});

describe('toSocketUrl', () => {
  it('maps http base URLs to their /ws and keeps ws URLs', () => {
    expect(toSocketUrl('http://replica-2:8080/', 'ws://a/ws')).toBe('ws://replica-2:8080/ws');
    expect(toSocketUrl('https://b.example', 'wss://a/ws')).toBe('wss://b.example/ws');
    expect(toSocketUrl('wss://c.example/ws', 'ws://a/ws')).toBe('wss://c.example/ws');
    expect(toSocketUrl('https://d.example/app/', 'wss://a/ws')).toBe('wss://d.example/app/ws');
  });
});

describe('SignalingClient', () => {
  beforeEach(() => {
    FakeSocket.instances = [];
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('matches responses to requests by id and rejects coded errors', async () => {
    const signaling = client();
    const connected = signaling.connect();
    last().open();
    await connected;
    const a = signaling.request('updatePeer', { spokenLanguage: 'es' });
    const b = signaling.request('leave', {});
    const [first, second] = last().sent;
    last().receive({ type: 'response', id: second?.id, ok: false, error: { code: 'ERR_NOT_JOINED', message: 'no' } });
    last().receive({ type: 'response', id: first?.id, ok: true, data: {} });
    await expect(a).resolves.toEqual({});
    await expect(b).rejects.toMatchObject({ code: 'ERR_NOT_JOINED' });
  });

  it('times requests out', async () => {
    const signaling = client();
    const connected = signaling.connect();
    last().open();
    await connected;
    const pending = signaling.request('leave', {});
    vi.advanceTimersByTime(1_001);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLIENT_TIMEOUT' });
  });

  it('reconnects after an unexpected close, and stops on 4001 replaced', async () => {
    const signaling = client();
    const opens: boolean[] = [];
    const ended: Array<ClientError | null> = [];
    signaling.on('open', ({ reconnect }) => opens.push(reconnect));
    signaling.on('ended', (error) => ended.push(error));
    const connected = signaling.connect();
    last().open();
    await connected;
    last().drop(1006);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(400);
    expect(FakeSocket.instances).toHaveLength(2);
    last().open();
    expect(opens).toEqual([false, true]);
    last().drop(4001);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(ended[0]?.code).toBe('ERR_SESSION_REPLACED');
  });

  it('follows a disconnecting notification to another replica', async () => {
    const signaling = client();
    const connected = signaling.connect();
    last().open();
    await connected;
    last().receive({
      type: 'notification',
      method: 'disconnecting',
      data: { code: 'ERR_SHUTTING_DOWN', message: 'draining', reconnect: true, url: 'ws://replica-2/ws' },
    });
    last().drop(4003);
    vi.advanceTimersByTime(150);
    expect(last().url).toBe('ws://replica-2/ws');
  });

  it.each([
    ['ERR_PEER_REMOVED', true, 4002],
    ['ERR_ROOM_CLOSED', true, 1000],
    ['ERR_ROOM_CLOSED', false, 4002],
  ])('never reconnects after a %s disconnecting (reconnect: %s, close %i), and ends with its reason', async (code, reconnect, closeCode) => {
    const signaling = client();
    const ended: Array<ClientError | null> = [];
    signaling.on('ended', (error) => ended.push(error));
    const connected = signaling.connect();
    last().open();
    await connected;
    last().receive({ type: 'notification', method: 'disconnecting', data: { code, message: 'spam', reconnect } });
    last().drop(closeCode);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ code, message: 'spam' });
  });

  it('rotates to the next replica after two failed reconnects, wrapping around', async () => {
    const signaling = await joined(REPLICAS);
    last().drop(1011); // closed by the server (it is alive): the backoff applies from the start
    const urls: string[] = [];
    for (let i = 0; i < 6; i++) {
      vi.advanceTimersByTime(10_000);
      urls.push(last().url);
      last().drop(1006); // closed before it opened
    }
    expect(urls).toEqual([
      'ws://gw.test/ws', 'ws://gw.test/ws',
      'ws://gw-2.test/ws', 'ws://gw-2.test/ws',
      'ws://gw-3.test/ws', 'ws://gw-3.test/ws',
    ]);
    vi.advanceTimersByTime(10_000);
    expect(last().url).toBe('ws://gw.test/ws');
    expect(signaling.ended).toBe(false);
  });

  it('rotates through the list of the last replicas notification, not only the one from join', async () => {
    await joined(REPLICAS);
    // gw-2 and gw-3 died during the call; gw-4 replaced them.
    last().receive({ type: 'notification', method: 'replicas', data: { replicas: [{ replicaId: 'r4', url: 'http://gw-4.test' }] } });
    last().drop(1011);
    const urls: string[] = [];
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(10_000);
      urls.push(last().url);
      last().drop(1006);
    }
    expect(urls).toEqual(['ws://gw.test/ws', 'ws://gw.test/ws', 'ws://gw-4.test/ws']);
  });

  it('a successful join on the way resets the failure count', async () => {
    const signaling = await joined(REPLICAS);
    last().drop(1011);
    vi.advanceTimersByTime(10_000);
    last().drop(1006); // failure 1
    vi.advanceTimersByTime(10_000);
    last().open();
    signaling.resetBackoff(); // joined
    last().drop(1011);
    vi.advanceTimersByTime(10_000);
    last().drop(1006); // failure 1 again
    vi.advanceTimersByTime(10_000);
    expect(last().url).toBe('ws://gw.test/ws');
  });

  it('when the replica in use is cut (1006), retries it at once and moves on at once when it refuses', async () => {
    const signaling = await joined(REPLICAS);
    last().drop(1006); // kill -9 of the replica: no close frame
    vi.advanceTimersByTime(1);
    expect(last().url).toBe('ws://gw.test/ws');
    expect(FakeSocket.instances).toHaveLength(2);
    last().drop(1006); // refused: the replica is gone
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
    expect(last().url).toBe('ws://gw-2.test/ws');
    // The next replica gets the usual treatment: a refusal there waits for the backoff, twice before moving on.
    last().drop(1006);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
    vi.advanceTimersByTime(10_000);
    expect(last().url).toBe('ws://gw-2.test/ws');
    last().drop(1006);
    vi.advanceTimersByTime(10_000);
    expect(last().url).toBe('ws://gw-3.test/ws');
    expect(signaling.ended).toBe(false);
  });

  it('a cut socket whose replica answers again stays on it', async () => {
    const signaling = await joined(REPLICAS);
    last().drop(1006);
    vi.advanceTimersByTime(1);
    last().open(); // a blip: the same replica takes the socket at once
    expect(last().url).toBe('ws://gw.test/ws');
    signaling.resetBackoff();
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('goes where /rooms/<id>/connect points when rotating, and to the list when it does not answer', async () => {
    const locate = vi.fn<(failed: string, known: readonly string[]) => Promise<string | null>>();
    locate.mockResolvedValueOnce('http://gw-3.test').mockResolvedValueOnce(null);
    await joined(REPLICAS, { locate });
    last().drop(1006);
    vi.advanceTimersByTime(10_000);
    last().drop(1006);
    vi.advanceTimersByTime(10_000);
    last().drop(1006); // second failure: locate
    await vi.advanceTimersByTimeAsync(10_000);
    expect(locate).toHaveBeenCalledWith('ws://gw.test/ws', REPLICAS);
    expect(last().url).toBe('ws://gw-3.test/ws');
    last().drop(1006);
    await vi.advanceTimersByTimeAsync(10_000);
    last().drop(1006); // locate answers null: next in the list
    await vi.advanceTimersByTimeAsync(10_000);
    expect(last().url).toBe('ws://gw.test/ws');
  });

  it('moveTo(url) reconnects there at once; moveTo(null) rotates after the backoff', async () => {
    const signaling = await joined(REPLICAS);
    const opens: string[] = [];
    signaling.on('open', ({ url }) => opens.push(url));
    signaling.moveTo('http://gw-3.test', 'ERR_REPLICA_DRAINING');
    vi.advanceTimersByTime(0);
    expect(last().url).toBe('ws://gw-3.test/ws');
    last().open();
    expect(opens).toEqual(['ws://gw-3.test/ws']);
    expect(signaling.baseUrl).toBe('http://gw-3.test');
    signaling.moveTo(null, 'ERR_REPLICA_DRAINING');
    const count = FakeSocket.instances.length;
    vi.advanceTimersByTime(0);
    expect(FakeSocket.instances).toHaveLength(count);
    vi.advanceTimersByTime(10_000);
    expect(last().url).toBe('ws://gw.test/ws');
  });

  it('tries the other known replicas before failing the first connect', async () => {
    const signaling = client({ url: 'ws://gw-2.test/ws', replicas: ['http://gw-2.test', 'http://gw.test'] });
    const connected = signaling.connect();
    last().drop(1006);
    expect(last().url).toBe('ws://gw.test/ws');
    last().open();
    await connected;
    expect(signaling.baseUrl).toBe('http://gw.test');
  });

  it('fails connect() when the first socket never opens', async () => {
    const signaling = client();
    const connected = signaling.connect();
    last().drop(1006);
    await expect(connected).rejects.toMatchObject({ code: 'ERR_CLIENT_CONNECT_FAILED' });
    expect(signaling.ended).toBe(true);
  });
});
