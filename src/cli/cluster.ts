import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EmbeddedRedis } from '../state/EmbeddedRedis.js';
import { RedisClusterSet } from '../state/RedisClusterSet.js';
import { RedisSentinelSet } from '../state/RedisSentinelSet.js';
import { describeExit, isRunning, spawnReplica, stopReplicas, type ReadyLine, type ReplicaChild } from './children.js';
import { onStopSignal } from './stopSignal.js';

export const CLUSTER_USAGE = `parley cluster [options]

Runs several gateway replicas on this machine, sharing one Redis and one token
secret, so that one room can span replicas. Ctrl-C stops them all.

      --replicas <n>     Number of replicas (default 3)
  -p, --port <n>         First HTTP port; replica i uses <n>+i (default 8080)
      --rtc-port <n>     First WebRtcServer port; replica i uses <n>+i*workers (default 40000)
      --workers <n>      mediasoup workers per replica (default 1)
      --redis <mode>     The Redis started for them: single (one embedded redis-server, the
                         default), sentinel (a primary, its replica and three sentinels, so
                         that killing the primary promotes the replica) or cluster (a Redis
                         Cluster of three primaries with a replica each; rooms spread over
                         the three shards, a killed primary's replica takes over its slots)
      --redis-url <url>  Use this Redis instead of starting one (redis://, redis-sentinel://
                         or redis-cluster://)
      --log-level <lvl>  trace|debug|info|warn|error (default info)
  -h, --help             Show this help

The replicas share PARLEY_AUTH_SECRET when it is set, else a secret generated at start.`;

/** Time each replica gets to stop gracefully before it is killed. */
const STOP_GRACE_MS = 20_000;
/** Time the replicas get to print gateway.ready. */
const READY_TIMEOUT_MS = 60_000;
const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));

type ClusterOptions = {
  replicas: number;
  port: number;
  rtcPort: number;
  workers: number;
  redisUrl: string | null;
  redisMode: RedisMode;
  logLevel: string | null;
};

const REDIS_MODES = ['single', 'sentinel', 'cluster'] as const;
type RedisMode = (typeof REDIS_MODES)[number];

/** A started replica with what the table shows. */
type Replica = ReplicaChild & { replicaId: string; url: string; port: number; rtcPort: number };

/** `parley cluster`: N replicas until SIGINT/SIGTERM. 0 after a requested stop, 1 when every replica died. */
export async function runCluster(args: string[]): Promise<number> {
  const options = parseClusterArgs(args);
  if (!options) {
    console.log(CLUSTER_USAGE);
    return 0;
  }
  const stop = onStopSignal((signal) => console.log(`${signal}: stopping every replica`));
  let stopping = false;
  let redis: { url: string; stop(): Promise<void> } | null = null;
  let replicas: Replica[] = [];
  try {
    redis = options.redisUrl ? null : await startRedis(options.redisMode);
    const redisUrl = options.redisUrl ?? redis!.url;
    if (redis instanceof EmbeddedRedis) console.log(`embedded redis-server on ${redisUrl}`);
    replicas = startReplicas(options, redisUrl);
    for (const r of replicas) reportUnexpectedExit(r, () => stopping);
    const started = await Promise.race([waitStarted(replicas), stop.requested.then(() => null)]);
    if (started === null) return 0;
    if (started.length === 0) {
      console.error('no replica started');
      return 1;
    }
    printReady(started, redisUrl);
    const allExited = Promise.all(replicas.map((r) => r.exited)).then(() => 'exited' as const);
    if ((await Promise.race([stop.requested, allExited])) !== 'exited') return 0;
    console.error('every replica has exited');
    return 1;
  } finally {
    // Shutdown order: the replicas (each drains and flushes its snapshots), then Redis.
    stopping = true;
    await stopReplicas(replicas, STOP_GRACE_MS);
    await redis?.stop();
    stop.dispose();
  }
}

