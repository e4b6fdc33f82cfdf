import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav, parseWav, rms } from '../audio/wav.js';
import { chooseVoices, EspeakTts } from './espeak.js';

const installed = spawnSync('espeak-ng', ['--version']).status === 0;

describe('chooseVoices', () => {
  it('maps language codes to a plain or preferred regional voice', () => {
    const listing = [
      'Pty Language       Age/Gender VoiceName          File                 Other Languages',
      ' 5  en-gb           --/M      English_(Great_Britain) gmw/en            (en 2)',
      ' 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)',
      ' 5  es              --/M      Spanish_(Spain)    roa/es               ',
      ' 5  es-419          --/M      Spanish_(Latin_America) roa/es-419      (es-mx 6)',
      ' 5  fr-be           --/M      French_(Belgium)   roa/fr-BE            (fr 8)',
      ' 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)',
      ' 5  vi-vn-x-central --/M      Vietnamese_(Central) aav/vi-VN-x-central',
      ' 2  vi              --/M      Vietnamese_(Northern) aav/vi',
    ].join('\n');
    const voices = chooseVoices(listing, { de: 'gmw/en' });
    expect(Object.fromEntries(voices)).toEqual({ en: 'en-us', es: 'es', fr: 'fr-fr', vi: 'vi', de: 'gmw/en' });
    expect(() => chooseVoices(listing, { de: 'de' })).toThrow(TypeError);
  });
});

describe.skipIf(!installed)('EspeakTts (real espeak-ng)', () => {
  let tts: EspeakTts;
  beforeAll(async () => {
    tts = await EspeakTts.create();
  });
  afterAll(async () => {
    await tts?.close();
  });

  it('offers at least en, es, vi, fr and de', () => {
    expect(tts.languages).toEqual(expect.arrayContaining(['en', 'es', 'vi', 'fr', 'de']));
  });

  const sentences: Array<[string, string]> = [
    ['en', 'The weather is nice today and we are going to the beach.'],
    ['es', 'La casa es grande y el perro duerme en el jardín.'],
  ];
  for (const [language, text] of sentences) {
    it(`speaks a ${language} sentence: plausible length and real energy`, async () => {
      const audio = await tts.synthesize(text, language);
      const seconds = audio.samples.length / audio.sampleRate;
      const words = text.split(/\s+/).length;
      // 175 words/min is ~2.9 words/s; measured 2.96 s for both 11-word sentences. Allow 1.5-6 words/s.
      expect(seconds).toBeGreaterThan(words / 6);
      expect(seconds).toBeLessThan(words / 1.5);
      // Measured RMS ~2,700 of 32,768; silence or a broken decode (wrong byte order reads as noise) is caught below.
      expect(rms(audio.samples)).toBeGreaterThan(500);
      // Speech has pauses: some 20 ms frames are far quieter than the loudest ones.
      const frame = Math.round(audio.sampleRate * 0.02);
      const levels: number[] = [];
      for (let i = 0; i + frame <= audio.samples.length; i += frame) levels.push(rms(audio.samples.subarray(i, i + frame)));
      const loud = Math.max(...levels);
      expect(levels.filter((l) => l < loud * 0.1).length).toBeGreaterThan(3);
    });
  }

  it('speaks Vietnamese too, and the voices differ', async () => {
    const vi = await tts.synthesize('Xin chào, hôm nay trời đẹp quá.', 'vi');
    const en = await tts.synthesize('Xin chào, hôm nay trời đẹp quá.', 'en');
    expect(rms(vi.samples)).toBeGreaterThan(500);
    expect(vi.samples.length).not.toBe(en.samples.length);
  });

  it('reads text that looks like options as text', async () => {
    const audio = await tts.synthesize('-v xx --help', 'en');
    expect(audio.samples.length / audio.sampleRate).toBeGreaterThan(0.5);
  });

  it('round-trips its output through the WAV writer', async () => {
    const audio = await tts.synthesize('Hello there.', 'en');
    const again = parseWav(encodeWav(audio));
    expect(again.sampleRate).toBe(audio.sampleRate);
    expect(Array.from(again.samples)).toEqual(Array.from(audio.samples));
  });

  it('returns silence for empty text and refuses unknown languages', async () => {
    expect((await tts.synthesize('   ', 'en')).samples.length).toBe(0);
    await expect(tts.synthesize('hello', 'xx')).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_LANGUAGE' });
  });

  it('refuses a configured voice espeak-ng does not have (it would silently use its default)', async () => {
    await expect(EspeakTts.create({ voices: { en: 'no-such-voice' } })).rejects.toThrow(/no-such-voice/);
    const gb = await EspeakTts.create({ voices: { en: 'en-gb' } });
    expect(gb.voiceFor('en')).toBe('en-gb');
  });
});

describe('EspeakTts without espeak-ng', () => {
  it('fails fast naming the Debian package', async () => {
    await expect(EspeakTts.create({ bin: '/nonexistent/espeak-ng' })).rejects.toMatchObject({
      code: 'ERR_MODEL_MISSING',
      message: expect.stringContaining('espeak-ng'),
    });
  });
});
