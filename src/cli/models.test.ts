import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../ai/models/catalog.js';
import { MODELS_USAGE, runModels } from './models.js';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const code = await runModels(args, { stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** A port on 127.0.0.1 that nothing listens on: connections are refused at once, no network needed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('parley models', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-models-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the catalog with stage, languages, URL and checksum status', async () => {
    const { code, stdout } = await run(['list', '--dir', dir]);
    expect(code).toBe(0);
    for (const m of CATALOG) expect(stdout).toContain(m.name);
    expect(stdout).toContain('https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models/');
    expect(stdout).toContain('https://huggingface.co/Xenova/opus-mt-en-es');
    expect(stdout).toMatch(/tts\s+vi/);
    expect(stdout).toContain('sha256: (not published)');
    expect(stdout).not.toContain('[installed]');
    const json = JSON.parse((await run(['list', '--json', '--dir', dir])).stdout) as Array<{ name: string; installed: boolean }>;
    expect(json.map((m) => m.name)).toEqual(CATALOG.map((m) => m.name));
  });

  it('fails fast and clearly when the host is unreachable', async () => {
    const port = await closedPort();
    const started = Date.now();
    const { code, stderr } = await run(['download', 'sherpa-onnx-whisper-tiny', '--dir', dir, '--mirror', `http://127.0.0.1:${port}/`]);
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stderr).toContain(`cannot reach 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(stderr).toContain('unreachable');
    expect(stderr).toMatch(/offline engines .* keep working/);
  });

  it('verify reports an absent model as missing and fails for it', async () => {
    const one = await run(['verify', 'vits-piper-es_ES-davefx-medium', '--dir', dir]);
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/vits-piper-es_ES-davefx-medium\s+missing\s+not installed/);
    expect(one.stdout).toContain('parley models download vits-piper-es_ES-davefx-medium');
    // Verifying everything: absent models are optional, so nothing is damaged and the exit code is 0.
    const all = await run(['verify', '--dir', dir]);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(CATALOG.length);
  });

  it('rejects unknown models and subcommands, and prints usage', async () => {
    expect((await run(['download', 'no-such-model', '--dir', dir])).stderr).toContain('unknown model "no-such-model"');
    expect((await run(['frobnicate'])).code).toBe(1);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(MODELS_USAGE.split('\n')[0]);
    expect((await run([])).code).toBe(2);
  });
});
