import { describe, expect, it } from 'vitest';
import { IpLimits } from './IpLimits.js';

describe('IpLimits', () => {
  it('caps the sockets of one address and forgets it with its last socket', () => {
    const limits = new IpLimits({ maxConnections: 2, perSecond: 10, burst: 10 });
    expect(limits.open('10.0.0.1')).toBe(true);
    expect(limits.open('10.0.0.1')).toBe(true);
    expect(limits.open('10.0.0.1')).toBe(false);
    expect(limits.open('10.0.0.2')).toBe(true);
    limits.closed('10.0.0.1');
    expect(limits.open('10.0.0.1')).toBe(true);
    limits.closed('10.0.0.1');
    limits.closed('10.0.0.1');
    limits.closed('10.0.0.2');
    expect(limits.size).toBe(0);
    limits.closed('10.0.0.9'); // unknown: ignored
    expect(limits.size).toBe(0);
  });

  it('shares one message budget among the sockets of an address, refilled over time', () => {
    const limits = new IpLimits({ maxConnections: 10, perSecond: 5, burst: 3 });
    limits.open('a');
    limits.open('a');
    limits.open('b');
    const now = Date.now();
    expect([limits.take('a', now), limits.take('a', now), limits.take('a', now), limits.take('a', now)]).toEqual([true, true, true, false]);
    expect(limits.take('b', now)).toBe(true);
    expect(limits.take('a', now + 200)).toBe(true);
    expect(limits.take('a', now + 200)).toBe(false);
    expect(limits.take('nobody', now)).toBe(false);
  });
});
