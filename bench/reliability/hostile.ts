/**
 * hostile: many connections send hostile signaling (malformed and truncated JSON, binary frames,
 * deep nesting, oversize frames, wrong types, unknown methods, calls out of order, forged / expired /
 * other-room tokens, prototype-pollution shapes, floods, clients that join and vanish) to one real
 * gateway while a real browser call runs in another room. Afterwards: the process is up and healthy,
 * every frame got a coded answer, the call never stopped, the hostile clients left no mediasoup
 * object and no Redis key behind, and memory came back near its baseline. See bench/reliability/README.md.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { joinAs } from '../../src/devkit/browser.js';
import { bytesFrom, watchGap } from '../../src/devkit/cluster.js';
import { SPEECH_WAV } from '../../src/devkit/media.js';
import { testToken } from '../../src/devkit/signaling.js';
import { metricValue } from '../lib/metrics.js';
import { round } from '../lib/stats.js';
import { sleep, startBrowser, startRedis, startReplica, until } from '../lib/stack.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult, SummaryRow } from '../lib/types.js';
import { HostileConnection, emptyTally, type Tally } from './hostile/HostileConnection.js';
import { CATEGORIES, Rng, badTokens, framesOf, type Category } from './hostile/messages.js';

const MAX_BYTES = 65536;
/** Relative share of each category in the mix (flood batches are 200 frames, so it is rarer). */
const WEIGHTS: Record<Category, number> = {
  malformed: 10, truncated: 10, binary: 8, deep: 4, oversize: 3, 'wrong-types': 10, 'unknown-method': 8,
  'out-of-order': 10, 'bad-token': 10, pollution: 8, flood: 1, abandon: 2,
};

type Gauges = { transports: number; producers: number; consumers: number; rssMb: number; heapMb: number };

async function gauges(url: string): Promise<Gauges> {
  const t = await (await fetch(`${url}/metrics`)).text();
  const v = (name: string) => metricValue(t, name) ?? NaN;
  return {
    transports: v('parley_transports'),
    producers: v('parley_producers'),
    consumers: v('parley_consumers'),
    rssMb: v('parley_process_resident_memory_bytes') / 2 ** 20,
    heapMb: v('parley_nodejs_heap_size_used_bytes') / 2 ** 20,
  };
}

/**
 * Gauges after a full garbage collection: the gateway runs with --heapsnapshot-signal, and writing a
 * heap snapshot collects garbage first. Waits until the snapshot file stops growing, then deletes it.
 */
async function gaugesAfterGc(ctx: RunContext, url: string, pid: number, dir: string): Promise<Gauges> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const file = await until(ctx, async () => readdirSync(dir).find((f) => !before.has(f)) ?? null, 60_000, 'the heap snapshot to start');
  let size = -1;
  await until(ctx, async () => {
    const now = statSync(join(dir, file)).size;
    const stable = now > 0 && now === size;
    size = now;
    return stable ? true : null;
  }, 120_000, 'the heap snapshot to be written', 1000);
  rmSync(join(dir, file), { force: true });
  return gauges(url);
}

async function redisKeys(redis: Redis): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const k of batch) keys.add(k);
  } while (cursor !== '0');
  return keys;
}

function pickCategory(rng: Rng): Category {
  const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  let x = rng.next() * total;
  for (const c of CATEGORIES) if ((x -= WEIGHTS[c]) < 0) return c;
  return 'malformed';
}

