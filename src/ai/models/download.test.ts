import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModel, requiredFiles, type CatalogEntry } from './catalog.js';
import { downloadModel, isInstalled, ModelDownloadError, resolveUrl, verifyModel } from './download.js';

/**
 * A local stand-in for the publisher (no internet here): serves a real .tar.bz2 laid out like the catalog
 * entry at the same path, honours Range, and can cut the first transfer short to exercise resume.
 */
describe('downloadModel against a local mirror', () => {
  const entry = findModel('sherpa-onnx-whisper-tiny') as CatalogEntry;
  let work: string;
  let archive: Buffer;
  let server: http.Server;
  let mirror: string;
  let cutFirstAfter = 0;
  const ranges: Array<string | undefined> = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'parley-models-'));
    const src = join(work, 'src', entry.name);
    mkdirSync(src, { recursive: true });
    // Random bytes do not compress, so the archive is big enough (~600 KB) to be cut mid-transfer.
    for (const f of requiredFiles(entry)) writeFileSync(join(src, f), randomBytes(200_000));
    expect(spawnSync('tar', ['-cjf', join(work, 'model.tar.bz2'), '-C', join(work, 'src'), entry.name]).status).toBe(0);
    archive = readFileSync(join(work, 'model.tar.bz2'));
    const path = resolveUrl(entry.source.kind === 'archive' ? entry.source.url : '', 'http://x/').pathname;
    server = http.createServer((req, res) => {
      if (req.url !== path) return void res.writeHead(404).end();
      ranges.push(req.headers.range);
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      res.writeHead(m ? 206 : 200, { 'Content-Length': archive.length - start, ...(m ? { 'Content-Range': `bytes ${start}-${archive.length - 1}/${archive.length}` } : {}) });
      if (cutFirstAfter > 0) {
        const cut = cutFirstAfter;
        cutFirstAfter = 0;
        res.write(archive.subarray(0, cut), () => res.destroy());
        return;
      }
      res.end(archive.subarray(start));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(work, { recursive: true, force: true });
  });

  it('resumes an interrupted download with Range, unpacks it and verifies it', async () => {
    const modelsDir = join(work, 'models');
    cutFirstAfter = Math.floor(archive.length / 2);
    const first = await downloadModel(entry, { modelsDir, mirror, progress: null }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ModelDownloadError);
    expect((first as ModelDownloadError).reason).toBe('interrupted');
    expect(isInstalled(entry, modelsDir)).toBe(false);

    const { dir } = await downloadModel(entry, { modelsDir, mirror, progress: null });
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(archive.length / 2);
    expect(isInstalled(entry, modelsDir)).toBe(true);
    expect(existsSync(join(modelsDir, '.downloads', 'sherpa-onnx-whisper-tiny.tar.bz2'))).toBe(false);

    const ok = await verifyModel(entry, modelsDir);
    expect(ok).toMatchObject({ status: 'ok', checked: requiredFiles(entry).length, missing: [], mismatched: [] });

    // Damage one file: the manifest written at install time catches it.
    writeFileSync(join(dir, 'tiny-tokens.txt'), 'damaged');
    expect(await verifyModel(entry, modelsDir)).toMatchObject({ status: 'corrupt', mismatched: ['tiny-tokens.txt'] });
    rmSync(join(dir, 'tiny-tokens.txt'));
    expect(await verifyModel(entry, modelsDir)).toMatchObject({ status: 'incomplete', missing: ['tiny-tokens.txt'] });
  });

  it('rejects a download whose sha256 does not match, and removes the partial file', async () => {
    const modelsDir = join(work, 'models-sha');
    const pinned: CatalogEntry = { ...entry, source: { kind: 'archive', url: (entry.source as { url: string }).url, sha256: '0'.repeat(64) } };
    const err = await downloadModel(pinned, { modelsDir, mirror, progress: null }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'checksum' });
    expect(existsSync(join(modelsDir, '.downloads', 'sherpa-onnx-whisper-tiny.tar.bz2.part'))).toBe(false);
  });

  it('reports HTTP errors with the status', async () => {
    const missing: CatalogEntry = { ...entry, source: { kind: 'archive', url: 'https://github.com/nothing/here.tar.bz2' } };
    await expect(downloadModel(missing, { modelsDir: join(work, 'm404'), mirror, progress: null })).rejects.toMatchObject({
      reason: 'http',
      message: expect.stringContaining('404'),
    });
  });

  it('reports a model that was never installed as missing', async () => {
    expect(await verifyModel(entry, join(work, 'empty'))).toMatchObject({ status: 'missing', missing: requiredFiles(entry) });
  });
});

describe('resolveUrl', () => {
  it('keeps the publisher path under a mirror', () => {
    expect(resolveUrl('https://github.com/k2-fsa/a/b.tar.bz2', 'http://mirror.local/models').href).toBe('http://mirror.local/models/k2-fsa/a/b.tar.bz2');
    expect(resolveUrl('https://github.com/k2-fsa/a/b.tar.bz2').href).toBe('https://github.com/k2-fsa/a/b.tar.bz2');
  });
});
