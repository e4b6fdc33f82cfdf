/**
 * In-page probes for the bench (Chromium pages of the Parley web client):
 *
 * - the speaker's microphone as WebRTC sees it: the `media-source` stats of
 *   every RTCPeerConnection (captured by wrapping the constructor before the
 *   page's scripts run), sampled every `everyMs` as [the stats' wall ms, mean power
 *   since the previous sample];
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
          // The stats' own timestamp (taken when WebRTC gathered them), not when the promise got back to
          // this busy page: on a loaded machine that can be tens of ms later.
          let now = 0;
          let e = 0;
          let d = 0;
          for (const r of reports) r?.forEach((s: { type: string; kind?: string; timestamp: number; totalAudioEnergy?: number; totalSamplesDuration?: number }) => {
            if (s.type === 'media-source' && s.kind === 'audio') {
              e += s.totalAudioEnergy ?? 0;
              d += s.totalSamplesDuration ?? 0;
              now = Math.max(now, s.timestamp < 1e12 ? performance.timeOrigin + s.timestamp : s.timestamp);
            }
          });
          if (now === 0) now = Date.now();
          if (last && d > last.d) out.push([Math.round(now), (e - last.e) / (d - last.d)]);
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
        if (!producer) {
          busy = false;
          prevAt = Date.now();
          return;
        }
        // Only this producer's consumer: one getStats per poll, not one per consumer of the page.
        void window.parley
          .inboundAudio(producer.producerId)
          .then((stats) => {
            const now = Date.now();
            const id = producer.producerId;
            const bytes = stats.reduce((n, s) => n + s.bytesReceived, 0);
            if (bytes > (lastBytes.get(id) ?? 0)) out.push({ at: now, prevAt, bytes, producerId: id });
            lastBytes.set(id, Math.max(lastBytes.get(id) ?? 0, bytes));
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

/** One getStats sample of an inbound audio stream: [stats time ms, totalAudioEnergy, totalSamplesDuration s]. */
export type InboundSample = [number, number, number];

/**
 * Starts sampling every inbound audio stream of the page (needs installPeerConnectionTap before
 * navigation): the stats' own timestamp, totalAudioEnergy and totalSamplesDuration, per stream id.
 */
export async function startInboundProbe(page: Page, everyMs = 10): Promise<void> {
  await page.evaluate((everyMs) => {
    const w = window as unknown as { __benchPcs: RTCPeerConnection[]; __benchInbound?: Record<string, Array<[number, number, number]>> };
    const out: Record<string, Array<[number, number, number]>> = {};
    w.__benchInbound = out;
    let busy = false;
    window.setInterval(() => {
      if (busy) return;
      busy = true;
      void Promise.all(w.__benchPcs.map((pc, i) => pc.getStats().then((r) => [i, r] as const).catch(() => null)))
        .then((reports) => {
          for (const entry of reports) {
            if (!entry) continue;
            const [i, report] = entry;
            report.forEach((s: { type: string; kind?: string; id: string; timestamp: number; totalAudioEnergy?: number; totalSamplesDuration?: number }) => {
              if (s.type !== 'inbound-rtp' || s.kind !== 'audio' || s.totalSamplesDuration === undefined) return;
              const key = `${i}:${s.id}`;
              const list = (out[key] ??= []);
              const last = list[list.length - 1];
              // Stats timestamps are wall-clock ms; were they page-relative, place them on the wall clock.
              const at = s.timestamp < 1e12 ? performance.timeOrigin + s.timestamp : s.timestamp;
              if (!last || s.totalSamplesDuration > last[2]) list.push([at, s.totalAudioEnergy ?? 0, s.totalSamplesDuration]);
            });
          }
        })
        .finally(() => (busy = false));
    }, everyMs);
  }, everyMs);
}

export async function readInbound(page: Page): Promise<Record<string, InboundSample[]>> {
  return page.evaluate(() => (window as unknown as { __benchInbound?: Record<string, InboundSample[]> }).__benchInbound ?? {});
}

/** The stream with the most audio energy (the tone, louder than any speech stream in the pipe bench). */
export function loudest(streams: Record<string, InboundSample[]>): InboundSample[] {
  let best: InboundSample[] = [];
  let bestEnergy = -1;
  for (const s of Object.values(streams)) {
    const e = s.length ? s[s.length - 1]![1] - s[0]![1] : 0;
    if (e > bestEnergy) [best, bestEnergy] = [s, e];
  }
  return best;
}

/**
 * Tone onsets in wall time, placed inside the sampling interval from the audio itself: the energy that
 * arrived in the interval, divided by the tone's steady power, is how long the tone has been playing at
 * the interval's end. So a late or stalled poll widens the interval without moving the onset.
 */
export function toneOnsets(samples: readonly InboundSample[], threshold: number, quietMs: number): number[] {
  const rates: Array<{ t: number; dE: number; dD: number; rate: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    const [t, e, d] = samples[i]!;
    const [, e0, d0] = samples[i - 1]!;
    if (d > d0) rates.push({ t, dE: e - e0, dD: d - d0, rate: (e - e0) / (d - d0) });
  }
  const loudRates = rates.filter((r) => r.rate > threshold).map((r) => r.rate).sort((a, b) => a - b);
  const tonePower = loudRates.length ? loudRates[Math.floor(loudRates.length * 0.75)]! : NaN;
  const out: number[] = [];
  let lastLoud = -Infinity;
  for (const r of rates) {
    if (r.rate <= threshold) continue;
    if (r.t - lastLoud >= quietMs) out.push(r.t - Math.min(r.dD, r.dE / tonePower) * 1000);
    lastLoud = r.t;
  }
  return out;
}
