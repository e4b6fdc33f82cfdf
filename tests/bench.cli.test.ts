/** `parley bench` in the CLI: help per scenario, the target options' errors, `npm run bench` kept as an alias. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { takeTarget } from '../bench/lib/cli/target.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parley = (...args: string[]) => spawnSync(process.execPath, ['bin/parley.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('parley bench', () => {
  it('is a command of the CLI; --help lists the scenarios, compare and report, and the target options', () => {
    const top = parley('--help');
    expect(top.stdout).toMatch(/^\s+bench\s+Measure/m);
    const help = parley('bench', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: parley bench <scenario|all>');
    expect(help.stdout).toContain('parley bench compare <old.json> <new.json>');
    expect(help.stdout).toContain('--target <url>[,<url>]');
    for (const name of ['pipeline', 'join', 'capacity', 'failover', 'ports']) expect(help.stdout).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
  });

  it('"<scenario> --help" shows that scenario: what it measures, its options, and whether it runs with --target', () => {
    const join = parley('bench', 'join', '--help');
    expect(join.status).toBe(0);
    expect(join.stdout).toContain('parley bench join [--smoke] [options]');
    expect(join.stdout).toContain('--joins');
    const ports = parley('bench', 'ports', '--help');
    expect(ports.stdout).toContain('It starts what it measures on this machine (no --target).');
  });

  it('an unknown scenario, a target without a token source, and a scenario that cannot run remotely are refused with exit 2', () => {
    const unknown = parley('bench', 'nosuch');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown scenario "nosuch"');
    const noTokens = parley('bench', 'join', '--target', 'http://127.0.0.1:9');
    expect(noTokens.status).toBe(2);
    expect(noTokens.stderr).toContain('--target needs a way to mint join tokens');
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'a-secret\n');
    const ports = parley('bench', 'ports', '--target', 'http://127.0.0.1:9', '--secret-file', secret);
    expect(ports.status).toBe(2);
    expect(ports.stderr).toContain('ports cannot run against --target');
  });

  it('npm run bench stays an alias of the same command line', () => {
    const run = spawnSync('npm', ['run', '--silent', 'bench', '--', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: npm run bench -- <scenario|all>');
  });

  it('parses the target options: URLs, token source, metrics token, stop command and limits; rejects strays', () => {
    const secret = join(dir, 'secret2');
    writeFileSync(secret, 'shh\n');
    const { target, rest } = takeTarget(['join', '--target', 'http://a:8080/,https://b', '--secret-file', secret, '--max-clients=8', '--joins', '3'], {});
    expect(rest).toEqual(['join', '--joins', '3']);
    expect(target).toEqual({
      urls: ['http://a:8080', 'https://b'],
      tokens: { kind: 'secret', secret: 'shh', issuer: 'parley' },
      metricsToken: null,
      stopCommand: null,
      limits: { maxClients: 8, maxSeconds: 600 },
    });
    expect(takeTarget(['--target', 'http://a', '--token-url', 'http://a/token', '--metrics-token', 'm'], {}).target?.tokens).toEqual({ kind: 'endpoint', url: 'http://a/token' });
    expect(() => takeTarget(['--stop-command', 'x'], {})).toThrow('only make sense with --target');
    expect(() => takeTarget(['--target', 'ftp://a'], { PARLEY_BENCH_SECRET: 's' })).toThrow('not an http(s) URL');
    expect(() => takeTarget(['--target', 'http://a', '--max-seconds', '0'], { PARLEY_BENCH_SECRET: 's' })).toThrow('--max-seconds needs a positive whole number');
  });
});
