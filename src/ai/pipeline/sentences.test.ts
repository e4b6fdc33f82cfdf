import { describe, expect, it } from 'vitest';
import { splitSentences } from './sentences.js';

describe('splitSentences', () => {
  it('splits on . ! ? … and ;', () => {
    expect(splitSentences('The meeting starts now. Are you all here? Great, let us begin! I was thinking… maybe we wait a bit; the rest will join soon.', 'en')).toEqual([
      'The meeting starts now.',
      'Are you all here?',
      'Great, let us begin!',
      'I was thinking…',
      'maybe we wait a bit;',
      'the rest will join soon.',
    ]);
  });

  it('keeps Spanish ¿ and ¡ with the sentence they open, with or without a space before them', () => {
    expect(splitSentences('¿Cómo estás hoy, amigo? ¡Muy bien, gracias a ti!¿Y tu familia cómo está?', 'es')).toEqual([
      '¿Cómo estás hoy, amigo?',
      '¡Muy bien, gracias a ti!',
      '¿Y tu familia cómo está?',
    ]);
  });

  it('does not split after abbreviations, initials or inside numbers', () => {
    expect(splitSentences('Mr. Smith and Dr. Jones met J. R. Tolkien at 3.5 pm. They talked about apples, pears, etc. and left.', 'en')).toEqual([
      'Mr. Smith and Dr. Jones met J. R. Tolkien at 3.5 pm.',
      'They talked about apples, pears, etc. and left.',
    ]);
    expect(splitSentences('El Sr. García y la Sra. López llegaron tarde. La reunión empezó sin ellos.', 'es-MX')).toEqual([
      'El Sr. García y la Sra. López llegaron tarde.',
      'La reunión empezó sin ellos.',
    ]);
    expect(splitSentences('We met in the U.S. last year, e.g. in Boston. It was a good trip.', 'en')).toEqual([
      'We met in the U.S. last year, e.g. in Boston.',
      'It was a good trip.',
    ]);
  });

  it('keeps closing quotes and brackets with their sentence, French spacing included', () => {
    expect(splitSentences('Il a dit « Bonjour à tous ! » Puis il est parti sans rien dire.', 'fr')).toEqual([
      'Il a dit « Bonjour à tous ! »',
      'Puis il est parti sans rien dire.',
    ]);
    expect(splitSentences('She said "we are done here." (And she meant it.) Then she left the room.', 'en')).toEqual([
      'She said "we are done here."',
      '(And she meant it.)',
      'Then she left the room.',
    ]);
  });

  it('merges fragments under three words into a neighbour: the previous one, or the next when they lead', () => {
    expect(splitSentences('Yes. I will come tomorrow morning.', 'en')).toEqual(['Yes. I will come tomorrow morning.']);
    expect(splitSentences('I will come tomorrow morning. Thank you. See you there then.', 'en')).toEqual([
      'I will come tomorrow morning. Thank you.',
      'See you there then.',
    ]);
    expect(splitSentences('I will come tomorrow morning. OK!', 'en')).toEqual(['I will come tomorrow morning. OK!']);
    expect(splitSentences('No. No!', 'en')).toEqual(['No. No!']);
  });

  it('keeps text without a terminator as one sentence, and the unterminated tail', () => {
    expect(splitSentences('hello world', 'en')).toEqual(['hello world']);
    expect(splitSentences('This is the first one. and here comes a tail without end', 'en')).toEqual([
      'This is the first one.',
      'and here comes a tail without end',
    ]);
  });

  it('splits after full-width terminators with no space, counting letters as words in Chinese', () => {
    expect(splitSentences('我们明天见面。你会来吗？', 'zh')).toEqual(['我们明天见面。', '你会来吗？']);
    expect(splitSentences('好。我们明天见面。', 'zh')).toEqual(['好。我们明天见面。']);
  });

  it('never returns empty strings, and collapses whitespace', () => {
    expect(splitSentences('', 'en')).toEqual([]);
    expect(splitSentences('   \n ', 'en')).toEqual([]);
    expect(splitSentences('...', 'en')).toEqual(['...']);
    const out = splitSentences('  One two three.   ?!  Four five six.  \n', 'en');
    expect(out).toEqual(['One two three. ?!', 'Four five six.']);
    for (const s of out) expect(s.trim()).toBe(s);
  });
});