/** The options, or null for --help. Throws TypeError on a bad value. */
function parseClusterArgs(args: string[]): ClusterOptions | null {
  const { values } = parseArgs({
    args,
    options: {
      replicas: { type: 'string' },
      port: { type: 'string', short: 'p' },
      'rtc-port': { type: 'string' },
      workers: { type: 'string' },
      'redis-url': { type: 'string' },
      redis: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const replicas = intOption('--replicas', values.replicas, 3, 1, 64);
  const workers = intOption('--workers', values.workers, 1, 1, 64);
  const port = intOption('--port', values.port, 8080, 1, 65535 - replicas);
  const rtcPort = intOption('--rtc-port', values['rtc-port'], 40000, 1024, 65000 - replicas * workers);
  const redisMode = values.redis ?? 'single';
  if (!(REDIS_MODES as readonly string[]).includes(redisMode)) throw new TypeError(`--redis must be ${REDIS_MODES.join(', ')}, got "${redisMode}"`);
  if (values.redis && values['redis-url']) throw new TypeError('--redis and --redis-url exclude each other: --redis starts a Redis, --redis-url uses yours');
  return { replicas, port, rtcPort, workers, redisUrl: values['redis-url'] || null, redisMode: redisMode as RedisMode, logLevel: values['log-level'] ?? null };
}

function startRedis(mode: RedisMode): Promise<{ url: string; stop(): Promise<void> }> {
  if (mode === 'sentinel') return startSentinelSet();
  if (mode === 'cluster') return startClusterSet();
  return EmbeddedRedis.start();
}

async function startClusterSet(): Promise<RedisClusterSet> {
  console.log('starting a Redis Cluster: 3 primaries, a replica each ...');
  const set = await RedisClusterSet.start();
  for (const node of (await set.nodes()).filter((n) => n.primary)) {
    const server = set.servers.find((s) => s.port === node.port)!;
    const replica = (await set.nodes()).find((n) => n.primaryId === node.id);
    console.log(`redis primary 127.0.0.1:${node.port} (pid ${server.pid}) slots ${node.slots.map(([a, b]) => `${a}-${b}`).join(',')}, replica 127.0.0.1:${replica?.port ?? '-'}`);
  }
  console.log('kill -9 a primary to see its replica take over its slots and the gateways follow it');
  return set;
}

async function startSentinelSet(): Promise<RedisSentinelSet> {
  console.log('starting a Redis Sentinel set: primary, replica, 3 sentinels ...');
  const set = await RedisSentinelSet.start();
  const primary = await set.primary();
  console.log(`redis primary 127.0.0.1:${primary.port} (pid ${primary.pid}), replica 127.0.0.1:${set.servers.find((s) => s !== primary)!.port}, sentinels ${set.sentinels.map((s) => s.port).join(', ')}`);
  console.log(`kill -9 ${primary.pid} to see the replica promoted and the replicas follow it`);
  return set;
}

function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new TypeError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function startReplicas(options: ClusterOptions, redisUrl: string): Replica[] {
  const secret = process.env.PARLEY_AUTH_SECRET || randomBytes(32).toString('hex');
  const host = hostname();
  return Array.from({ length: options.replicas }, (_, i) => {
    const replicaId = `${host}-r${i}`;
    const port = options.port + i;
    const rtcPort = options.rtcPort + i * options.workers;
    const url = `http://127.0.0.1:${port}`;
    const args = [BIN, 'up', '--json-logs', '--port', String(port), '--rtc-port', String(rtcPort), '--workers', String(options.workers)];
    args.push('--replica-id', replicaId, '--redis-url', redisUrl);
    if (options.logLevel) args.push('--log-level', options.logLevel);
    const env = { PARLEY_AUTH_SECRET: secret, PARLEY_REPLICA_PUBLIC_URL: url, PARLEY_LOG_PRETTY: 'false' };
    const child = spawnReplica({ label: `r${i}`, args, env }, (line) => console.log(line));
    return { ...child, replicaId, url, port, rtcPort };
  });
}

/** Resolves once every replica is ready or has failed to start (each failure reported), with the ready ones. */
async function waitStarted(replicas: Replica[]): Promise<Replica[]> {
  const results = await Promise.all(
    replicas.map(async (r) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      });
      try {
        const ready: ReadyLine = await Promise.race([r.ready, timeout]);
        return { ...r, port: ready.port };
      } catch (err) {
        console.error(`[${r.label}] replica ${r.replicaId} failed to start: ${(err as Error).message}`);
        if (isRunning(r.child)) r.child.kill('SIGTERM');
        return null;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return results.filter((r): r is Replica => r !== null);
}

/** Reports a replica that exits after it was ready, unless the cluster is stopping. It is not restarted. */
function reportUnexpectedExit(r: Replica, stopping: () => boolean): void {
  r.ready.then(
    () =>
      r.exited.then((exit) => {
        if (!stopping()) console.error(`[${r.label}] replica ${r.replicaId} exited unexpectedly (${describeExit(exit)}); the others keep running`);
      }),
    () => undefined, // reported by waitStarted
  );
}

function printReady(replicas: Replica[], redisUrl: string): void {
  const rows = [['replica', 'url', 'rtc port'], ...replicas.map((r) => [r.replicaId, r.url, String(r.rtcPort)])];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  console.log('');
  for (const row of rows) console.log(`  ${row.map((cell, col) => cell.padEnd(widths[col]!)).join('   ')}`.trimEnd());
  console.log('\nopen any of these URLs in browsers; one room can span replicas (Ctrl-C stops the cluster)\n');
  const summary = replicas.map((r) => ({ replicaId: r.replicaId, url: r.url, port: r.port }));
  console.log(JSON.stringify({ event: 'cluster.ready', replicas: summary, redisUrl }));
}

