import { describe, expect, it } from 'vitest';
import { UtteranceParts, type PartResult } from './utteranceParts.js';

const audio = (ms: number) => ({ samples: new Int16Array((16000 * ms) / 1000).fill(1), sampleRate: 16000 });
const marks = { speechEnd: 1_000 };
const part = (p: number, parts: number, extra: Partial<PartResult> = {}): PartResult => ({ part: p, parts, audio: audio(100), text: `p${p}`, marks, ...extra });
const seg = (index: number, last = false) => ({ segment: { index, last } });
const ids = (ready: Array<{ segment?: { index: number }; part: number }>) => ready.map((r) => `${r.segment?.index ?? '-'}:${r.part}`);

describe('UtteranceParts', () => {
  it('releases the sentences of a translation in order, holding an early one', () => {
    const parts = new UtteranceParts();
    expect(parts.offer('u', part(1, 3), 1_000, 10_000)).toEqual([]);
    expect(ids(parts.offer('u', part(0, 3), 1_000, 10_000))).toEqual(['-:0', '-:1']);
    expect(ids(parts.offer('u', part(2, 3), 1_000, 10_000))).toEqual(['-:2']);
    expect(parts.size).toBe(0);
  });

  it('a dropped sentence is skipped; a drop without a part ends the utterance', () => {
    const parts = new UtteranceParts();
    expect(ids(parts.offer('u', part(0, 3, { audio: null }), 1_000, 10_000))).toEqual([]);
    expect(ids(parts.offer('u', part(1, 3), 1_000, 10_000))).toEqual(['-:1']);
    expect(parts.offer('u', { part: undefined, parts: 1, audio: null, marks: { speechEnd: 0 } }, 1_000, 10_000)).toEqual([]);
    expect(parts.size).toBe(0);
  });

  it('plays segments in index order whatever order they arrive in, and forgets the utterance after its last', () => {
    const parts = new UtteranceParts();
    expect(parts.offer('u', part(0, 1, seg(1)), 1_000, 10_000)).toEqual([]);
    expect(parts.offer('u', part(1, 2, seg(0)), 1_000, 10_000)).toEqual([]);
    expect(ids(parts.offer('u', part(0, 2, seg(0)), 1_000, 10_000))).toEqual(['0:0', '0:1', '1:0']);
    expect(ids(parts.offer('u', part(0, 1, seg(2, true)), 1_000, 10_000))).toEqual(['2:0']);
    expect(parts.size).toBe(0);
  });

  it('a segment dropped whole (tts job dropped) lets the next one play', () => {
    const parts = new UtteranceParts();
    expect(parts.offer('u', part(0, 1, seg(1, true)), 1_000, 10_000)).toEqual([]);
    expect(ids(parts.offer('u', { part: undefined, parts: 1, audio: null, marks: { speechEnd: 0 }, ...seg(0) }, 1_000, 10_000))).toEqual(['1:0']);
    expect(parts.size).toBe(0);
  });

  it('an utterance whose missing part never comes is forgotten after its age', () => {
    const parts = new UtteranceParts();
    parts.offer('u', part(1, 2), 1_000, 5_000);
    expect(parts.size).toBe(1);
    parts.offer('other', part(0, 1), 7_000, 5_000);
    expect(parts.size).toBe(0);
  });

  it('reports each part with its length at normal speed', () => {
    const [ready] = new UtteranceParts().offer('u', { ...part(0, 1), audio: audio(250) }, 1_000, 10_000);
    expect(ready?.durationMs).toBe(250);
  });
});
