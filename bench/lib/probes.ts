/**
 * In-page probes for the bench (Chromium pages of the Parley web client):
 *
 * - the speaker's microphone as WebRTC sees it: the `media-source` stats of
 *   every RTCPeerConnection (captured by wrapping the constructor before the
 *   page's scripts run), sampled every `everyMs` as [wall ms, mean power];
 * - audio arriving from a producer at a listener (`window.parley.inboundAudio()`),
 *   recorded as the wall time each poll saw its bytes grow, with the previous poll's time.
 *
 * Samples are taken by the page's own timer, so a busy bench process does not stretch them;
 * wall clocks are shared with the gateway (same machine).
 */
import type { Page } from 'playwright-core';

/** One poll that saw new bytes of `producerId`: they arrived in (prevAt, at]. */
export type Arrival = { at: number; prevAt: number; bytes: number; producerId: string };

/** Must run before the page loads (it wraps RTCPeerConnection). */
export async function installPeerConnectionTap(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __benchPcs?: RTCPeerConnection[] };
    const Original = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    w.__benchPcs = pcs;
    window.RTCPeerConnection = class extends Original {
      constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
        super(...args);
        pcs.push(this);
      }
    };
  });
}

/** Starts sampling the page's outgoing microphone power (needs installPeerConnectionTap before navigation). */
export async function startMicProbe(page: Page, everyMs = 20): Promise<void> {
  await page.evaluate((everyMs) => {
    const w = window as unknown as { __benchPcs: RTCPeerConnection[]; __benchMic?: Array<[number, number]>; __benchMicTimer?: number };
    const out: Array<[number, number]> = [];
    w.__benchMic = out;
    let last: { e: number; d: number } | null = null;
    let busy = false;
    w.__benchMicTimer = window.setInterval(() => {
      if (busy) return;
      busy = true;
      void Promise.all(w.__benchPcs.map((pc) => pc.getStats().catch(() => null)))
        .then((reports) => {
          const now = Date.now();
          let e = 0;
          let d = 0;
          for (const r of reports) r?.forEach((s: { type: string; kind?: string; totalAudioEnergy?: number; totalSamplesDuration?: number }) => {
            if (s.type === 'media-source' && s.kind === 'audio') {
              e += s.totalAudioEnergy ?? 0;
              d += s.totalSamplesDuration ?? 0;
            }
          });
          if (last && d > last.d) out.push([now, (e - last.e) / (d - last.d)]);
          last = { e, d };
        })
        .finally(() => (busy = false));
    }, everyMs);
  }, everyMs);
}

export async function readMicProbe(page: Page): Promise<Array<[number, number]>> {
  return page.evaluate(() => (window as unknown as { __benchMic?: Array<[number, number]> }).__benchMic ?? []);
}

/**
 * Starts recording, in a listener page, when audio from `speakerPeerId`'s producer whose source is `source`
 * (e.g. `translation:es`, or `mic`) grows. The producer is looked up on every poll, so it may appear later.
 */
