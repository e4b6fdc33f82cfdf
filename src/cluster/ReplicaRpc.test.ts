import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { Channels } from '../state/keys.js';
import { MemoryStore } from '../state/MemoryStore.js';
import { ReplicaRpc } from './ReplicaRpc.js';
import type { RpcHandler } from './rpcMap.js';

const log = createLogger({ level: 'silent', pretty: false });

describe('ReplicaRpc: the typed contract between replicas, checked where messages arrive', () => {
  let store: MemoryStore;
  let a: ReplicaRpc;
  let b: ReplicaRpc;

  beforeEach(async () => {
    store = new MemoryStore();
    a = new ReplicaRpc({ store, replicaId: 'a', timeoutMs: 1000, log });
    b = new ReplicaRpc({ store, replicaId: 'b', timeoutMs: 1000, log });
    await Promise.all([a.start(), b.start()]);
  });

  afterEach(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it('answers a request with its handler, told who asked', async () => {
    let askedBy = '';
    b.handle('pipe.connect', async (p, from) => {
      askedBy = from;
      return { ...p, port: p.port + 1 };
    });
    const reply = await a.request('b', 'pipe.connect', { roomId: 'r', ip: '127.0.0.1', port: 40000 });
    expect(reply).toEqual({ roomId: 'r', ip: '127.0.0.1', port: 40001 });
    expect(askedBy).toBe('a');
  });

  it('refuses params that do not match the method, before the handler runs', async () => {
    let ran = false;
    b.handle('pipe.consume', async () => {
      ran = true;
      return { kind: 'audio', rtpParameters: { codecs: [] }, paused: false, appData: {} };
    });
    const bad = { roomId: 'r', producerId: 42 } as unknown as { roomId: string; producerId: string };
    await expect(a.request('b', 'pipe.consume', bad)).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', message: expect.stringContaining('producerId') });
    expect(ran).toBe(false);
  });

  it('refuses a method the map does not name, or one this replica does not handle', async () => {
    const request = a.request as unknown as (to: string, method: string, params: unknown) => Promise<unknown>;
    await expect(request.call(a, 'b', 'room.delete', {})).rejects.toMatchObject({ code: 'ERR_UNKNOWN_METHOD' });
    await expect(a.request('b', 'pipe.connect', { roomId: 'r', ip: '127.0.0.1', port: 1 })).rejects.toMatchObject({ code: 'ERR_UNKNOWN_METHOD' });
  });

  it('refuses a malformed result on the asking side', async () => {
    b.handle('pipe.connect', (async () => ({ roomId: 'r', ip: '127.0.0.1', port: 'x' })) as unknown as RpcHandler<'pipe.connect'>);
    await expect(a.request('b', 'pipe.connect', { roomId: 'r', ip: '127.0.0.1', port: 1 })).rejects.toMatchObject({
      code: 'ERR_REPLICA_UNREACHABLE',
      message: expect.stringContaining('malformed result'),
    });
  });

  it('ignores garbage on its channel and keeps serving', async () => {
    const notices: string[] = [];
    b.handle('pipe.producerClosed', async (p, from) => {
      notices.push(`${from}:${p.producerId}`);
    });
    await store.publish(Channels.replica('b'), 'not json');
    await store.publish(Channels.replica('b'), JSON.stringify({ kind: 'request', id: 'x' }));
    a.notify('b', 'pipe.producerClosed', { roomId: 'r', producerId: 'p1' });
    await expect.poll(() => notices).toEqual(['a:p1']);
  });
});
