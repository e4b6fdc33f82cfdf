import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startGateway, type Gateway } from '../app/gateway.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../logger.js';
import { freePortRange } from '../util/ports.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

type Overrides = Record<string, Record<string, unknown>>;

/** Config for a test gateway: free ports, given Redis, one worker, quiet logs. */
export async function testConfig(redisUrl: string, overrides: Overrides = {}): Promise<Config> {
  const workers = Number(overrides.media?.workers ?? 1);
  const rtcBasePort = await freePortRange(workers);
  const base: Overrides = {
    http: { host: '127.0.0.1', port: 0 },
    redis: { url: redisUrl },
    auth: { secret: TEST_SECRET },
    media: { workers, rtcBasePort, listenIp: '127.0.0.1' },
    log: { level: process.env.TEST_LOG_LEVEL ?? 'warn', pretty: false },
  };
  for (const [section, values] of Object.entries(overrides)) base[section] = { ...base[section], ...values };
  return loadConfig({ env: {}, overrides: base });
}

/** A gateway in this process (direct access to its services for leak checks). */
export async function startTestGateway(redisUrl: string, overrides: Overrides = {}): Promise<Gateway> {
  const config = await testConfig(redisUrl, overrides);
  return startGateway(config, createLogger({ level: config.log.level, pretty: false }));
}

const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));

export type GatewayProcess = {
  url: string;
  port: number;
  replicaId: string;
  child: ChildProcess;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** SIGTERM (graceful) and wait; SIGKILL after 20 s. Idempotent. */
  stop(): Promise<void>;
  kill(): Promise<void>;
  logs(): string;
};

/** The real `parley up` as a child process, configured through the environment. */
export async function spawnGateway(redisUrl: string, options: { port?: number; replicaId: string; rtcBasePort?: number; env?: Record<string, string> }): Promise<GatewayProcess> {
  const rtcBasePort = options.rtcBasePort ?? (await freePortRange(1));
  const env = {
    ...process.env,
    PARLEY_HTTP_HOST: '127.0.0.1',
    PARLEY_HTTP_PORT: String(options.port ?? 0),
    PARLEY_REDIS_URL: redisUrl,
    PARLEY_AUTH_SECRET: TEST_SECRET,
    PARLEY_MEDIA_WORKERS: '1',
    PARLEY_MEDIA_RTC_BASE_PORT: String(rtcBasePort),
    PARLEY_REPLICA_ID: options.replicaId,
    PARLEY_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    PARLEY_LOG_PRETTY: 'false',
    ...options.env,
  };
  // No AI worker beside each gateway: tests that need one start it themselves (spawnAiWorker).
  const child = spawn(process.execPath, [BIN, 'up', '--json-logs', '--ai-workers', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; port: number; replicaId: string }>((resolve, reject) => {
    const stopWatch = watchStart(child, 'gateway', () => output, reject);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      if (!line.includes('"gateway.ready"')) return;
      stopWatch();
      resolve(JSON.parse(line) as { url: string; port: number; replicaId: string });
    });
    void exited.then((code) => {
      stopWatch();
      reject(new Error(`gateway exited with ${code}:\n${output}`));
    });
  });
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(force);
  };
  return { ...ready, child, exited, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL'), logs: () => output };
}

export type AiWorkerProcess = { child: ChildProcess; exited: Promise<number | null>; kill(): Promise<void>; stop(): Promise<void>; logs(): string };

/** The real `parley ai-worker` as a child process on `redisUrl` (plus `args`); resolves once it serves jobs. */
export async function spawnAiWorker(redisUrl: string, env: Record<string, string> = {}, args: string[] = []): Promise<AiWorkerProcess> {
  const child = spawn(process.execPath, [BIN, 'ai-worker', '--redis-url', redisUrl, ...args], {
    env: { ...process.env, PARLEY_LOG_PRETTY: 'false', PARLEY_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const stopWatch = watchStart(child, 'ai-worker', () => output, reject);
    child.stdout!.on('data', (b: Buffer) => {
      output += b.toString();
      if (output.includes('ai-worker.ready')) {
        stopWatch();
        resolve();
      }
    });
    void exited.then((code) => {
      stopWatch();
      reject(new Error(`ai-worker exited with ${code}:\n${output}`));
    });
  });
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    await exited;
  };
  return { child, exited, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM'), logs: () => output };
}

/** A starting child that uses no CPU (it and its children) for this long is hung. */
const START_STALL_MS = 20_000;
/** The longest a start may take, however busy the machine (a start needs 2-4 s of CPU; a loaded 2-core machine may give it a tenth of a core). */
const START_LIMIT_MS = 120_000;
const START_CHECK_MS = 2000;

/**
 * Watches a starting child until `stop()`: rejects (and kills it) when it is hung, i.e. neither it nor
 * its children used any CPU for START_STALL_MS, or when it is not ready after START_LIMIT_MS. A child
 * that starts slowly because the machine is busy keeps using CPU and is waited for.
 */
function watchStart(child: ChildProcess, what: string, output: () => string, reject: (err: Error) => void): () => void {
  const started = Date.now();
  let ticks = -1;
  let progressAt = started;
  const timer = setInterval(() => {
    const now = Date.now();
    const t = treeTicks(child.pid!);
    if (t !== ticks) {
      ticks = t;
      progressAt = now;
    }
    const stalled = now - progressAt >= START_STALL_MS;
    if (!stalled && now - started < START_LIMIT_MS) return;
    clearInterval(timer);
    const why = stalled ? `used no CPU for ${START_STALL_MS / 1000} s` : `not ready after ${START_LIMIT_MS / 1000} s`;
    reject(new Error(`${what} did not start: ${why} (${giveUp(child)}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}):\n${output()}`));
  }, START_CHECK_MS);
  return () => clearInterval(timer);
}

/** CPU ticks (user + system) of `pid` and all its descendants; -1 when it is gone. */
function treeTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return own + children.reduce((n, c) => n + Math.max(0, treeTicks(c)), 0);
  } catch {
    return -1;
  }
}

/**
 * A child that did not get ready in time: says what it was doing (its scheduler state, the kernel
 * function each of its threads waits in, from /proc, and its own children), then kills it, so a
 * failed start leaves no process behind.
 */
function giveUp(child: ChildProcess): string {
  const proc = (file: string) => {
    try {
      return readFileSync(`/proc/${child.pid}/${file}`, 'utf8').trim();
    } catch {
      return '?';
    }
  };
  const state = /^State:\s*(.*)$/m.exec(proc('status'))?.[1] ?? 'gone';
  const cpu = proc('stat').split(' ').slice(13, 15).join('+');
  let threads = '?';
  try {
    threads = readdirSync(`/proc/${child.pid}/task`)
      .map((tid) => `${proc(`task/${tid}/comm`)} ${proc(`task/${tid}/wchan`)}`)
      .join(', ');
  } catch {
    // gone already
  }
  const children = proc(`task/${child.pid}/children`) || 'none';
  child.kill('SIGKILL');
  return `pid ${child.pid}: state ${state}, cpu ticks ${cpu}, threads [${threads}], children ${children}; killed`;
}
