import { describe, expect, it } from 'vitest';
import { CaptionOrder } from './captionOrder.js';

const c = (seq: number | null, extra: Partial<{ utteranceId: string; language: string; original: boolean }> = {}) => ({
  utteranceId: 'u1', language: 'en', original: true, ...extra, final: seq === null, ...(seq === null ? {} : { seq }),
});

describe('CaptionOrder', () => {
  it('shows partials in seq order and drops one that arrives after a newer one', () => {
    const order = new CaptionOrder();
    expect(order.admit(c(1))).toBe(true);
    expect(order.admit(c(3))).toBe(true);
    expect(order.admit(c(2))).toBe(false);
    expect(order.admit(c(4))).toBe(true);
  });

  it('never lets a partial follow the final, and shows the final once', () => {
    const order = new CaptionOrder();
    expect(order.admit(c(5))).toBe(true);
    expect(order.admit(c(null))).toBe(true);
    expect(order.admit(c(6))).toBe(false);
    expect(order.admit(c(null))).toBe(false);
  });

  it('keeps languages, originals and utterances apart', () => {
    const order = new CaptionOrder();
    expect(order.admit(c(3))).toBe(true);
    expect(order.admit(c(1, { language: 'es', original: false }))).toBe(true);
    expect(order.admit(c(1, { utteranceId: 'u2' }))).toBe(true);
  });

  it('forgets the oldest utterances past its capacity', () => {
    const order = new CaptionOrder(2);
    order.admit(c(9, { utteranceId: 'a' }));
    order.admit(c(1, { utteranceId: 'b' }));
    order.admit(c(1, { utteranceId: 'c' }));
    expect(order.admit(c(2, { utteranceId: 'a' }))).toBe(true); // 'a' was forgotten
  });
});
