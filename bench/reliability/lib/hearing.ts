/**
 * Who a page hears, sampled inside the page (its own timer, so a busy bench
 * process does not stretch the figures): every `everyMs` it reads the audio
 * consumers' stats and notes, per remote peer, the last time bytes with energy
 * grew on any of that peer's producers (a new producer, after a reconnect,
 * counts as soon as it carries bytes), and, since the last `markGaps`, how much
 * of that peer's microphone audio never arrived and the longest wait between
 * two of its packets.
 *
 * Both are counted in RTP packets (OPUS_PACKET_MS of audio each, silence
 * included) against the page's clock, as `watchGap` does: a sampler the loaded
 * machine runs late still finds the packets that arrived meanwhile. Audio lost
 * is what a fault can cause (packets dropped); a wait (packets held up, then
 * delivered in a burst) is also what a starved 2-core machine causes, so it is
 * reported, with how late the sampler ran (`samplerStallMs`).
 */
import type { Page } from 'playwright-core';
import { OPUS_PACKET_MS } from '../../../src/devkit/cluster.js';

export type PageView = {
  /** Page clock (Date.now) when read. */
  now: number;
  state: string;
  reconnects: number;
  url: string;
  peerId: string | null;
  /** Remote peer id -> Date.now() of the last growth of its audio bytes. */
  lastHeard: Record<string, number>;
  /** Remote peer id -> longest wait between two of its microphone packets since markGaps (ongoing wait included). */
  longestGapMs: Record<string, number>;
  /** Remote peer id -> its microphone audio that never arrived since markGaps (time minus packets' worth; late packets pay back). */
  lostMs: Record<string, number>;
  /** Remote peer id -> its microphone audio missing now (since its last packet, counted as longestGapMs is). */
  missingMs: Record<string, number>;
  /** Longest time between two of the sampler's reads since markGaps: how starved the page was. */
  samplerStallMs: number;
  /** Peer ids the page's roster lists (itself excluded). */
  roster: string[];
  /** Captions received (count, and time of the newest). */
  captions: { n: number; lastAt: number };
};

type Monitor = {
  /** Consumer id -> packets / bytes at the previous read. */
  packets: Record<string, number>;
  bytes: Record<string, number>;
  heard: Record<string, number>;
  /** Peer id -> audio missing since its last packet, and the longest such stretch since the mark. */
  run: Record<string, number>;
  longest: Record<string, number>;
  /** Peer id -> time since the mark minus its packets' worth (negative: packets that were due before the mark). */
  lost: Record<string, number>;
  lastRead: number;
  stall: number;
  timer: number;
};

/** Starts the sampler in the page (idempotent: a page that navigated gets a new one). */
export async function installMonitor(page: Page, everyMs = 100): Promise<void> {
  await page.evaluate(
    ({ everyMs, PACKET_MS }) => {
      const w = window as unknown as { __rel?: Monitor };
      if (w.__rel) return;
      const m: Monitor = { packets: {}, bytes: {}, heard: {}, run: {}, longest: {}, lost: {}, lastRead: 0, stall: 0, timer: 0 };
      w.__rel = m;
      let busy = false;
      m.timer = window.setInterval(() => {
        if (busy || !window.parley) return;
        busy = true;
        void window.parley
          .inboundAudio()
          .then((stats) => {
            const now = Date.now();
            const grew = new Set<string>();
            const arrived: Record<string, number> = {};
            for (const s of stats) {
              if (!(s.totalAudioEnergy > 0)) continue;
              if (s.bytesReceived > (m.bytes[s.consumerId] ?? 0)) grew.add(s.peerId);
              m.bytes[s.consumerId] = s.bytesReceived;
              if (s.source === 'mic') arrived[s.peerId] = (arrived[s.peerId] ?? 0) + s.packetsReceived - (m.packets[s.consumerId] ?? 0);
              m.packets[s.consumerId] = s.packetsReceived;
            }
            for (const id of grew) m.heard[id] = now;
            if (m.lastRead > 0) {
              const elapsed = now - m.lastRead;
              m.stall = Math.max(m.stall, elapsed);
              for (const id of Object.keys(m.run)) {
                m.run[id]! += Math.max(0, elapsed - (arrived[id] ?? 0) * PACKET_MS);
                m.lost[id] = (m.lost[id] ?? 0) + elapsed - (arrived[id] ?? 0) * PACKET_MS;
                m.longest[id] = Math.max(m.longest[id] ?? 0, m.run[id]!);
                if ((arrived[id] ?? 0) > 0) m.run[id] = 0;
              }
            }
            for (const id of Object.keys(arrived)) m.run[id] ??= 0;
            m.lastRead = now;
          })
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, everyMs);
    },
    { everyMs, PACKET_MS: OPUS_PACKET_MS },
  );
}

/** Starts a new gap window: longest gaps are measured from now. */
export async function markGaps(page: Page): Promise<void> {
  await page.evaluate(() => {
    const m = (window as unknown as { __rel?: Monitor }).__rel;
    if (!m) return;
    for (const id of Object.keys(m.run)) m.run[id] = 0;
    m.longest = {};
    m.lost = {};
    m.stall = 0;
  });
}

/** What the page sees now; reinstalls the sampler if the page lost it. */
export async function readView(page: Page): Promise<PageView> {
  await installMonitor(page);
  return page.evaluate(() => {
    const m = (window as unknown as { __rel: Monitor }).__rel;
    const p = window.parley!;
    const now = Date.now();
    const longestGapMs: Record<string, number> = {};
    const lostMs: Record<string, number> = {};
    for (const id of Object.keys(m.run)) {
      longestGapMs[id] = Math.max(m.longest[id] ?? 0, m.run[id]!);
      lostMs[id] = Math.max(0, Math.round(m.lost[id] ?? 0));
    }
    const captions = p.captions();
    return {
      now,
      state: p.state,
      reconnects: p.reconnects,
      url: p.url,
      peerId: p.peerId,
      lastHeard: { ...m.heard },
      longestGapMs,
      lostMs,
      missingMs: { ...m.run },
      samplerStallMs: m.stall,
      roster: p.peers().map((x) => x.peerId).filter((id) => id !== p.peerId),
      captions: { n: captions.length, lastAt: captions.reduce((t, c) => Math.max(t, c.receivedAt), 0) },
    };
  });
}

/** True when `view` heard every id of `from` within the last `freshMs`. */
export function hearsAll(view: PageView, from: readonly string[], freshMs: number): boolean {
  return from.every((id) => view.lastHeard[id] !== undefined && view.now - view.lastHeard[id]! <= freshMs);
}
