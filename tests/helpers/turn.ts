/**
 * A real coturn (Debian's `turnserver`) on loopback for TURN tests: REST-style shared-secret
 * authentication (use-auth-secret), TCP and UDP listener on a free port, relay ports in a free range,
 * loopback peers allowed (the media server is on 127.0.0.1 too). Stopped (SIGTERM, then SIGKILL) by stop().
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange } from '../../src/util/ports.js';

export const TURNSERVER = '/usr/bin/turnserver';

export type Coturn = { port: number; logs(): string; stop(): Promise<void> };

export async function startCoturn(secret: string): Promise<Coturn> {
  if (!existsSync(TURNSERVER)) throw new Error(`${TURNSERVER} not found: install the Debian package coturn (./parley setup --test does)`);
  const dir = mkdtempSync(join(tmpdir(), 'parley-coturn-'));
  const port = await freePortRange(1);
  const relayMin = await freePortRange(40);
  const args = [
    '-n', '--no-cli', '--no-tls', '--no-dtls', '--simple-log', '--log-file=stdout', '--verbose',
    '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1',
    `--min-port=${relayMin}`, `--max-port=${relayMin + 39}`,
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=parley.test',
    '--allow-loopback-peers', `--pidfile=${join(dir, 'turnserver.pid')}`, `--userdb=${join(dir, 'turndb')}`,
  ];
  const child = spawn(TURNSERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!/listener opened on|Total General servers/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`coturn did not start:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopped: Promise<void> | null = null;
  return {
    port,
    logs: () => output,
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(force);
        }
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