/** One hostile client loop: batches until the shared budget is spent; reconnects when the server closes it. */
async function hostileClient(k: number, url: string, shared: { left: number; tallies: Record<Category, Tally>; reconnects: number; done: number }, tokens: string[], seed: number): Promise<void> {
  const rng = new Rng(seed + k);
  const headers = { 'x-forwarded-for': `10.66.${k >> 8}.${k & 255}` };
  let conn = await HostileConnection.open(url, headers);
  let joined = false;
  const roomId = `hostile-${k}`;
  while (shared.left > 0) {
    if (conn.closed) {
      shared.reconnects++;
      conn = await HostileConnection.open(url, headers);
      joined = false;
    }
    const category = pickCategory(rng);
    const tally = shared.tallies[category];
    if (category === 'abandon') {
      // A real participant that joins, asks for transports and vanishes without a word.
      const c = await HostileConnection.open(url, { 'x-forwarded-for': `10.67.${k >> 8}.${k & 255}` });
      const token = await testToken(roomId, `ghost-${k}-${rng.int(1e9)}`);
      const frames = [JSON.stringify({ type: 'request', id: 1, method: 'join', data: { token, roomId } })];
      await c.exchange(frames.map((data) => ({ data, binary: false })), tally);
      await c.exchange(['send', 'recv'].map((direction, i) => ({ data: JSON.stringify({ type: 'request', id: 2 + i, method: 'createTransport', data: { direction } }), binary: false })), tally);
      c.terminate();
      shared.left -= 3;
      continue;
    }
    if (!joined && rng.next() < 0.05) {
      // Some hostile clients are also valid members of their own room, so out-of-order calls reach deeper.
      const token = await testToken(roomId, `member-${k}`);
      const r = await conn.exchange([{ data: JSON.stringify({ type: 'request', id: 1, method: 'join', data: { token, roomId } }), binary: false }], shared.tallies['out-of-order']);
      joined = r[0]?.ok === true;
      shared.left -= 1;
    }
    const frames = framesOf(category, rng, { roomId, tokens: [await testToken(roomId, `member-${k}`), ...tokens], maxBytes: MAX_BYTES, joined });
    await conn.exchange(frames, tally);
    shared.left -= frames.length;
  }
  conn.close();
  shared.done++;
}

