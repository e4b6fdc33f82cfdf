/**
 * failover: kill -9 one of N replicas sharing a room with one live page each; how long until
 * its page hears the others again, how long until the others hear it again, and the longest
 * audio gap between the pages of surviving replicas. Repeated on a fresh cluster each time.
 * See bench/README.md ("failover").
 */
import type { Page } from 'playwright-core';
import { joinAs } from '../../src/devkit/browser.js';
import { bytesFrom, watchGap } from '../../src/devkit/cluster.js';
import type { GatewayProcess } from '../../src/devkit/gateway.js';
import { SPEECH_WAV } from '../../src/devkit/media.js';
import { readArrivals, startArrivalProbe } from '../lib/probes.js';
import { TargetBudget } from '../lib/remote.js';
import { figuresOf, summarize, summaryRow } from '../lib/stats.js';
import { sleep, startBrowser, startRedis, startReplica, until } from '../lib/stack.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult } from '../lib/types.js';
import { remoteCluster, remoteFailoverNotes, REMOTE_FAILOVER_UNAVAILABLE } from './_remoteFailover.js';

type Repeat = {
  repeat: number;
  replicas: number;
  /** kill -9 -> the killed replica's page connected again (through a live replica) and hearing every other page; null = not within --timeout. */
  recoveryMs: number | null;
  /** kill -9 -> each surviving page receives the displaced peer's audio again (new producer), ms per page; null = not within --timeout. */
  heardAgainMs: Array<number | null>;
  /** Longest gap in audio between pages of surviving replicas, per (listener, speaker) pair. */
  survivorGapsMs: number[];
  /** Replica the displaced page ended on. */
  movedTo: string;
  /** When it did not recover: what its page showed at the timeout (state, reconnects, last error, bytes per other peer). */
  stuck?: unknown;
};

type Browser = Awaited<ReturnType<typeof startBrowser>>;
type Ctx = { ctx: RunContext; o: OptionValues; browser: Browser };

/**
 * The replicas one repeat runs on: started here for the repeat (Redis and `parley up` children), or a
 * deployment's (--target) whose last replica the operator's stop command stops.
 */
export type FailoverCluster = {
  urls: string[];
  /** A page joined to `url` (in `roomId`, named `name`) and its peer id. */
  join(browser: Browser, url: string, roomId: string, name: string): Promise<{ page: Page; peerId: string }>;
  /** Stops replica `index` at once (kill -9 here; the stop command on a deployment). */
  kill(index: number): Promise<void>;
  /** Stops what the repeat started (nothing on a deployment). */
  close(): Promise<void>;
};

async function localCluster(ctx: RunContext, o: OptionValues, k: number): Promise<FailoverCluster> {
  const redis = await startRedis(ctx);
  const env = { PARLEY_CLUSTER_STALE_AFTER_MS: String(o['stale-after-ms']), PARLEY_CLUSTER_HEARTBEAT_MS: String(o['heartbeat-ms']) };
  const replicas: GatewayProcess[] = [];
  for (let i = 0; i < Number(o.replicas); i++) replicas.push(await startReplica(ctx, redis.url, `fo${k}-${i}`, env));
  return {
    urls: replicas.map((r) => r.url),
    join: (browser, url, roomId, name) => joinAs(browser, url, roomId, name),
    kill: (index) => replicas[index]!.kill(),
    async close() {
      for (const r of replicas) await r.kill();
      await redis.stop();
    },
  };
}

async function hearsEveryone(page: Page, ids: string[], self: string): Promise<boolean> {
  for (const id of ids) if (id !== self && (await bytesFrom(page, id)) === 0) return false;
  return true;
}