export async function startArrivalProbe(page: Page, key: string, speakerPeerId: string, source: string | null, everyMs = 20): Promise<void> {
  await page.evaluate(
    ({ key, speakerPeerId, source, everyMs }) => {
      const w = window as unknown as { __benchArrivals?: Record<string, { out: Array<{ at: number; prevAt: number; bytes: number; producerId: string }>; timer: number }> };
      w.__benchArrivals ??= {};
      // A producer is looked up on every poll: it may appear later, or be replaced (the speaker rejoined).
      const out: Array<{ at: number; prevAt: number; bytes: number; producerId: string }> = [];
      const lastBytes = new Map<string, number>();
      let prevAt = Date.now();
      let busy = false;
      const timer = window.setInterval(() => {
        if (busy || !window.parley) return;
        busy = true;
        const peer = window.parley.peers().find((p) => p.peerId === speakerPeerId);
        const producer = peer?.producers.find((p) => (source === null ? !p.source?.startsWith('translation:') : p.source === source));
        void window.parley
          .inboundAudio()
          .then((stats) => {
            const now = Date.now();
            if (producer) {
              const id = producer.producerId;
              const bytes = stats.filter((s) => s.producerId === id).reduce((n, s) => n + s.bytesReceived, 0);
              if (bytes > (lastBytes.get(id) ?? 0)) out.push({ at: now, prevAt, bytes, producerId: id });
              lastBytes.set(id, Math.max(lastBytes.get(id) ?? 0, bytes));
            }
            prevAt = now;
          })
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, everyMs);
      w.__benchArrivals![key] = { out, timer };
    },
    { key, speakerPeerId, source, everyMs },
  );
}

export async function readArrivals(page: Page, key: string): Promise<Arrival[]> {
  return page.evaluate((key) => (window as unknown as { __benchArrivals?: Record<string, { out: Arrival[] }> }).__benchArrivals?.[key]?.out ?? [], key);
}

/** The first poll that saw new bytes sent at or after `sentAt` (null when none did). */
export function arrivalAfter(arrivals: readonly Arrival[], sentAt: number): Arrival | null {
  return arrivals.find((a) => a.at >= sentAt) ?? null;
}

/**
 * End of speech at the microphone before `before`: the end of the last sampled interval whose mean power
 * exceeds `threshold`, looking back at most `windowMs`; null when the window holds no speech.
 */
export function speechEndBefore(mic: ReadonlyArray<readonly [number, number]>, before: number, windowMs: number, threshold = 1e-4): number | null {
  for (let i = mic.length - 1; i >= 0; i--) {
    const [at, power] = mic[i]!;
    if (at > before) continue;
    if (at < before - windowMs) return null;
    if (power > threshold) return at;
  }
  return null;
}

/**
 * Starts sampling, in a listener page, the audio energy played out from `speakerPeerId`'s microphone
 * producer (`totalAudioEnergy` of its consumer: after the jitter buffer, as the listener hears it),
 * as [wall ms, mean power over the interval since the previous sample].
 */
export async function startEnergyProbe(page: Page, key: string, speakerPeerId: string, everyMs = 10): Promise<void> {
  await page.evaluate(
    ({ key, speakerPeerId, everyMs }) => {
      const w = window as unknown as { __benchEnergy?: Record<string, Array<[number, number]>> };
      w.__benchEnergy ??= {};
      const out: Array<[number, number]> = [];
      w.__benchEnergy[key] = out;
      let last: { at: number; e: number } | null = null;
      let busy = false;
      window.setInterval(() => {
        if (busy || !window.parley) return;
        busy = true;
        const producer = window.parley.peers().find((p) => p.peerId === speakerPeerId)?.producers.find((p) => !p.source?.startsWith('translation:'));
        void window.parley
          .inboundAudio()
          .then((stats) => {
            const now = Date.now();
            const e = stats.filter((s) => s.producerId === producer?.producerId).reduce((n, s) => n + s.totalAudioEnergy, 0);
            if (last && now > last.at) out.push([now, ((e - last.e) * 1000) / (now - last.at)]);
            last = { at: now, e };
          })
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, everyMs);
    },
    { key, speakerPeerId, everyMs },
  );
}

export async function readEnergy(page: Page, key: string): Promise<Array<[number, number]>> {
  return page.evaluate((key) => (window as unknown as { __benchEnergy?: Record<string, Array<[number, number]>> }).__benchEnergy?.[key] ?? [], key);
}

/** Times at which power rises above `threshold` after at least `quietMs` below it. */
export function onsets(series: ReadonlyArray<readonly [number, number]>, threshold: number, quietMs: number): number[] {
  const out: number[] = [];
  let lastLoud = -Infinity;
  for (const [at, power] of series) {
    if (power <= threshold) continue;
    if (at - lastLoud >= quietMs) out.push(at);
    lastLoud = at;
  }
  return out;
}

/** For each onset of `reference`, the matching onset of `other` (nearest within ±maxMs) minus it. */
export function onsetDelays(reference: readonly number[], other: readonly number[], maxMs: number): number[] {
  const out: number[] = [];
  for (const r of reference) {
    let best: number | null = null;
    for (const o of other) if (Math.abs(o - r) <= maxMs && (best === null || Math.abs(o - r) < Math.abs(best - r))) best = o;
    if (best !== null) out.push(best - r);
  }
  return out;
}
