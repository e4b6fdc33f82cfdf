/**
 * The RunContext a scenario gets: progress and narration on stderr, an abort
 * signal (Ctrl-C), and a cleanup stack run in reverse order whatever happens.
 */
import type { Progress } from './progress.js';
import type { RemoteTarget, RunContext } from './types.js';

export type OwnedContext = RunContext & {
  /** Runs every registered cleanup, newest first, each bounded by `timeoutMs`; safe to call twice. */
  cleanup(timeoutMs?: number): Promise<void>;
  abort(reason: string): void;
};

export function createContext(o: { smoke: boolean; resultsDir: string; progress: Progress; target?: RemoteTarget | null }): OwnedContext {
  const controller = new AbortController();
  const stack: Array<() => Promise<void> | void> = [];
  return {
    smoke: o.smoke,
    resultsDir: o.resultsDir,
    target: o.target ?? null,
    signal: controller.signal,
    progress: (done, total, label) => o.progress.update(done, total, label),
    log: (message) => o.progress.log(message),
    defer: (fn) => {
      stack.push(fn);
    },
    abort: (reason) => controller.abort(new Error(reason)),
    async cleanup(timeoutMs = 30_000) {
      while (stack.length > 0) {
        const fn = stack.pop()!;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(fn),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`cleanup took over ${timeoutMs} ms`)), timeoutMs))),
          ]);
        } catch (err) {
          o.progress.log(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          clearTimeout(timer);
        }
      }
    },
  };
}
