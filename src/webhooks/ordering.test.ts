import { describe, expect, it } from 'vitest';
import { GAP_WAIT_MS, orderDecision, RECHECK_MS } from './ordering.js';

describe('orderDecision', () => {
  const at = 1_000_000;

  it('delivers the first transition of a room, and one whose predecessor is done', () => {
    expect(orderDecision(null, at, at)).toEqual({ kind: 'deliver' });
    expect(orderDecision('completed', at, at)).toEqual({ kind: 'deliver' });
    expect(orderDecision('failed', at, at)).toEqual({ kind: 'deliver' });
  });

  it('waits, however long, for a predecessor that is queued or being delivered', () => {
    for (const s of ['waiting', 'delayed', 'active', 'prioritized'] as const) {
      expect(orderDecision(s, at, at + 10 * GAP_WAIT_MS)).toEqual({ kind: 'defer', delayMs: RECHECK_MS });
    }
  });

  it('waits for a missing predecessor until the gap window ends, then delivers without it', () => {
    expect(orderDecision('unknown', at, at)).toEqual({ kind: 'defer', delayMs: RECHECK_MS });
    expect(orderDecision('unknown', at, at + GAP_WAIT_MS - 50)).toEqual({ kind: 'defer', delayMs: 50 });
    expect(orderDecision('unknown', at, at + GAP_WAIT_MS)).toEqual({ kind: 'deliver-after-gap' });
  });
});
