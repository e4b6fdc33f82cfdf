/**
 * A local cluster for the reliability suites, built from the bench's own parts
 * (bench/lib/stack.ts): one Redis on a fixed port (so it can be restarted in
 * place) or a Sentinel set (whose primary can be killed and the replica
 * promoted), `parley up` replicas that can be killed and replaced, `parley
 * ai-worker` processes, and Chromium pages that joined rooms. Everything is
 * registered on the run context, so it stops even when the run fails.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Page } from 'playwright-core';
import { joinCall, leaveCall, type ParleyBrowser } from '../../../src/devkit/browser.js';
import { TEST_SECRET, type AiWorkerProcess, type GatewayProcess } from '../../../src/devkit/gateway.js';
import { signJoinToken, tokenKey } from '../../../src/auth/tokens.js';
import { bullName, PIPELINE_PREFIX } from '../../../src/ai/pipeline/names.js';
import { quiet } from '../../../src/ai/pipeline/PipelineQueues.js';
import { EmbeddedRedis } from '../../../src/state/EmbeddedRedis.js';
import { RedisClusterSet } from '../../../src/state/RedisClusterSet.js';
import { RedisSentinelSet } from '../../../src/state/RedisSentinelSet.js';
import { createRedis, type RedisClient } from '../../../src/state/redisConnection.js';
import { sleep, startAiWorker, startReplica } from '../../lib/stack.js';
import type { RunContext } from '../../lib/types.js';
import type { RedisMode } from './faults.js';

export type MemberSpec = { roomId: string; name: string; spoken?: string; listening?: string; role?: 'speaker' | 'listener' };
export type Member = MemberSpec & { page: Page; peerId: string; speaks: boolean };

export type ClusterOptions = {
  /** Replica id prefix (ids are `<prefix>-<n>`, n counting every replica ever started). */
  prefix: string;
  /** Extra environment of every replica (cluster timings). */
  env: Record<string, string>;
  /**
   * How pages get their join token: 'dev' = the page asks the gateway's /dev/token (single-use, with a
   * jti, like production tokens); 'reusable' = the bench signs one without a jti (resumes always work).
   */
  tokens: 'dev' | 'reusable';
  /** 'single': one redis-server; 'sentinel': a primary, its replica and three sentinels; 'cluster': three primaries with a replica each. */
  redis?: RedisMode;
  /** Sentinel down-after-milliseconds (with redis 'sentinel'). */
  sentinelDownAfterMs?: number;
};

const trimUrl = (url: string) => url.replace(/\/$/, '');

/** Pids of the mediasoup workers a replica spawned (its direct children named mediasoup-worker). */
export function mediasoupWorkerPids(replica: GatewayProcess): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-P', String(replica.child.pid)], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when there is none
  }
  return out
    .split('\n')
    .map(Number)
    .filter((pid) => pid > 0)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('mediasoup-work');
      } catch {
        return false;
      }
    });
}

export class Cluster {
  readonly ctx: RunContext;
  readonly browser: ParleyBrowser;
  readonly replicas: GatewayProcess[] = [];
  readonly aiWorkers: AiWorkerProcess[] = [];
  readonly members: Member[] = [];
  /** Every replica and AI worker ever started, for their logs. */
  readonly #all: Array<{ name: string; logs(): string }> = [];
  /** The tooling's own Redis client (reconnects by itself after a Redis restart or a promotion). */
  readonly admin: RedisClient;
  /** One redis-server, or a Sentinel set or a Redis Cluster (exactly one of the two). */
  #single: EmbeddedRedis | null;
  readonly #replicated: RedisSentinelSet | RedisClusterSet | null;
  #started = 0;
  readonly #o: ClusterOptions;

