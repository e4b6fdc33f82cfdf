import type { Page } from 'playwright-core';
import { freePortRange, freeTcpPort } from '../util/ports.js';
import type { RedisStore } from '../state/RedisStore.js';
import { inboundAudio } from './browser.js';
import { spawnGateway, type GatewayProcess } from './gateway.js';
import { waitFor } from './media.js';

export const ADMIN_TOKEN = 'test-admin-token';

/** Cluster timings shortened for tests (the defaults are 2 s heartbeat, 5 s staleness). */
export const FAST_CLUSTER_ENV = {
  PARLEY_CLUSTER_HEARTBEAT_MS: '500',
  PARLEY_CLUSTER_STALE_AFTER_MS: '4000',
  PARLEY_CLUSTER_DRAIN_MOVE_DELAY_MS: '500',
  PARLEY_CLUSTER_DRAIN_TIMEOUT_MS: '15000',
  PARLEY_ROOMS_RECONNECT_GRACE_MS: '8000',
  PARLEY_AUTH_ADMIN_TOKEN: ADMIN_TOKEN,
};

/** Starts `n` replicas of `parley up` on one Redis, each with its own HTTP and RTC ports. */
export async function startReplicas(redisUrl: string, n: number, prefix: string, env: Record<string, string> = {}): Promise<GatewayProcess[]> {
  const replicas: GatewayProcess[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freeTcpPort();
    const rtcBasePort = await freePortRange(1);
    replicas.push(await spawnGateway(redisUrl, { port, rtcBasePort, replicaId: `${prefix}-${i}`, env: { ...FAST_CLUSTER_ENV, ...env } }));
  }
  return replicas;
}

/** Audio bytes (with energy) `page` has received from `peerId`, over its current consumers. */
export async function bytesFrom(page: Page, peerId: string): Promise<number> {
  return (await inboundAudio(page)).filter((s) => s.peerId === peerId && s.totalAudioEnergy > 0).reduce((n, s) => n + s.bytesReceived, 0);
}

/** Chromium sends Opus in 20 ms packets, without DTX (silence arrives too): a packet is 20 ms of audio heard. */
export const OPUS_PACKET_MS = 20;

/**
 * Watches, inside the page, the microphone audio of `peerId` the page
 * receives, until `stop()`. Counted in RTP packets (20 ms of Opus each, sent
 * without DTX, so silence arrives too) against the page's clock:
 * - `lostMs`: audio that never arrived in the watch (time elapsed minus the
 *   packets' worth). Packets held up somewhere and then delivered in a burst
 *   pay their time back; packets dropped (a paused or replaced consumer, a
 *   pipe down) do not.
 * - `longestGapMs` (from `longestGapFrom`): the longest stretch without a
 *   packet, however late it came. On a starved 2-core machine a process
 *   can wait hundreds of ms for a core (docs/reliability.md, "Audio lost,
 *   and waits"), so this is a figure to report, not an outcome.
 * A sampler the machine runs late still finds the packets that arrived
 * meanwhile. Each consumer is followed on its own (one the server replaced
 * counts from its successor's first packets).
 */
