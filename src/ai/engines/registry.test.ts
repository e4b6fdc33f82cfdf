import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyError } from '../../errors.js';
import { parseWav, rms } from '../audio/wav.js';
import { findModel, requiredFiles, type CatalogEntry } from '../models/catalog.js';
import type { SttEngine, TtsEngine } from '../types.js';
import { createEngines, type EngineFactories, type RegistryEngineSet } from './registry.js';

const CLIP = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav';
const offlineInstalled = existsSync('/usr/bin/python3') && existsSync(CLIP) && existsSync('/usr/share/apertium/modes/eng-spa.mode');

describe.skipIf(!offlineInstalled)('createEngines on this machine (no production models)', () => {
  let modelsDir: string;
  let engines: RegistryEngineSet;
  beforeAll(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'parley-registry-'));
    engines = await createEngines({ modelsDir, pythonBin: '/usr/bin/python3' });
  });
  afterAll(async () => {
    await engines?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('picks the offline engines', () => {
    const rows = engines.describe();
    expect(rows).toContainEqual({ stage: 'stt', language: 'en', engine: 'pocketsphinx:en-us' });
    expect(rows).toContainEqual({ stage: 'translate', language: 'en-es', engine: 'apertium' });
    expect(rows).toContainEqual({ stage: 'translate', language: 'es-en', engine: 'apertium' });
    for (const language of ['en', 'es', 'vi', 'fr', 'de']) expect(rows).toContainEqual({ stage: 'tts', language, engine: 'espeak-ng' });
    expect(engines.unavailable).toEqual([]);
  });

  it('errors clearly for languages and pairs nothing serves', () => {
    expect(() => engines.stt('vi')).toThrow(ParleyError);
    expect(() => engines.stt('vi')).toThrow(/no speech recognition engine for "vi" \(served: en\)/);
    expect(() => engines.translate('vi', 'en')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_LANGUAGE', message: expect.stringContaining('vi->en') }));
    expect(() => engines.tts('xx')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_LANGUAGE' }));
  });

  it('runs a real English clip through STT, translation and TTS', async () => {
    const heard = await engines.stt('en').transcribe(parseWav(readFileSync(CLIP)), 'en');
    expect(heard.text).toMatch(/young man/);
    const spanish = await engines.translate('en', 'es').translate(heard.text, 'en', 'es');
    expect(spanish.text).toMatch(/hombre joven|joven hombre/i);
    const audio = await engines.tts('es').synthesize(spanish.text, 'es');
    expect(audio.samples.length / audio.sampleRate).toBeGreaterThan(1);
    expect(rms(audio.samples)).toBeGreaterThan(500);
  });
});

/** Selection logic with stand-in engines (production models cannot be downloaded here). */
describe('createEngines selection', () => {
  let modelsDir: string;
  const zipformer = findModel('sherpa-onnx-streaming-zipformer-en-2023-06-26') as CatalogEntry;

  beforeAll(() => {
    modelsDir = mkdtempSync(join(tmpdir(), 'parley-registry-sel-'));
    // "Install" the zipformer: only file presence decides which factory is asked.
    for (const f of requiredFiles(zipformer)) {
      mkdirSync(join(modelsDir, zipformer.name), { recursive: true });
      writeFileSync(join(modelsDir, zipformer.name, f), 'x');
    }
  });
  afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));

  function standIns(calls: string[], sttFails = false): Partial<EngineFactories> {
    const stt = (id: string, languages: string[]): SttEngine => ({ id, languages, streaming: true, transcribe: async () => ({ text: id }), open: async () => { throw new Error('not used') }, close: async () => void calls.push(`close ${id}`) });
    const tts = (id: string, languages: string[]): TtsEngine => ({ id, languages, synthesize: async () => ({ samples: new Int16Array(0), sampleRate: 16000 }), close: async () => {} });
    return {
      pocketsphinx: async () => (calls.push('pocketsphinx'), stt('pocketsphinx', ['en'])),
      apertium: async () => (calls.push('apertium'), { id: 'apertium', pairs: [['en', 'es']], translate: async (t) => ({ text: t }), close: async () => {} }),
      espeak: async () => (calls.push('espeak'), tts('espeak', ['en', 'es'])),
      sherpaStt: async (entry) => {
        calls.push(`sherpa ${entry.name}`);
        if (sttFails) throw new Error('model file is corrupt');
        return stt(`sherpa:${entry.name}`, [...entry.languages]);
      },
    };
  }

  it('prefers an installed production model and does not start the offline engine it replaces', async () => {
    const calls: string[] = [];
    const engines = await createEngines({ modelsDir, pythonBin: 'unused', factories: standIns(calls) });
    expect(engines.stt('en').id).toBe(`sherpa:${zipformer.name}`);
    expect(calls).toEqual([`sherpa ${zipformer.name}`, 'apertium', 'espeak']);
    expect(engines.translate('en', 'es').id).toBe('apertium');
    await engines.close();
  });

  it("with prefer: 'offline' keeps the offline engine and skips the production one", async () => {
    const calls: string[] = [];
    const engines = await createEngines({ modelsDir, pythonBin: 'unused', prefer: 'offline', factories: standIns(calls) });
    expect(engines.stt('en').id).toBe('pocketsphinx');
    expect(calls).toEqual(['pocketsphinx', 'apertium', 'espeak']);
  });

  it('falls back to the offline engine when the production one fails to load, and says why', async () => {
    const calls: string[] = [];
    const engines = await createEngines({ modelsDir, pythonBin: 'unused', factories: standIns(calls, true) });
    expect(engines.stt('en').id).toBe('pocketsphinx');
    expect(engines.unavailable).toEqual([{ stage: 'stt', engine: zipformer.name, reason: 'model file is corrupt' }]);
    expect(() => engines.stt('vi')).toThrow(/not running: sherpa-onnx-streaming-zipformer-en-2023-06-26: model file is corrupt/);
  });
});
