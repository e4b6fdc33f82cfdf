/**
 * Paced playout of a translated voice: how fast to speak the next segment, and when to give up on old
 * ones, from the backlog (translated audio not yet played, in ms at normal speed). Pure.
 *
 * Up to `relaxedBacklogMs` speech plays at normal speed; from there the rate rises linearly to `maxRate`
 * at `fullBacklogMs` and stays there. Past `dropBacklogMs` the oldest unplayed segments are dropped (never
 * the newest: the last words are the ones the listener is waiting for) until the backlog is under it.
 */

export type PaceOptions = {
  /** Backlog spoken at normal speed (ms, default 300). */
  relaxedBacklogMs: number;
  /** Backlog at which the rate reaches maxRate (ms, default 2 000). */
  fullBacklogMs: number;
  /** Fastest rate (default 1.6: 60 % faster). */
  maxRate: number;
  /** Backlog past which the oldest unplayed segments are dropped (ms, default 5 000). */
  dropBacklogMs: number;
};

export const PACE_DEFAULTS: PaceOptions = { relaxedBacklogMs: 300, fullBacklogMs: 2000, maxRate: 1.6, dropBacklogMs: 5000 };

/** A rate of 1 everywhere and nothing dropped: consecutive playout (each translation in full, in turn). */
export const UNPACED: PaceOptions = { relaxedBacklogMs: Infinity, fullBacklogMs: Infinity, maxRate: 1, dropBacklogMs: Infinity };

/** The rate for a backlog (1 = normal speed). */
export function paceRate(backlogMs: number, o: PaceOptions): number {
  if (!(backlogMs > o.relaxedBacklogMs) || o.maxRate <= 1) return 1;
  if (backlogMs >= o.fullBacklogMs) return o.maxRate;
  const t = (backlogMs - o.relaxedBacklogMs) / (o.fullBacklogMs - o.relaxedBacklogMs);
  return 1 + t * (o.maxRate - 1);
}

export type PlayoutPlan = {
  /** How many of the oldest waiting segments to drop before playing. */
  drop: number;
  /** Rate for the segment that starts now (the oldest one kept). */
  rate: number;
  /** Backlog after the drops (ms). */
  backlogMs: number;
};

/**
 * The plan when a segment is about to start: `playingMs` is what is still queued of the segment playing
 * now, `waitingMs` the durations of the segments waiting (oldest first, the one about to start included).
 */
export function planPlayout(playingMs: number, waitingMs: readonly number[], o: PaceOptions): PlayoutPlan {
  let backlogMs = playingMs + waitingMs.reduce((a, b) => a + b, 0);
  let drop = 0;
  while (backlogMs > o.dropBacklogMs && drop < waitingMs.length - 1) {
    backlogMs -= waitingMs[drop]!;
    drop++;
  }
  return { drop, rate: paceRate(backlogMs, o), backlogMs };
}
