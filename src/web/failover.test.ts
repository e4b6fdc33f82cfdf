import { describe, expect, it } from 'vitest';
import { nextReplicaUrl, replicaUrls, rotationTarget, sameReplica, shouldRotate, toBaseUrl } from './failover.js';

const A = 'http://localhost:8080';
const B = 'http://localhost:8081';
const C = 'http://localhost:8082';

describe('failover', () => {
  it('rotates after the second failure in a row', () => {
    expect([0, 1, 2, 3].map((n) => shouldRotate(n))).toEqual([false, false, true, true]);
  });

  it('rotates at the first failure after the socket in use was cut', () => {
    expect([0, 1, 2].map((n) => shouldRotate(n, true))).toEqual([false, true, true]);
  });

  it('moves to the next replica, wrapping around and skipping the failed one', () => {
    expect(nextReplicaUrl([A, B, C], A)).toBe(B);
    expect(nextReplicaUrl([A, B, C], 'ws://localhost:8082/ws')).toBe(A);
    expect(nextReplicaUrl([A, A, B], A)).toBe(B);
    expect(nextReplicaUrl([B, C], A)).toBe(B);
    expect(nextReplicaUrl([A], A)).toBeNull();
    expect(nextReplicaUrl([], A)).toBeNull();
  });

  it('prefers the located replica unless it is the failed one', () => {
    expect(rotationTarget([A, B, C], A, C)).toBe(C);
    expect(rotationTarget([A, B, C], A, `${A}/`)).toBe(B);
    expect(rotationTarget([A], A, null)).toBeNull();
  });

  it('compares socket and base URLs by replica', () => {
    expect(toBaseUrl('ws://localhost:8081/ws')).toBe(B);
    expect(toBaseUrl('wss://x.example/app/ws')).toBe('https://x.example/app');
    expect(sameReplica(`${B}/`, 'ws://localhost:8081/ws')).toBe(true);
    expect(sameReplica(A, B)).toBe(false);
  });

  it('reads the replica list of a join response, dropping junk and duplicates', () => {
    expect(replicaUrls([{ replicaId: 'a', url: A }, { replicaId: 'b', url: B }, { url: `${A}/` }, { url: 'ftp://x' }, null, { url: 3 }])).toEqual([A, B]);
    expect(replicaUrls(undefined)).toEqual([]);
  });
});
