/**
 * Pure: may a room's transition be delivered now, given where its predecessor (the same room's transition
 * seq - 1) is? Replicas enqueue a room's transitions independently, so one can reach the queue a moment
 * before the transition it follows; the receiver's queue takes one job at a time (global concurrency 1),
 * and a job whose predecessor is still queued steps aside until it is delivered.
 */
import type { JobState } from 'bullmq';

/** How long a missing predecessor is waited for (from the job's enqueueing) before it counts as lost. */
export const GAP_WAIT_MS = 2000;
/** How soon a job that stepped aside is looked at again. */
export const RECHECK_MS = 200;

/** The predecessor's queue state; null when the job has none (the transition created its room). */
export type PredecessorState = JobState | 'unknown' | null;

export type OrderDecision =
  | { kind: 'deliver' }
  /** The predecessor never showed up (its replica died between the room write and the enqueue, or it was
   * removed from the queue's history): deliver, and count the gap. */
  | { kind: 'deliver-after-gap' }
  | { kind: 'defer'; delayMs: number };

export function orderDecision(pred: PredecessorState, enqueuedAt: number, now: number, gapWaitMs = GAP_WAIT_MS): OrderDecision {
  if (pred === null || pred === 'completed' || pred === 'failed') return { kind: 'deliver' };
  if (pred !== 'unknown') return { kind: 'defer', delayMs: RECHECK_MS }; // queued, delayed or in delivery
  const left = enqueuedAt + gapWaitMs - now;
  return left <= 0 ? { kind: 'deliver-after-gap' } : { kind: 'defer', delayMs: Math.min(RECHECK_MS, left) };
}
