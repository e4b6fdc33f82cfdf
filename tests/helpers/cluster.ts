import type { Page } from 'playwright-core';
import { freePortRange, freeTcpPort } from '../../src/util/ports.js';
import { inboundAudio } from './browser.js';
import { spawnGateway, type GatewayProcess } from './gateway.js';

export const ADMIN_TOKEN = 'test-admin-token';

/** Cluster timings shortened for tests (the defaults are 2 s heartbeat, 5 s staleness). */
export const FAST_CLUSTER_ENV = {
  PARLEY_CLUSTER_HEARTBEAT_MS: '500',
  PARLEY_CLUSTER_STALE_AFTER_MS: '2000',
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

/**
 * Samples the bytes `page` receives from `peerId` every `everyMs` until `stop()`;
 * reports the longest stretch without new bytes.
 */
export function watchGap(page: Page, peerId: string, everyMs = 100): { stop(): Promise<{ longestGapMs: number; samples: number }> } {
  let running = true;
  let lastBytes = -1;
  let lastChange = Date.now();
  let longest = 0;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const b = await bytesFrom(page, peerId).catch(() => lastBytes);
      const now = Date.now();
      if (b > lastBytes) {
        if (lastBytes >= 0) longest = Math.max(longest, now - lastChange);
        lastBytes = b;
        lastChange = now;
      }
      samples += 1;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    longest = Math.max(longest, Date.now() - lastChange);
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { longestGapMs: longest, samples };
    },
  };
}
