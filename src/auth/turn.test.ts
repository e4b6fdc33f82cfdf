import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { turnServers } from './turn.js';

const turn = { urls: ['turn:127.0.0.1:3478?transport=tcp'], secret: 's3cret', credentialTtlSeconds: 600, forceRelay: false };

describe('turnServers', () => {
  it('derives an expiring REST-style credential and never hands out the secret', () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const [server] = turnServers(turn, 'alice', now);
    expect(server!.urls).toEqual(turn.urls);
    expect(server!.username).toBe(`${now / 1000 + 600}:alice`);
    expect(server!.credential).toBe(createHmac('sha1', 's3cret').update(server!.username).digest('base64'));
    expect(JSON.stringify(server)).not.toContain('s3cret');
    // Another peer or another moment gets another credential.
    expect(turnServers(turn, 'bob', now)[0]!.credential).not.toBe(server!.credential);
    expect(turnServers(turn, 'alice', now + 1000)[0]!.username).not.toBe(server!.username);
  });

  it('gives nothing when TURN is not configured', () => {
    expect(turnServers({ ...turn, urls: [] }, 'alice')).toEqual([]);
    expect(turnServers({ ...turn, secret: '' }, 'alice')).toEqual([]);
  });
});
