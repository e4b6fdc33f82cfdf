import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApertiumTranslate, escapeText, unescapeOutput } from './apertium.js';

const installed = existsSync('/usr/share/apertium/modes/eng-spa.mode') && existsSync('/usr/share/apertium/modes/spa-eng.mode');

describe('apertium stream framing', () => {
  it('escapes reserved characters and flattens whitespace', () => {
    expect(escapeText(' a^b $c\n[d]\0{e} f/g<h>@i\\j ')).toBe('a\\^b \\$c \\[d\\] \\{e\\} f\\/g\\<h\\>\\@i\\\\j');
  });

  it('strips the terminator added on input and unescapes', () => {
    expect(unescapeOutput('Hola..[]')).toBe('Hola.');
    expect(unescapeOutput('Hola.[][\n]')).toBe('Hola');
    expect(unescapeOutput(' Tengo un\\^b\\/c.[]')).toBe('Tengo un^b/c');
  });
});

describe.skipIf(!installed)('ApertiumTranslate (real apertium eng-spa)', () => {
  let mt: ApertiumTranslate;
  beforeAll(async () => {
    mt = await ApertiumTranslate.create();
  });
  afterAll(async () => {
    await mt?.close();
  });

  it('discovers the installed pairs under our language codes', () => {
    expect(mt.pairs).toEqual(expect.arrayContaining([['en', 'es'], ['es', 'en']]));
  });

  it('translates English to Spanish', async () => {
    expect((await mt.translate('Hello.', 'en', 'es')).text).toBe('Hola.');
    expect((await mt.translate('The house is big.', 'en', 'es')).text).toMatch(/la casa es grande/i);
    const { text } = await mt.translate('Good morning, thank you very much', 'en', 'es');
    expect(text).toMatch(/buenos días/i);
    expect(text).toMatch(/muchas gracias/i);
  });

  it('translates Spanish to English', async () => {
    expect((await mt.translate('La casa es grande.', 'es', 'en')).text).toBe('The house is big.');
    expect((await mt.translate('Buenos días, amigo', 'es', 'en')).text).toMatch(/good morning/i);
  });

  it('answers concurrent requests in order on one long-lived pipeline', async () => {
    const words = ['one', 'two', 'three', 'four', 'the red car', 'the house'];
    const out = await Promise.all(words.map((w) => mt.translate(w, 'en', 'es')));
    expect(out.map((o) => o.text.toLowerCase())).toEqual(['uno', 'dos', 'tres', 'cuatro', 'el coche rojo', 'la casa']);
  });

  it('passes reserved characters and line breaks through safely', async () => {
    const { text } = await mt.translate('The house [1] costs $5 / night.\nThe car is red.', 'en', 'es');
    expect(text).toContain('[1]');
    expect(text).toContain('$5 /');
    expect(text).toMatch(/la casa.*el coche es rojo/i);
    expect((await mt.translate('  \n ', 'en', 'es')).text).toBe('');
  });

  it('refuses a pair that is not installed with a coded error', async () => {
    await expect(mt.translate('Xin chào', 'vi', 'en')).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_LANGUAGE',
      message: expect.stringContaining('vi->en'),
    });
  });

  it('is unusable after close', async () => {
    const other = await ApertiumTranslate.create({ warm: true });
    await other.close();
    await other.close();
    await expect(other.translate('Hello', 'en', 'es')).rejects.toThrow(/closed/);
  });
});

describe('ApertiumTranslate without data', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-apertium-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails fast naming the Debian packages', async () => {
    await expect(ApertiumTranslate.create({ dataDir: dir })).rejects.toMatchObject({
      code: 'ERR_MODEL_MISSING',
      message: expect.stringContaining('apertium-eng-spa'),
    });
  });
});