async function oneRepeat({ ctx, o, browser }: Ctx, cluster: FailoverCluster, k: number, roomId: string): Promise<Repeat> {
  const n = cluster.urls.length;
  const pages: Page[] = [];
  const ids: string[] = [];
  try {
    for (const [i, url] of cluster.urls.entries()) {
      const { page, peerId } = await cluster.join(browser, url, roomId, `P${i}`);
      pages.push(page);
      ids.push(peerId);
    }
    await until(ctx, async () => {
      for (const [i, p] of pages.entries()) if (!(await hearsEveryone(p, ids, ids[i]!))) return null;
      return true;
    }, 30_000, 'every page to hear every other', 200);
    await sleep(ctx, Number(o.settle) * 1000);

    const victim = n - 1;
    const displaced = pages[victim]!;
    const survivors = pages.slice(0, victim);
    const oldProducer = (await survivors[0]!.evaluate((id) => window.parley!.peers().find((p) => p.peerId === id)?.producers[0]?.producerId ?? null, ids[victim]!)) ?? '';
    for (const p of survivors) await startArrivalProbe(p, 'displaced', ids[victim]!, null);
    const gaps = survivors.flatMap((p, i) => survivors.map((_, j) => (i === j ? null : watchGap(p, ids[j]!))).filter((w) => w !== null));
    const before = await displaced.evaluate(() => window.parley!.reconnects);

    const killedAt = Date.now();
    await cluster.kill(victim);
    const timeoutMs = Number(o.timeout) * 1000;
    // A page that does not come back is a result (recorded as null), not a crash of the bench.
    const recoveryMs = await until(ctx, async () => {
      const s = await displaced.evaluate(() => ({ state: window.parley!.state, reconnects: window.parley!.reconnects }));
      return s.state === 'connected' && s.reconnects > before && (await hearsEveryone(displaced, ids, ids[victim]!)) ? Date.now() - killedAt : null;
    }, timeoutMs, 'the displaced page back with audio', 50).catch(() => null);
    const firstHeard = async () => {
      const firsts: Array<number | null> = [];
      for (const p of survivors) {
        const a = (await readArrivals(p, 'displaced')).find((x) => x.at > killedAt && x.producerId !== oldProducer);
        firsts.push(a ? a.at - killedAt : null);
      }
      return firsts;
    };
    const heardAgainMs = await until(ctx, async () => {
      const firsts = await firstHeard();
      return firsts.every((f) => f !== null) ? firsts : null;
    }, Math.max(1000, killedAt + timeoutMs - Date.now()), 'the survivors to hear the displaced peer again', 100).catch(() => firstHeard());
    await sleep(ctx, 1000);
    const survivorGapsMs = (await Promise.all(gaps.map((g) => g.stop()))).map((g) => g.longestGapMs);
    const movedTo = await displaced.evaluate(() => window.parley!.url);
    const stuck =
      recoveryMs === null
        ? {
            page: await displaced.evaluate(() => ({ state: window.parley!.state, reconnects: window.parley!.reconnects, lastError: window.parley!.lastError, peers: window.parley!.peers().map((p) => p.peerId) })),
            bytesFrom: await Promise.all(ids.filter((_, i) => i !== victim).map((id) => bytesFrom(displaced, id))),
            reconnectsBefore: before,
          }
        : undefined;
    if (stuck) ctx.log(`repeat ${k + 1}: the displaced page did not recover: ${JSON.stringify(stuck)}`);
    return { repeat: k, replicas: n, recoveryMs, heardAgainMs, survivorGapsMs, movedTo, ...(stuck ? { stuck } : {}) };
  } finally {
    for (const p of pages) await p.close().catch(() => undefined);
    await cluster.close();
  }
}

