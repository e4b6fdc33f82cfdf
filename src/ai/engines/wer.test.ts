import { describe, expect, it } from 'vitest';
import { normalizeWords, wordErrorRate } from './wer.js';

describe('wordErrorRate', () => {
  it('is 0 for identical text, ignoring case and punctuation', () => {
    expect(wordErrorRate('He was not an ill-disposed young man.', 'he was not an ill disposed young man').wer).toBe(0);
  });

  it('counts substitutions, deletions and insertions', () => {
    const sub = wordErrorRate('the cat sat', 'the dog sat');
    expect(sub).toMatchObject({ substitutions: 1, deletions: 0, insertions: 0, referenceWords: 3 });
    expect(sub.wer).toBeCloseTo(1 / 3);

    const del = wordErrorRate('had he married a more a amiable woman', 'had he married a more amiable woman');
    expect(del).toMatchObject({ substitutions: 0, deletions: 1, insertions: 0 });
    expect(del.wer).toBeCloseTo(1 / 8);

    const ins = wordErrorRate('he might even have been made amiable', 'he might even have been made the amiable');
    expect(ins).toMatchObject({ substitutions: 0, deletions: 0, insertions: 1 });
  });

  it('finds the minimal alignment, not a positional comparison', () => {
    // Positionally every word differs after the inserted "oh"; the minimal edit is one insertion.
    expect(wordErrorRate('a b c d e', 'oh a b c d e').wer).toBeCloseTo(1 / 5);
  });

  it('can exceed 1 when the hypothesis is much longer', () => {
    expect(wordErrorRate('yes', 'no no no').wer).toBe(3);
  });

  it('handles empty input', () => {
    expect(wordErrorRate('', '').wer).toBe(0);
    expect(wordErrorRate('', 'noise').wer).toBe(1);
    expect(wordErrorRate('two words', '').wer).toBe(1);
  });

  it('keeps inner apostrophes and non-ASCII letters', () => {
    expect(normalizeWords("Don't stop, ¿qué tal? Việt Nam!")).toEqual(["don't", 'stop', 'qué', 'tal', 'việt', 'nam']);
  });
});
