import { describe, expect, it } from 'vitest';
import { continuing } from './simultaneousSession.js';

describe('continuing', () => {
  it('lowercases the capital an engine gives a segment that continues a sentence', () => {
    expect(continuing('Entonces en ocio', 'then at leisure')).toBe('entonces en ocio');
    expect(continuing('¿Qué mucho?', 'how much')).toBe('¿qué mucho?');
  });

  it('keeps capitals the source had, acronyms, and text without letters', () => {
    expect(continuing('John dijo', 'John said')).toBe('John dijo');
    expect(continuing('ONU dijo', 'un said')).toBe('ONU dijo');
    expect(continuing('123', 'one two three')).toBe('123');
    expect(continuing('', 'x')).toBe('');
  });
});