async function run(outer: RunContext, o: OptionValues): Promise<ScenarioResult> {
  const budget = outer.target ? new TargetBudget(outer.target) : null;
  const ctx = budget ? budget.scope(outer) : outer;
  const n = budget ? budget.target.urls.length : Number(o.replicas);
  if (!budget && (!Number.isInteger(n) || n < 2)) throw new TypeError('--replicas must be 2 or more');
  const deployment = budget ? remoteCluster(ctx, budget, o) : null;
  const browser = await startBrowser(ctx, { fakeAudioWav: SPEECH_WAV });
  const repeats: Repeat[] = [];
  const total = Number(o.repeats);
  for (let k = 0; k < total; k++) {
    ctx.progress(k, total, `repeat ${k + 1}/${total}: ${n} replicas, ${budget ? 'stop' : 'kill -9'} one`);
    const cluster = deployment ? await deployment.next(k) : await localCluster(ctx, o, k);
    if (!cluster) break;
    const r = await oneRepeat({ ctx, o, browser }, cluster, k, deployment ? deployment.roomId(k) : `bench-failover-${k}`);
    repeats.push(r);
    const ms = (v: number | null) => (v === null ? 'never (timeout)' : `${v} ms`);
    ctx.log(`repeat ${k + 1}: back with audio after ${ms(r.recoveryMs)}; survivors heard it again after ${r.heardAgainMs.map(ms).join(', ')}; survivors' longest gap ${r.survivorGapsMs.length ? `${Math.max(...r.survivorGapsMs)} ms` : 'n/a (one survivor)'}`);
  }
  ctx.progress(total, total, 'done');

  const known = (xs: Array<number | null>) => xs.filter((x): x is number => x !== null);
  const recovery = summarize(known(repeats.map((r) => r.recoveryMs)));
  const heard = summarize(known(repeats.flatMap((r) => r.heardAgainMs)));
  const failures = repeats.filter((r) => r.recoveryMs === null).length;
  const unheard = repeats.flatMap((r) => r.heardAgainMs).filter((x) => x === null).length;
  const gap = summarize(repeats.flatMap((r) => r.survivorGapsMs));
  const stale = Number(o['stale-after-ms']);
  const result: ScenarioResult = {
    summary: [
      summaryRow({ measure: "killed replica's page hears the others again (kill -9 -> audio)" }, recovery),
      summaryRow({ measure: "survivors' pages hear the displaced peer again" }, heard),
      summaryRow({ measure: "longest audio gap between survivors' pages" }, gap),
    ],
    figures: { recovery_failures: failures, heard_again_failures: unheard, ...figuresOf('recovery', recovery), ...figuresOf('heard_again', heard), ...figuresOf('survivor_gap', gap) },
    samples: repeats,
    plots: [
      {
        id: 'repeats',
        title: `kill -9 of 1 of ${n} replicas, per repeat`,
        kind: 'bar',
        xLabel: 'repeat',
        yLabel: 'ms',
        series: [
          { name: "killed replica's page: audio back", points: repeats.filter((r) => r.recoveryMs !== null).map((r) => [r.repeat + 1, r.recoveryMs!] as [number, number]) },
          { name: 'survivors hear it again (slowest page)', points: repeats.filter((r) => known(r.heardAgainMs).length > 0).map((r) => [r.repeat + 1, Math.max(...known(r.heardAgainMs))] as [number, number]) },
          { name: "survivors' longest gap", points: repeats.map((r) => [r.repeat + 1, Math.max(0, ...r.survivorGapsMs)] as [number, number]) },
        ],
        marks: [{ label: 'cluster.staleAfterMs', y: stale }],
      },
    ],
    notes: [
      `${total} repeat(s), each on a fresh Redis and ${n} fresh \`parley up\` replicas (child processes) with one Chromium page each (the LibriVox clip as microphone) in one room; the last replica is killed with SIGKILL.`,
      `Cluster timings: heartbeat ${o['heartbeat-ms']} ms, staleness ${stale} ms (the production defaults are 2000 and 5000 ms: detection-bound figures grow with them).`,
      'Recovery is polled from the bench every 50 ms (page state, reconnect count, bytes with energy from every other page); "heard again" and the gaps are sampled inside the pages (every 20 and 50 ms).',
      `Failures: ${failures} repeat(s) where the killed replica's page was not back with audio within ${o.timeout} s, ${unheard} surviving page(s) that did not hear the displaced peer again within it (left out of the percentiles, counted in recovery_failures and heard_again_failures).`,
      'Everything runs on this machine beside other workloads (noisy neighbours): see the load averages.',
    ],
    environment: { replicas: n, heartbeatMs: Number(o['heartbeat-ms']), staleAfterMs: stale },
  };
  return budget ? remoteFailoverNotes(result, budget, repeats.length) : result;
}

export const scenario: Scenario = {
  name: 'failover',
  title: 'Replica failover: kill -9 one replica of a shared room; time until its peers hear audio again, gaps for the others',
  description: `N replicas (\`parley up\` children on one Redis), one Chromium page per replica, all in one room,
all talking. The last replica is killed with SIGKILL. The clock starts at the kill and stops when
(a) the killed replica's page is connected again (through a live replica) and receives audio from
every other page: "recovery"; (b) each surviving page receives the displaced peer's new producer:
"heard again". Meanwhile the pages of surviving replicas sample the audio they get from each other
(in the page, every 50 ms): the longest stretch without new audio bytes is their "gap".
Repeated on a fresh cluster; percentiles over the repeats.`,
  options: [
    { name: 'replicas', type: 'number', default: 3, help: 'replicas in the room (one page each); the last is killed' },
    { name: 'repeats', type: 'number', default: 6, smoke: 1, help: 'kills, each on a fresh cluster' },
    { name: 'stale-after-ms', type: 'number', default: 2000, help: 'cluster.staleAfterMs of the replicas' },
    { name: 'heartbeat-ms', type: 'number', default: 500, help: 'cluster.heartbeatMs of the replicas' },
    { name: 'timeout', type: 'number', default: 30, help: 'seconds after the kill before a page that is not back counts as a failure' },
    { name: 'settle', type: 'number', default: 3, smoke: 1, help: 'seconds of call before the kill' },
  ],
  remote: { unavailable: REMOTE_FAILOVER_UNAVAILABLE },
  run,
};
