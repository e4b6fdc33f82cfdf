/**
 * The Swarm stack's Redis Sentinel layout (stack/redis/*.sh), run for real on
 * this machine: three "machines" on loopback ports, each with the stack's
 * redis-start.sh and sentinel-start.sh and Debian's redis-server. The set
 * forms from the seed, Parley's client writes through the sentinels, the
 * primary is killed (SIGKILL) and a replica promoted, and the killed server,
 * started again by the same script, comes back as the new primary's replica:
 * no promotion by hand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { infoOf } from '../src/state/askRedis.js';
import { RedisStore } from '../src/state/RedisStore.js';
import { sentinelUrl } from '../src/state/redisConnection.js';
import { freeTcpPort } from '../src/util/ports.js';
import { waitFor } from '../src/devkit/media.js';

const SCRIPTS = fileURLToPath(new URL('../stack/redis/', import.meta.url));
const PASSWORD = 'stack-test-password';
const dir = mkdtempSync(join(tmpdir(), 'parley-stack-redis-'));
const children: ChildProcess[] = [];
let store: RedisStore | null = null;

/** Every script's output (the servers' and sentinels' logs), printed when the test fails. */
function printLogs(): void {
  for (const f of readdirSync(dir).filter((n) => n.startsWith('log-')).sort()) console.log(`--- ${f}\n${readFileSync(join(dir, f), 'utf8')}`);
}

afterAll(async () => {
  await store?.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type Machine = { port: number; sentinelPort: number; server: ChildProcess | null };

function env(m: Machine, i: number, machines: Machine[]): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    TMPDIR: dir,
    REDIS_PASSWORD_FILE: join(dir, 'password'),
    REDIS_ANNOUNCE_HOST: '127.0.0.1',
    REDIS_PORT: String(m.port),
    REDIS_DIR: join(dir, `data-${i}`),
    REDIS_SEED: `127.0.0.1:${machines[0]!.port}`,
    REDIS_SENTINELS: machines.map((x) => `127.0.0.1:${x.sentinelPort}`).join(','),
    SENTINEL_PORT: String(m.sentinelPort),
    SENTINEL_DOWN_AFTER_MS: '1000',
    SENTINEL_FAILOVER_TIMEOUT_MS: '5000',
  };
}

let started = 0;
function run(script: string, environment: NodeJS.ProcessEnv): ChildProcess {
  const log = openSync(join(dir, `log-${started++}-${script}-${environment.REDIS_PORT}.txt`), 'a');
  const child = spawn('sh', [join(SCRIPTS, script)], { env: environment, stdio: ['ignore', log, log] });
  children.push(child);
  return child;
}

const info = (port: number, section: string, auth = true): Promise<string> => infoOf(port, section, auth ? PASSWORD : undefined);

/** The primary's port as a majority of the sentinels name it (a failover can be retried on another replica). */
async function primaryPort(machines: Machine[]): Promise<number | null> {
  const named = new Map<number, number>();
  for (const m of machines) {
    const found = /master0:.*address=[^:]+:(\d+),slaves=/.exec(await info(m.sentinelPort, 'sentinel', false).catch(() => ''));
    if (found) named.set(Number(found[1]), (named.get(Number(found[1])) ?? 0) + 1);
  }
  for (const [port, votes] of named) if (votes * 2 > machines.length) return port;
  return null;
}

/** Fails at once, with the script's output, when a server the test waits on has exited. */
function stillRunning(m: Machine): void {
  if (m.server && (m.server.exitCode !== null || m.server.signalCode !== null)) throw new Error(`the redis-server on port ${m.port} exited (${m.server.exitCode ?? m.server.signalCode})`);
}

describe('stack: the Redis Sentinel layout of the Swarm file (stack/redis), with real redis-server processes', () => {
  it('forms from the seed, survives a primary killed, and the killed server rejoins as a replica by itself', async () => {
    onTestFailed(printLogs);
    writeFileSync(join(dir, 'password'), PASSWORD);
    const machines: Machine[] = [];
    for (let i = 0; i < 3; i++) machines.push({ port: await freeTcpPort(), sentinelPort: await freeTcpPort(), server: null });
    for (const [i, m] of machines.entries()) {
      mkdirSync(join(dir, `data-${i}`));
      m.server = run('redis-start.sh', env(m, i, machines));
    }
    for (const [i, m] of machines.entries()) run('sentinel-start.sh', env(m, i, machines));

    // The seed is primary, the two others replicate it, every sentinel knows them and the other sentinels.
    await waitFor(async () => {
      for (const m of machines) {
        const found = /slaves=(\d+),sentinels=(\d+)/.exec(await info(m.sentinelPort, 'sentinel', false));
        if (!found || found[1] !== '2' || found[2] !== '3') return null;
      }
      return true;
    }, 30_000, 'the sentinels to see the seed with 2 replicas and 3 sentinels');
    expect(await primaryPort(machines)).toBe(machines[0]!.port);

    // Parley's client, as the stack's gateways get it (the entry point puts the password into the URL).
    const url = sentinelUrl(machines.map((m) => `127.0.0.1:${m.sentinelPort}`), 'parley', { password: PASSWORD });
    store = await RedisStore.create({ url });
    await store.putIfNewer('parley:{room:stack}:room', 1, 'before');

    machines[0]!.server!.kill('SIGKILL');
    await waitFor(async () => {
      const port = await primaryPort(machines);
      return port && port !== machines[0]!.port && /role:master/.test(await info(port, 'replication')) ? port : null;
    }, 30_000, 'a replica promoted');
    await waitFor(async () => ((await store!.putIfNewer('parley:{room:stack}:room', 2, 'after').catch(() => false)) ? true : null), 30_000, 'a write on the promoted primary');
    expect((await store.get('parley:{room:stack}:room'))?.doc).toBe('after');

    // The killed machine's service restarts (Swarm's restart policy): the same script makes it a replica of
    // the primary the sentinels name (asked again at each poll: a failover the sentinels retry can pick the other replica).
    const killed = machines[0]!;
    killed.server = run('redis-start.sh', env(killed, 0, machines));
    await waitFor(async () => {
      stillRunning(killed);
      const primary = await primaryPort(machines);
      const replication = await info(killed.port, 'replication').catch(() => '');
      const following = primary !== null && primary !== killed.port && new RegExp(`master_port:${primary}\\b`).test(replication);
      return following && /role:slave/.test(replication) && /master_link_status:up/.test(replication) ? true : null;
    }, 60_000, 'the killed server back as a replica of the primary the sentinels name');
    expect((await store.get('parley:{room:stack}:room'))?.doc).toBe('after');
    await sleep(200);
  }, 120_000);
});