  private constructor(ctx: RunContext, browser: ParleyBrowser, redis: EmbeddedRedis | RedisSentinelSet | RedisClusterSet, o: ClusterOptions) {
    this.ctx = ctx;
    this.browser = browser;
    this.#single = redis instanceof EmbeddedRedis ? redis : null;
    this.#replicated = redis instanceof EmbeddedRedis ? null : redis;
    this.#o = o;
    this.admin = createRedis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200, lazyConnect: false });
    this.admin.on('error', () => undefined);
  }

  static async start(ctx: RunContext, browser: ParleyBrowser, o: ClusterOptions): Promise<Cluster> {
    const redis =
      o.redis === 'sentinel'
        ? await RedisSentinelSet.start({ downAfterMs: o.sentinelDownAfterMs })
        : o.redis === 'cluster'
          ? await RedisClusterSet.start({ nodeTimeoutMs: o.sentinelDownAfterMs })
          : await EmbeddedRedis.start();
    const cluster = new Cluster(ctx, browser, redis, o);
    // Registered first, so it runs last: whichever Redis is current then.
    ctx.defer(() => (cluster.#replicated ? cluster.#replicated.stop() : cluster.#single!.stop()));
    ctx.defer(() => void cluster.admin.disconnect());
    return cluster;
  }

  get redisUrl(): string {
    return this.#replicated?.url ?? this.#single!.url;
  }

  /** A BullMQ queue of the AI pipeline, for inspection, on the admin client (closing the queue leaves the client open). */
  queue(name: string): Queue {
    return quiet(new Queue(bullName(name), { connection: this.admin, prefix: PIPELINE_PREFIX }));
  }

  async addReplica(): Promise<GatewayProcess> {
    const id = `${this.#o.prefix}-${this.#started++}`;
    const r = await startReplica(this.ctx, this.redisUrl, id, this.#o.env);
    this.replicas.push(r);
    this.#all.push({ name: id, logs: () => r.logs() });
    return r;
  }

  /** kill -9 and forget a replica. */
  async killReplica(r: GatewayProcess): Promise<void> {
    await r.kill();
    this.replicas.splice(this.replicas.indexOf(r), 1);
  }

  async addAiWorker(): Promise<AiWorkerProcess> {
    const w = await startAiWorker(this.ctx, this.redisUrl);
    this.aiWorkers.push(w);
    this.#all.push({ name: `ai-worker-${w.child.pid}`, logs: () => w.logs() });
    return w;
  }

  async killAiWorker(w: AiWorkerProcess): Promise<void> {
    await w.kill();
    this.aiWorkers.splice(this.aiWorkers.indexOf(w), 1);
  }

  /** Crash Redis (SIGKILL), wait `downMs`, start an empty one on the same port (single mode). */
  async restartRedis(downMs: number): Promise<void> {
    const redis = this.#single;
    if (!redis) throw new TypeError('redis-restart needs --redis single (Sentinel and Cluster have redis-primary-kill)');
    await redis.kill();
    await sleep(this.ctx, downMs);
    this.#single = await EmbeddedRedis.start({ port: redis.port });
  }

  /**
   * kill -9 of the Redis primary (Sentinel), or of the primary serving `key`'s shard (Cluster); resolves once
   * its replica was promoted, with `restore()` to start the killed server again as a replica of the new primary.
   */
  async killRedisPrimary(key: string): Promise<{ target: string; promotedAfterMs: number; restore(): Promise<void> }> {
    const set = this.#replicated;
    if (!set) throw new TypeError('redis-primary-kill needs --redis sentinel or cluster');
    const { killed, promotedAfterMs } = set instanceof RedisClusterSet ? await set.killPrimary(key) : await set.killPrimary();
    return { target: `redis primary :${killed.port}`, promotedAfterMs, restore: async () => void (await set.restartAsReplica(killed)) };
  }

  /** Writes the logs of every replica and AI worker started so far (and the pages' console errors) into a new temp folder. */
  dumpLogs(label: string): string {
    const dir = join(tmpdir(), `parley-${label}-logs-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    for (const p of this.#all) writeFileSync(join(dir, `${p.name}.log`), p.logs());
    writeFileSync(join(dir, 'pages.log'), this.browser.logs.join('\n'));
    return dir;
  }

  /** Error-level lines (pino level >= 50) each process logged so far. */
  errorLines(): Array<{ process: string; line: string }> {
    return this.#all.flatMap((p) => p.logs().split('\n').filter((l) => /"level":(50|60)/.test(l)).map((line) => ({ process: p.name, line })));
  }

  /** The live replica serving `url` (a page's current gateway), if any. */
  replicaAt(url: string): GatewayProcess | undefined {
    return this.replicas.find((r) => trimUrl(r.url) === trimUrl(url));
  }

  /** Opens a tab and joins through `replica`. */
  async join(replica: GatewayProcess, spec: MemberSpec): Promise<Member> {
    const page = await this.browser.newPage();
    const token = this.#o.tokens === 'reusable' ? await this.#reusableToken(spec) : undefined;
    try {
      await joinCall(page, replica.url, { roomId: spec.roomId, displayName: spec.name, spokenLanguage: spec.spoken, listeningLanguage: spec.listening, role: spec.role, token });
    } catch (err) {
      await page.close().catch(() => undefined);
      throw err;
    }
    const member: Member = { ...spec, page, peerId: await page.evaluate(() => window.parley!.peerId!), speaks: spec.role !== 'listener' };
    this.members.push(member);
    return member;
  }

  async #reusableToken(spec: MemberSpec): Promise<string> {
    const key = tokenKey(TEST_SECRET, 'parley');
    const { token } = await signJoinToken(key, { roomId: spec.roomId, identity: randomUUID(), displayName: spec.name, role: spec.role ?? 'speaker', ttlSeconds: 3600 });
    return token;
  }

  /** Clicks Leave, closes the tab and forgets the member; rejects (after closing the tab) when leaving failed. */
  async leave(member: Member): Promise<void> {
    this.members.splice(this.members.indexOf(member), 1);
    try {
      await leaveCall(member.page);
    } finally {
      await member.page.close().catch(() => undefined);
    }
  }

  /** The other members of `m`'s room that produce audio (what `m` should hear). */
  speakersFor(m: Member): Member[] {
    return this.members.filter((x) => x !== m && x.roomId === m.roomId && x.speaks);
  }
}
