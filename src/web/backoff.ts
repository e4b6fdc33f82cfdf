/** Reconnect delays: exponential from `initialMs`, doubling up to `maxMs`, with +-20% jitter (never above `maxMs`). */

export type BackoffOptions = {
  /** Delay before the first retry. */
  initialMs: number;
  /** Upper bound of the un-jittered delay. */
  maxMs: number;
  /** Fraction of the delay added or removed at random (0.2 = +-20%). */
  jitter: number;
};

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 5_000, jitter: 0.2 };

/** Delay before retry number `attempt` (0-based). `random` is injectable for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const spread = base * options.jitter * (random() * 2 - 1);
  return Math.min(options.maxMs, Math.max(0, Math.round(base + spread)));
}
