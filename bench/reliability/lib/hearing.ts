/**
 * Who a page hears, sampled inside the page (its own timer, so a busy bench
 * process does not stretch the figures): every `everyMs` it reads the audio
 * consumers' stats and notes, per remote peer, the last time bytes with energy
 * grew on any of that peer's producers, and the longest stretch without growth
 * since the last `markGaps`. A new producer (after a reconnect) counts as growth
 * as soon as it carries bytes.
 */
import type { Page } from 'playwright-core';

export type PageView = {
  /** Page clock (Date.now) when read. */
  now: number;
  state: string;
  reconnects: number;
  url: string;
  peerId: string | null;
  /** Remote peer id -> Date.now() of the last growth of its audio bytes. */
  lastHeard: Record<string, number>;
  /** Remote peer id -> longest stretch without growth since markGaps (ongoing stretch included). */
  longestGapMs: Record<string, number>;
  /** Peer ids the page's roster lists (itself excluded). */
  roster: string[];
  /** Captions received (count, and time of the newest). */
  captions: { n: number; lastAt: number };
};

type Monitor = { last: Record<string, number>; heard: Record<string, number>; longest: Record<string, number>; mark: number; timer: number };

/** Starts the sampler in the page (idempotent: a page that navigated gets a new one). */
export async function installMonitor(page: Page, everyMs = 100): Promise<void> {
  await page.evaluate((everyMs) => {
    const w = window as unknown as { __rel?: Monitor };
    if (w.__rel) return;
    const m: Monitor = { last: {}, heard: {}, longest: {}, mark: Date.now(), timer: 0 };
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
          for (const s of stats) {
            if (!(s.totalAudioEnergy > 0)) continue;
            const key = `${s.peerId}|${s.producerId}`;
            if (s.bytesReceived > (m.last[key] ?? 0)) grew.add(s.peerId);
            m.last[key] = s.bytesReceived;
          }
          for (const id of grew) {
            const since = Math.max(m.heard[id] ?? m.mark, m.mark);
            m.longest[id] = Math.max(m.longest[id] ?? 0, now - since);
            m.heard[id] = now;
          }
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, everyMs);
  }, everyMs);
}

/** Starts a new gap window: longest gaps are measured from now. */
export async function markGaps(page: Page): Promise<void> {
  await page.evaluate(() => {
    const m = (window as unknown as { __rel?: Monitor }).__rel;
    if (!m) return;
    m.mark = Date.now();
    m.longest = {};
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
    for (const id of Object.keys(m.heard)) longestGapMs[id] = Math.max(m.longest[id] ?? 0, now - Math.max(m.heard[id]!, m.mark));
    const captions = p.captions();
    return {
      now,
      state: p.state,
      reconnects: p.reconnects,
      url: p.url,
      peerId: p.peerId,
      lastHeard: { ...m.heard },
      longestGapMs,
      roster: p.peers().map((x) => x.peerId).filter((id) => id !== p.peerId),
      captions: { n: captions.length, lastAt: captions.reduce((t, c) => Math.max(t, c.receivedAt), 0) },
    };
  });
}

/** True when `view` heard every id of `from` within the last `freshMs`. */
export function hearsAll(view: PageView, from: readonly string[], freshMs: number): boolean {
  return from.every((id) => view.lastHeard[id] !== undefined && view.now - view.lastHeard[id]! <= freshMs);
}