export function watchGap(page: Page, peerId: string, everyMs = 50): { stop(): Promise<GapWatch> } {
  type Watch = { timer: number; packets: Record<string, number>; firstAt: number; lastAt: number; total: number; run: number; longest: number; longestFrom: number; samples: number };
  const started = page.evaluate(
    ({ peerId, everyMs, PACKET_MS }) => {
      const w = window as unknown as { __gap?: Record<string, Watch> };
      w.__gap ??= {};
      const state: Watch = { timer: 0, packets: {}, firstAt: -1, lastAt: -1, total: 0, run: 0, longest: 0, longestFrom: 0, samples: 0 };
      w.__gap[peerId] = state;
      state.timer = window.setInterval(() => {
        void window.parley!.inboundAudio().then((stats) => {
          const now = performance.now();
          let arrived = 0;
          for (const s of stats) {
            if (s.peerId !== peerId || s.source !== 'mic') continue;
            arrived += s.packetsReceived - (state.packets[s.consumerId] ?? 0);
            state.packets[s.consumerId] = s.packetsReceived;
          }
          if (state.lastAt >= 0) {
            state.total += arrived;
            state.run += Math.max(0, now - state.lastAt - arrived * PACKET_MS);
            if (arrived > 0) {
              if (state.run > state.longest) {
                state.longest = state.run;
                state.longestFrom = performance.timeOrigin + now - state.run;
              }
              state.run = 0;
            }
          } else state.firstAt = now;
          state.lastAt = now;
          state.samples += 1;
        });
      }, everyMs);
    },
    { peerId, everyMs, PACKET_MS: OPUS_PACKET_MS },
  );
  return {
    async stop() {
      await started;
      return page.evaluate(
        ({ id, PACKET_MS }) => {
          const state = (window as unknown as { __gap: Record<string, Watch> }).__gap[id]!;
          window.clearInterval(state.timer);
          const [longest, from] = state.run > state.longest ? [state.run, performance.timeOrigin + state.lastAt - state.run] : [state.longest, state.longestFrom];
          const lost = state.firstAt < 0 ? 0 : Math.max(0, state.lastAt - state.firstAt - state.total * PACKET_MS);
          return { lostMs: Math.round(lost), longestGapMs: Math.round(longest), longestGapFrom: Math.round(from), samples: state.samples, consumers: Object.keys(state.packets).length };
        },
        { id: peerId, PACKET_MS: OPUS_PACKET_MS },
      );
    },
  };
}

/** What `watchGap` saw: audio lost, the longest wait between packets (and when it began, Date.now() time), samples, consumers. */
export type GapWatch = { lostMs: number; longestGapMs: number; longestGapFrom: number; samples: number; consumers: number };

/** One watch for a log line: `lost 0 ms (longest wait 412 ms)`. */
export function describeGap(g: GapWatch): string {
  return `lost ${g.lostMs} ms (longest wait ${g.longestGapMs} ms)`;
}

/** Waits until every page hears every other (`ids[i]` is the peer of `ps[i]`). */
export async function everyoneHearsEveryone(ps: Page[], ids: string[], timeoutMs = 20_000): Promise<void> {
  let silent: string[] = [];
  await waitFor(async () => {
    silent = [];
    for (const [i, page] of ps.entries()) {
      for (const [j, id] of ids.entries()) if (i !== j && (await bytesFrom(page, id)) === 0) silent.push(`page ${i} hears nothing from page ${j}`);
    }
    return silent.length === 0 ? true : null;
  }, timeoutMs, 'every page to hear every other').catch((err: Error) => {
    throw new Error(`${err.message} (${silent.join('; ')})`);
  });
}

/** Keys whose name or stored value mentions `text`. */
export async function keysMentioning(store: RedisStore, text: string): Promise<string[]> {
  const found: string[] = [];
  const client = store.client;
  for (const key of await store.keys('*')) {
    const type = await client.type(key);
    const values = type === 'hash' ? Object.entries(await client.hgetall(key)).flat() : type === 'string' ? [await client.get(key)] : type === 'set' ? await client.smembers(key) : [];
    if (key.includes(text) || values.some((v) => v?.includes(text))) found.push(key);
  }
  return found;
}

/** Waits until `page` has rejoined (`reconnects` grew past `before`) and hears every id in `from`. */
export async function backWithAudio(page: Page, from: string[], before: number, timeoutMs: number): Promise<void> {
  await waitFor(async () => {
    const state = await page.evaluate(() => ({ state: window.parley!.state, reconnects: window.parley!.reconnects }));
    if (state.state !== 'connected' || state.reconnects <= before) return null;
    for (const id of from) if ((await bytesFrom(page, id)) === 0) return null;
    return true;
  }, timeoutMs, 'the page back with audio');
}
