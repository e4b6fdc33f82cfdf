import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, findModel, type CatalogEntry } from '../models/catalog.js';
import { SherpaStt, SherpaTts } from './sherpa.js';

// Only the fail-fast path can run here: no sherpa-onnx model is downloadable on this machine.
describe('sherpa-onnx engines without their models', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-sherpa-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const stt = CATALOG.filter((m) => m.stage === 'stt');
  const tts = CATALOG.filter((m) => m.stage === 'tts');

  for (const entry of stt) {
    it(`STT ${entry.name}: ERR_MODEL_MISSING naming the download command`, async () => {
      const started = Date.now();
      await expect(SherpaStt.create(entry, { modelsDir: dir })).rejects.toMatchObject({
        code: 'ERR_MODEL_MISSING',
        message: expect.stringContaining(`model ${entry.name} not found in ${dir}`),
      });
      expect(Date.now() - started).toBeLessThan(1000);
    });
  }

  for (const entry of tts) {
    it(`TTS ${entry.name}: ERR_MODEL_MISSING naming the download command`, async () => {
      await expect(SherpaTts.create(entry, { modelsDir: dir })).rejects.toMatchObject({
        code: 'ERR_MODEL_MISSING',
        message: expect.stringContaining(`run \`parley models download ${entry.name}\``),
      });
    });
  }

  it('lists exactly the files still missing from a partial install', async () => {
    const entry = findModel('sherpa-onnx-whisper-tiny') as CatalogEntry;
    mkdirSync(join(dir, entry.name), { recursive: true });
    writeFileSync(join(dir, entry.name, 'tiny-tokens.txt'), 'x');
    const err = (await SherpaStt.create(entry, { modelsDir: dir }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('tiny-encoder.int8.onnx, tiny-decoder.int8.onnx');
    expect(err.message).not.toContain('tiny-tokens.txt');
  });
});
