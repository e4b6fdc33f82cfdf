import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../models/catalog.js';
import { OpusMtTranslate, UnigramTokenizer } from './onnxTranslate.js';

const S = '\u2581';

/** A tiny Marian-style vocabulary: </s>=0, <unk>=1, pieces with log-probabilities, <pad> last. */
function tokenizer(): UnigramTokenizer {
  const vocab: Array<[string, number]> = [
    ['</s>', 0], ['<unk>', 0], [`${S}the`, -1], [`${S}house`, -2], [`${S}hou`, -3], ['se', -3], [S, -4],
    ['h', -5], ['o', -5], ['u', -5], ['s', -5], ['e', -5], ['t', -5], [`${S}casa`, -2], ['<pad>', 0],
  ];
  return new UnigramTokenizer({
    model: { type: 'Unigram', vocab, unk_id: 1 },
    added_tokens: [{ id: 0, content: '</s>', special: true }, { id: 1, content: '<unk>', special: true }, { id: 14, content: '<pad>', special: true }],
  });
}

describe('UnigramTokenizer', () => {
  it('picks the most probable segmentation', () => {
    const tok = tokenizer();
    // "▁house" (-2) beats "▁hou"+"se" (-6) and single letters.
    expect(tok.encode('the house')).toEqual([2, 3]);
    expect(tok.encode('  the\n house ')).toEqual([2, 3]);
    expect(tok.encode('')).toEqual([]);
  });

  it('falls back to pieces and <unk> for what the vocabulary lacks', () => {
    const tok = tokenizer();
    // "▁thus" has no whole piece (and "▁the" does not match "▁thu"): ▁ t h u s, one piece each.
    expect(tok.encode('thus')).toEqual([6, 12, 7, 9, 10]);
    // "x" is in no piece: it becomes <unk> after the word-boundary piece.
    expect(tok.encode('the x')).toEqual([2, 6, 1]);
  });

  it('decodes, dropping special tokens and restoring spaces', () => {
    const tok = tokenizer();
    expect(tok.decode([14, 13, 0])).toBe('casa');
    expect(tok.decode([2, 4, 5])).toBe('the house');
  });

  it('refuses tokenizers that are not Unigram', () => {
    expect(() => new UnigramTokenizer({ model: { type: 'BPE', vocab: [] } })).toThrow(TypeError);
  });
});

describe('OpusMtTranslate without its model', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-opusmt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const entry of CATALOG.filter((m) => m.stage === 'translate')) {
    it(`${entry.name}: ERR_MODEL_MISSING naming the download command`, async () => {
      await expect(OpusMtTranslate.create(entry, { modelsDir: dir })).rejects.toMatchObject({
        code: 'ERR_MODEL_MISSING',
        message: expect.stringMatching(new RegExp(`model ${entry.name} not found in .*parley models download ${entry.name}`)),
      });
    });
  }
});