async function run(ctx: RunContext, o: OptionValues): Promise<ScenarioResult> {
  const total = Number(o.messages);
  const clients = Number(o.connections);
  const seed = Number(o.seed);
  const graceMs = 2000;
  const snapshots = mkdtempSync(join(tmpdir(), 'parley-hostile-heap-'));
  ctx.defer(() => rmSync(snapshots, { recursive: true, force: true }));
  const redis = await startRedis(ctx);
  const gw = await startReplica(ctx, redis.url, 'hostile-gw', {
    PARLEY_HTTP_TRUST_PROXY: 'true',
    PARLEY_HTTP_RATE_LIMIT_PER_SECOND: '1000',
    PARLEY_HTTP_RATE_LIMIT_BURST: '150',
    PARLEY_ROOMS_RECONNECT_GRACE_MS: String(graceMs),
    PARLEY_LOG_LEVEL: 'warn',
    NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}`,
  });
  const pid = gw.child.pid!;
  const client = new Redis(redis.url);
  ctx.defer(() => void client.disconnect());

  // The control call: two browser pages that must keep talking throughout.
  const browser = await startBrowser(ctx, { fakeAudioWav: SPEECH_WAV });
  const a = await joinAs(browser, gw.url, 'control', 'Ann');
  const b = await joinAs(browser, gw.url, 'control', 'Ben');
  await until(ctx, async () => ((await bytesFrom(b.page, a.peerId)) > 0 ? true : null), 30_000, 'the control call to carry audio');
  await sleep(ctx, 2000);
  const baseline = await gaugesAfterGc(ctx, gw.url, pid, snapshots);
  const keysBefore = await redisKeys(client);
  const gap = watchGap(b.page, a.peerId);
  const heardBefore = await bytesFrom(b.page, a.peerId);

  const tokens = await badTokens('hostile-0');
  const tallies = Object.fromEntries(CATEGORIES.map((c) => [c, emptyTally()])) as Record<Category, Tally>;
  const shared = { left: total, tallies, reconnects: 0, done: 0 };
  const started = Date.now();
  const ticker = setInterval(() => ctx.progress(Math.min(total, total - shared.left), total, `${clients} hostile connections`), 250);
  try {
    await Promise.all(Array.from({ length: clients }, (_, k) => hostileClient(k, gw.url, shared, tokens, seed)));
  } finally {
    clearInterval(ticker);
  }
  const elapsedS = (Date.now() - started) / 1000;
  ctx.progress(total, total, 'settling');

  // Invariants.
  const alive = gw.child.exitCode === null && gw.child.signalCode === null;
  const health = await fetch(`${gw.url}/health`).then((r) => r.status, () => 0);
  const { longestGapMs } = await gap.stop();
  const heardAfter = await bytesFrom(b.page, a.peerId);
  await sleep(ctx, graceMs + 3000); // abandoned peers leave after the reconnect grace
  await until(ctx, async () => {
    const g = await gauges(gw.url);
    return g.transports === baseline.transports && g.producers === baseline.producers && g.consumers === baseline.consumers ? g : null;
  }, 20_000, 'hostile media objects to be gone').catch(() => null);
  const after = alive ? await gaugesAfterGc(ctx, gw.url, pid, snapshots) : baseline;
  const leftoverKeys = [...(await redisKeys(client))].filter((k) => !keysBefore.has(k) && !k.includes('token-used'));
  const sent = CATEGORIES.reduce((n, c) => n + tallies[c].sent, 0);
  const unanswered = CATEGORIES.reduce((n, c) => n + tallies[c].unanswered, 0);

  const summary: SummaryRow[] = CATEGORIES.map((c) => ({
    category: c,
    sent: tallies[c].sent,
    answered: tallies[c].answered,
    'closed by server': tallies[c].closed,
    codes: Object.entries(tallies[c].codes).sort((x, y) => y[1] - x[1]).map(([code, n]) => `${code} ${n}`).join(', '),
  }));
  const leftoverMedia = after.transports - baseline.transports + (after.producers - baseline.producers) + (after.consumers - baseline.consumers);
  const figures = {
    messages_sent: sent,
    messages_per_second: round(sent / elapsedS),
    unanswered,
    server_closed_connections: shared.reconnects,
    gateway_alive: alive ? 1 : 0,
    health_status: health,
    control_call_bytes: heardAfter - heardBefore,
    control_longest_gap_ms: round(longestGapMs),
    leftover_media_objects: leftoverMedia,
    leftover_redis_keys: leftoverKeys.length,
    rss_baseline_mb: round(baseline.rssMb),
    rss_after_mb: round(after.rssMb),
    heap_baseline_mb: round(baseline.heapMb),
    heap_after_mb: round(after.heapMb),
  };
  const failures = [
    !alive && 'the gateway process died',
    health !== 200 && `/health answered ${health}`,
    unanswered > 0 && `${unanswered} frames got no answer`,
    heardAfter <= heardBefore && 'the control call stopped carrying audio',
    leftoverMedia !== 0 && `${leftoverMedia} mediasoup objects left by hostile clients`,
    leftoverKeys.length > 0 && `Redis keys left by hostile clients: ${leftoverKeys.slice(0, 5).join(', ')}`,
    after.heapMb > baseline.heapMb * 1.25 + 10 && `heap used did not come back near its baseline (${round(baseline.heapMb)} -> ${round(after.heapMb)} MB after a full GC)`,
  ].filter((f): f is string => typeof f === 'string');
  return {
    summary,
    figures: { ...figures, invariant_failures: failures.length },
    samples: { tallies, leftoverKeys, baseline, after, elapsedS },
    plots: [{
      id: 'codes', title: 'Frames sent per category', kind: 'bar', xLabel: 'category', yLabel: 'frames',
      categories: [...CATEGORIES],
      series: [{ name: 'sent', points: CATEGORIES.map((c, i) => [i, tallies[c].sent] as [number, number]) }],
    }],
    notes: [
      `${sent} frames over ${clients} connections in ${elapsedS.toFixed(1)} s (seed ${seed}); each hostile connection has its own X-Forwarded-For address (trustProxy on), rate limit 1000/s burst 150 per connection.`,
      `Memory after a full GC (heap snapshot): RSS ${figures.rss_baseline_mb} -> ${figures.rss_after_mb} MB, heap used ${figures.heap_baseline_mb} -> ${figures.heap_after_mb} MB.`,
      ...(failures.length ? failures.map((f) => `INVARIANT FAILED: ${f}`) : ['All invariants held.']),
    ],
  };
}

export const scenario: Scenario = {
  name: 'hostile',
  title: 'hostile signaling at volume against one gateway, a real call in another room throughout',
  description: [
    'Sends --messages hostile frames over --connections WebSockets (categories: malformed, truncated,',
    'binary, deep nesting, oversize, wrong types, unknown methods, out-of-order calls, bad tokens',
    '(forged, expired, other room, other issuer, alg none), prototype-pollution shapes, floods, and clients',
    'that join, create transports and vanish) while two Chromium pages talk in room "control".',
    'Reports frames and error codes per category, and checks: the process is up, /health is 200, every',
    'frame was answered, the control call kept carrying audio (longest gap reported), no mediasoup object',
    'or Redis key left behind once the reconnect grace passed, RSS and heap before/after.',
  ].join('\n'),
  options: [
    { name: 'messages', type: 'number', default: 100_000, smoke: 3000, help: 'hostile frames to send in all' },
    { name: 'connections', type: 'number', default: 40, smoke: 8, help: 'hostile WebSocket connections at once' },
    { name: 'seed', type: 'number', default: 7, help: 'seed of the frame generator (same seed, same frames)' },
  ],
  run,
};
