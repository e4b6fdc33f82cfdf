/**
 * What the images install, checked against this machine (no Docker engine
 * here): the gateway's runtime stage provides every shared library the
 * mediasoup worker built by scripts/build-mediasoup-worker.sh links to, and
 * the AI worker's image carries the offline engines scripts/setup.sh installs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../stack/check/dockerfile.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER_BIN = join(ROOT, 'node_modules/mediasoup/worker/out/Release/mediasoup-worker');
/** In every Debian-based Node image already (Node itself needs them). */
const IN_BASE_IMAGE = new Set(['libc6', 'libgcc-s1', 'libstdc++6']);

/** Debian packages the last stage of a Dockerfile installs with apt-get (ARG defaults expanded). */
function runtimePackages(dockerfile: string): Set<string> {
  const instructions = parseDockerfile(dockerfile);
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  const args = new Map<string, string>();
  const packages = new Set<string>();
  for (const ins of instructions.slice(lastFrom)) {
    if (ins.keyword === 'ARG') {
      const [name, value = ''] = ins.args.split('=', 2) as [string, string?];
      args.set(name, value.replace(/^"|"$/g, ''));
    }
    if (ins.keyword !== 'RUN') continue;
    for (const m of ins.args.matchAll(/apt-get install ([^&;|]*)/g)) {
      const words = m[1]!.replace(/\$\{?(\w+)\}?/g, (_w, name: string) => args.get(name) ?? '').split(/\s+/);
      for (const w of words) if (w && !w.startsWith('-')) packages.add(w);
    }
  }
  return packages;
}

let ldCache: string[] | undefined;

function debianPackageOf(library: string): string {
  ldCache ??= execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n');
  const path = ldCache
    .find((l) => l.trim().startsWith(`${library} `) && l.includes('x86-64'))
    ?.split(' => ')[1]
    ?.trim();
  if (!path) throw new Error(`${library} not found by ldconfig`);
  const owner = (p: string) => execFileSync('dpkg', ['-S', p], { encoding: 'utf8' }).split(':')[0]!;
  try {
    return owner(path);
  } catch {
    return owner(execFileSync('readlink', ['-f', path], { encoding: 'utf8' }).trim());
  }
}

describe('gateway image', () => {
  it('installs, in its runtime stage, the Debian package of every library the mediasoup worker needs', () => {
    if (!existsSync(WORKER_BIN)) throw new Error(`${WORKER_BIN} is missing: run scripts/setup.sh (it builds the worker)`);
    const needed = [...execFileSync('readelf', ['-d', WORKER_BIN], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
    expect(needed).toContain('libsrtp2.so.1');
    const packages = runtimePackages(readFileSync(join(ROOT, 'stack/docker/gateway.Dockerfile'), 'utf8'));
    const missing = [...new Set(needed.filter((l) => !l.startsWith('ld-linux')).map(debianPackageOf))].filter((p) => !IN_BASE_IMAGE.has(p) && !packages.has(p));
    expect(missing, 'add these to the runtime stage of stack/docker/gateway.Dockerfile').toEqual([]);
  });
});

describe('AI worker image', () => {
  it('carries the offline engines that scripts/setup.sh installs', () => {
    const setup = readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8');
    const engines = /# offline speech engines[^\n]*\n([\s\S]*?)\n\s*\)/.exec(setup)![1]!.split(/\s+/).filter((w) => w && !w.startsWith('#'));
    expect(engines).toContain('apertium-eng-spa');
    // Not needed in the image: test clips, and the pocketsphinx CLI (the engine uses the Python module).
    const notInImage = new Set(['pocketsphinx-testdata', 'pocketsphinx']);
    const packages = runtimePackages(readFileSync(join(ROOT, 'stack/docker/ai-worker.Dockerfile'), 'utf8'));
    expect(engines.filter((p) => !notInImage.has(p) && !packages.has(p)), 'add these to stack/docker/ai-worker.Dockerfile').toEqual([]);
  });
});
