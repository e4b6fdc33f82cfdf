import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from '../util/ports.js';

export type EmbeddedRedisOptions = {
  /** 0 = a free port. */
  port?: number;
  /** Directory for the append-only file; omitted = no persistence. */
  dataDir?: string;
  /** redis-server binary (default: from PATH). */
  binary?: string;
  /** Start as a replica of this server (local Sentinel sets, RedisSentinelSet). */
  replicaOf?: { host: string; port: number };
  /** Start as a sentinel with this config file (redis-server rewrites it: it must be writable and its own). */
  sentinelConfig?: string;
  /**
   * Start as a Redis Cluster node (RedisClusterSet) keeping its nodes.conf in `dir` as nodes-<port>.conf
   * (a node restarted on the same port rejoins its cluster); `nodeTimeoutMs` is how long a silent node
   * takes to be failed over.
   */
  clusterNode?: { dir: string; nodeTimeoutMs: number };
};

/** A `redis-server` child process on loopback, used when no redis.url is configured and by tests. */
export class EmbeddedRedis {
  readonly port: number;
  readonly url: string;
  readonly #child: ChildProcess;
  #exited: Promise<void>;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
    const port = options.port || (await freeTcpPort());
    let scratch: string | null = null;
    let args: string[];
    if (options.sentinelConfig) {
      // A sentinel keeps its state in its config file.
      args = [options.sentinelConfig, '--sentinel', '--port', String(port), '--bind', '127.0.0.1'];
    } else {
      // Without persistence a replica still writes the primary's snapshot on a full sync: into a folder
      // of its own (removed on exit), never the current directory.
      if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
      else scratch = mkdtempSync(join(tmpdir(), 'parley-redis-'));
      args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--protected-mode', 'yes'];
      args.push('--appendonly', options.dataDir ? 'yes' : 'no', '--dir', options.dataDir ?? scratch!);
      if (options.replicaOf) args.push('--replicaof', options.replicaOf.host, String(options.replicaOf.port));
      if (options.clusterNode) args.push(...clusterArgs(join(options.clusterNode.dir, `nodes-${port}.conf`), options.clusterNode.nodeTimeoutMs));
    }
    // Its own process group: a Ctrl-C at the terminal must not stop Redis before the gateway has
    // flushed its snapshots; the gateway stops it last, and kills it if the process exits first.
    const child = spawn(options.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const spawnError = new Promise<never>((_, reject) =>
      child.once('error', (err) =>
        reject(new Error(`could not start redis-server (${err.message}); install it with "apt-get install redis-server" or run ./parley setup`)),
      ),
    );
    const redis = new EmbeddedRedis(port, child);
    await Promise.race([redis.#waitReady(() => stderr), spawnError]);
    return redis;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async #waitReady(stderr: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) throw new Error(`redis-server exited: ${stderr()}`);
      if (await this.#ping()) return;
      await sleep(50);
    }
    throw new Error('redis-server did not answer PING within 10 s');
  }

  #ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = createConnection({ port: this.port, host: '127.0.0.1' });
      sock.once('error', () => resolve(false));
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
  }

  /** Stops the server (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Simulates a crash (tests of Redis restarts). */
  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    await this.#exited;
  }
}

/**
 * A cluster node that keeps serving its own slots while another shard fails over (full coverage off: one
 * shard's outage must not stop the rooms on the others) and lets a replica take over however long it was
 * cut off (validity factor 0: on one machine a replica is never stale by design).
 */
function clusterArgs(configFile: string, nodeTimeoutMs: number): string[] {
  return [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', configFile,
    '--cluster-node-timeout', String(nodeTimeoutMs),
    '--cluster-require-full-coverage', 'no',
    '--cluster-replica-validity-factor', '0',
  ];
}
