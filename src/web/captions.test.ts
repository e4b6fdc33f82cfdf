import { describe, expect, it } from 'vitest';
import {
  applyCaption,
  captionLines,
  captionParts,
  CaptionStore,
  languageTag,
  mergeText,
  parseCaption,
  pushCapped,
  SELF_NAME,
  UNKNOWN_SPEAKER,
} from './captions.js';
import type { CaptionNotice, Speakers, Utterance } from './captions.js';

function caption(extra: Partial<CaptionNotice> = {}): CaptionNotice {
  return { utteranceId: 'u1', speakerPeerId: 'ana', language: 'es', text: 'Hola', original: true, final: true, ...extra };
}

function fold(captions: CaptionNotice[], max?: number): Utterance[] {
  return captions.reduce<Utterance[]>((list, c, i) => applyCaption(list, c, 1_000 + i, max), []);
}

const speakers: Speakers = { self: new Set(['me']), names: new Map([['ana', 'Ana'], ['bo', 'Bo']]) };

describe('captions', () => {
  it('accepts only the documented notification shape', () => {
    expect(parseCaption(caption())).toEqual(caption());
    expect(parseCaption({ ...caption(), extra: 1 })).toEqual(caption());
    expect(parseCaption(null)).toBeNull();
    expect(parseCaption({ ...caption(), text: 3 })).toBeNull();
    expect(parseCaption({ ...caption(), final: 'yes' })).toBeNull();
    expect(parseCaption({ ...caption(), utteranceId: '' })).toBeNull();
  });

  it('caps lists, keeping the newest', () => {
    expect(pushCapped([1, 2, 3], 4, 3)).toEqual([2, 3, 4]);
    expect(pushCapped([], 1, 3)).toEqual([1]);
  });

  it('never lets a late partial replace a final text', () => {
    const final = { language: 'es', text: 'Hola a todos', final: true };
    expect(mergeText(final, { language: 'es', text: 'Hola', final: false })).toBe(final);
    expect(mergeText({ language: 'es', text: 'Ho', final: false }, final)).toBe(final);
    expect(mergeText(null, final)).toBe(final);
  });

  it('groups by utterance, updating partials in place and keeping arrival order', () => {
    const list = fold([
      caption({ text: 'Ho', final: false }),
      caption({ utteranceId: 'u2', speakerPeerId: 'bo', language: 'en', text: 'Hi' }),
      caption({ text: 'Hola a todos' }),
      caption({ original: false, language: 'en', text: 'Hello everyone' }),
      caption({ original: false, language: 'FR', text: 'Bonjour à tous' }),
    ]);
    expect(list.map((u) => u.utteranceId)).toEqual(['u1', 'u2']);
    expect(list[0]?.original).toEqual({ language: 'es', text: 'Hola a todos', final: true });
    expect(Object.keys(list[0]?.translations ?? {})).toEqual(['en', 'fr']);
    expect(list[0]?.firstAt).toBe(1_000);
    expect(list[0]?.updatedAt).toBe(1_004);
  });

  it('keeps only the last utterances', () => {
    const list = fold(Array.from({ length: 60 }, (_, i) => caption({ utteranceId: `u${i}` })), 50);
    expect(list).toHaveLength(50);
    expect(list[0]?.utteranceId).toBe('u10');
    expect(list[49]?.utteranceId).toBe('u59');
  });

  it('shows the translation into our listening language only', () => {
    const list = fold([
      caption(),
      caption({ original: false, language: 'fr', text: 'Salut' }),
      caption({ utteranceId: 'u2', speakerPeerId: 'me', language: 'en', text: 'Hi' }),
      caption({ utteranceId: 'u2', speakerPeerId: 'me', language: 'es', text: 'Hola', original: false }),
    ]);
    const [first, second] = captionLines(list, 'EN', speakers);
    expect(first).toMatchObject({ speaker: 'Ana', self: false, translation: null, final: true });
    expect(first?.original?.text).toBe('Hola');
    // our own words are already in English: no translation line
    expect(second).toMatchObject({ speaker: SELF_NAME, self: true, translation: null });
    expect(captionLines(list, 'fr', speakers)[0]?.translation?.text).toBe('Salut');
  });

  it('shows a translation that arrives before the original, and marks partial lines', () => {
    const list = fold([caption({ original: false, language: 'en', text: 'Hello', final: false })]);
    const [line] = captionLines(list, 'en', speakers);
    expect(line?.original).toBeNull();
    expect(line?.translation?.text).toBe('Hello');
    expect(line?.final).toBe(false);
  });

  it('names unknown speakers generically', () => {
    const list = fold([caption({ speakerPeerId: 'ghost' })]);
    expect(captionLines(list, 'en', speakers)[0]?.speaker).toBe(UNKNOWN_SPEAKER);
  });

  it('tags languages in capitals', () => {
    expect(languageTag('en')).toBe('EN');
    expect(languageTag('pt-br')).toBe('PT-BR');
    expect(languageTag('')).toBe('?');
  });

  it('logs every caption (capped) and drops malformed ones', () => {
    const store = new CaptionStore({ maxLog: 3, maxUtterances: 2 });
    expect(store.add({ bogus: true })).toBe(false);
    for (let i = 0; i < 4; i++) store.add(caption({ utteranceId: `u${i}`, language: i % 2 ? 'fr' : 'es' }), 100 + i);
    expect(store.log().map((r) => [r.utteranceId, r.receivedAt])).toEqual([['u1', 101], ['u2', 102], ['u3', 103]]);
    expect(store.utterances().map((u) => u.utteranceId)).toEqual(['u2', 'u3']);
    store.clearUtterances();
    expect(store.utterances()).toEqual([]);
    expect(store.log()).toHaveLength(3);
  });

  it('splits a simultaneous caption into spoken, committed and tentative words', () => {
    expect(captionParts({ language: 'es', text: 'hola a todos y', final: false, committed: 'hola a todos', spoken: 'hola' })).toEqual({
      spoken: 'hola',
      committed: ' a todos',
      tentative: ' y',
    });
    expect(captionParts({ language: 'es', text: 'hola mundo', final: false })).toEqual({ spoken: '', committed: '', tentative: 'hola mundo' });
    expect(captionParts({ language: 'es', text: 'hola mundo', final: true })).toEqual({ spoken: '', committed: 'hola mundo', tentative: '' });
    // The voice speaks sentence by sentence: spaces do not matter; words that do not match are not marked.
    expect(captionParts({ language: 'es', text: 'Hola. Adiós', final: true, spoken: 'Hola.  Adiós' }).spoken).toBe('Hola. Adiós');
    expect(captionParts({ language: 'es', text: 'hola', final: true, spoken: 'otra cosa' }).spoken).toBe('');
  });

  it('never takes back committed words, and keeps what the voice said', () => {
    const list = fold([
      caption({ original: false, language: 'es', text: 'hola a todos', committed: 'hola a todos', final: false }),
      caption({ original: false, language: 'es', text: 'hola a', committed: 'hola', final: false }),
    ]);
    expect(list[0]?.translations['es']?.text).toBe('hola a todos');
    const store = new CaptionStore();
    store.add(caption({ original: false, language: 'es', text: 'hola', committed: 'hola', final: false }));
    expect(store.spoken({ utteranceId: 'u1', speakerPeerId: 'bob', language: 'ES', text: 'hola' })).toBe(true);
    store.add(caption({ original: false, language: 'es', text: 'hola mundo', final: true }));
    expect(store.utterances()[0]?.translations['es']).toMatchObject({ text: 'hola mundo', spoken: 'hola', final: true });
    expect(store.spoken({ utteranceId: 'nope', speakerPeerId: 'bob', language: 'es', text: 'x' })).toBe(false);
    expect(store.spoken({ utteranceId: 5 })).toBe(false);
  });

  it('ignores a committed part that is not a prefix of the text', () => {
    expect(parseCaption({ ...caption(), text: 'abc', committed: 'xyz' })).not.toHaveProperty('committed');
    expect(parseCaption({ ...caption(), text: 'abc', committed: 'ab' })).toMatchObject({ committed: 'ab' });
  });
});
