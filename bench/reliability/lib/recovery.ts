/**
 * Watching the cluster come back after a fault: every page connected, the ones that
 * had to reconnect reconnected, every page hearing every speaker of its room with
 * audio newer than the fault (and captions again when the fault hit the AI pipeline);
 * then the invariants, polled until they hold or the cleanup window closes.
 */
import { sleep } from '../../lib/stack.js';
import type { Cluster, Member } from './cluster.js';
import type { Injected } from './faults.js';
import { readView, type PageView } from './hearing.js';
import { checkInvariants } from './invariants.js';

/** Audio heard within this long counts as "hearing now" (ms). */
export const FRESH_MS = 800;

export async function readViews(cluster: Cluster): Promise<Map<Member, PageView>> {
  const views = new Map<Member, PageView>();
  await Promise.all(cluster.members.map(async (m) => views.set(m, await readView(m.page))));
  return views;
}

/** What still keeps the cluster from being recovered after `f` (empty = recovered). */
export function missing(cluster: Cluster, views: Map<Member, PageView>, f: Pick<Injected, 'at' | 'mustReconnect' | 'needsCaption'>): string[] {
  const out: string[] = [];
  for (const [m, v] of views) {
    if (v.state !== 'connected') out.push(`${m.name} ${v.state}`);
    const before = f.mustReconnect.get(m);
    if (before !== undefined && v.reconnects <= before) out.push(`${m.name} not reconnected`);
    for (const s of cluster.speakersFor(m)) {
      const heard = v.lastHeard[s.peerId];
      if (heard === undefined || heard <= f.at || v.now - heard > FRESH_MS) out.push(`${m.name} does not hear ${s.name}`);
    }
  }
  if (f.needsCaption) {
    // Pages that hear someone in another language than theirs get that speaker's translated captions.
    const listeners = cluster.members.filter((m) => m.listening && cluster.speakersFor(m).some((s) => s.spoken !== m.listening));
    if (!listeners.some((m) => views.get(m)!.captions.lastAt > f.at)) out.push('no caption since the fault');
  }
  return out;
}

/** Polls until `missing` is empty; returns the time since the fault, or the last shortfall at the bound. */
export async function awaitRecovery(cluster: Cluster, f: Pick<Injected, 'at' | 'mustReconnect' | 'needsCaption'>, boundMs: number): Promise<{ ms: number | null; views: Map<Member, PageView>; shortfall: string[] }> {
  for (;;) {
    const views = await readViews(cluster);
    const shortfall = missing(cluster, views, f);
    const ms = Date.now() - f.at;
    if (shortfall.length === 0) return { ms, views, shortfall };
    if (ms > boundMs) return { ms: null, views, shortfall };
    await sleep(cluster.ctx, 150);
  }
}

/** What each surviving page lost of each surviving speaker's audio since the fault, and its longest wait for a packet. */
export function survivorGaps(cluster: Cluster, views: Map<Member, PageView>, displaced: readonly Member[]): Array<{ listener: string; speaker: string; lostMs: number; waitMs: number }> {
  const survivors = cluster.members.filter((m) => !displaced.includes(m));
  const out = [];
  for (const m of survivors) {
    for (const s of cluster.speakersFor(m)) {
      if (displaced.includes(s)) continue;
      const v = views.get(m)!;
      out.push({ listener: m.name, speaker: s.name, lostMs: v.lostMs[s.peerId] ?? Number.POSITIVE_INFINITY, waitMs: v.longestGapMs[s.peerId] ?? Number.POSITIVE_INFINITY });
    }
  }
  return out;
}

/** Polls the invariants until they hold; returns how long that took, or the violations left at the end of the window. */
export async function awaitClean(cluster: Cluster, windowMs: number, stuckAfterMs: number): Promise<{ ms: number | null; violations: string[] }> {
  const start = Date.now();
  for (;;) {
    const violations = await checkInvariants({ cluster, views: await readViews(cluster), stuckAfterMs });
    const ms = Date.now() - start;
    if (violations.length === 0) return { ms, violations };
    if (ms > windowMs) return { ms: null, violations };
    await sleep(cluster.ctx, 500);
  }
}
