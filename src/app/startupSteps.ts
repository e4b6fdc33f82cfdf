import type { Logger } from '../logger.js';

/** How long a startup step may wait before the log says which one it is. */
const SLOW_STEP_MS = 10_000;

/**
 * Runs the composition root's steps one by one: each is timed (debug log), and a step still waiting
 * after SLOW_STEP_MS is named in a warning (repeated every SLOW_STEP_MS), so a start that hangs on
 * Redis, a media worker or the VAD thread says so instead of staying silent.
 */
export function startupSteps(log: Logger): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  const started = Date.now();
  return async (name, fn) => {
    const t0 = Date.now();
    const slow = setInterval(() => log.warn({ step: name, waitingMs: Date.now() - t0 }, 'startup step still waiting'), SLOW_STEP_MS);
    slow.unref();
    try {
      return await fn();
    } finally {
      clearInterval(slow);
      log.debug({ step: name, ms: Date.now() - t0, sinceStartMs: Date.now() - started }, 'startup step done');
    }
  };
}
