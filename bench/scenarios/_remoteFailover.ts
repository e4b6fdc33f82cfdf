/**
 * failover against a deployment (--target): one page per target URL (one replica each), joined with
 * minted tokens; the last replica is stopped by the operator's --stop-command ({url}, {host} and {index}
 * replaced, run through `sh -c`, bounded in time) instead of a kill -9 of a child of the bench.
 * Recovery is then measured as on a cluster the bench starts (bench/scenarios/failover.ts).
 */
import { joinCall } from '../../src/devkit/browser.js';
import { mintToken, runStopCommand, TargetError, TargetErrors, tokenSource, waitReady, type TargetBudget } from '../lib/remote.js';
import type { OptionValues, RunContext, ScenarioResult } from '../lib/types.js';
import type { FailoverCluster } from './failover.js';

/** The longest the stop command may run before it counts as failed (its process group is then killed). */
const STOP_TIMEOUT_MS = 30_000;

export const REMOTE_FAILOVER_UNAVAILABLE = [
  'a fresh cluster per repeat (the deployment\'s replicas are used as they are; a further repeat waits for the stopped replica to answer /ready again)',
  'the cluster timings (--stale-after-ms and --heartbeat-ms do not apply: the deployment\'s own do)',
  'the moment the replica died: the clock starts when the stop command starts, so its own run time (an ssh round trip, an orchestrator call) is inside the figures',
];

export type RemoteFailover = {
  roomId(repeat: number): string;
  /** The deployment as the next repeat's cluster; null when the run must stop (time limit, a replica not back). */
  next(repeat: number): Promise<FailoverCluster | null>;
};

/** Checks the target can take a failover run (two URLs, a stop command, one page per URL under --max-clients). */
export function remoteCluster(ctx: RunContext, budget: TargetBudget, o: OptionValues): RemoteFailover {
  const target = budget.target;
  if (target.urls.length < 2) throw new TargetError(TargetErrors.UNSUPPORTED, `failover against --target needs at least two URLs, one per replica (got ${target.urls.length}); the last one is stopped`);
  if (!target.stopCommand) {
    throw new TargetError(TargetErrors.UNSUPPORTED, 'failover against --target needs --stop-command: a shell command that stops one replica, {url} and {index} replaced (e.g. "ssh ops@host docker kill parley-{index}")');
  }
  budget.clients(target.urls.length, 'failover (one page per replica)');
  const tag = Date.now().toString(36);
  const readyWithinMs = Number(o.timeout) * 1000;
  const cluster: FailoverCluster = {
    urls: target.urls,
    async join(browser, url, roomId, name) {
      const page = await browser.newPage();
      const token = await mintToken(target, { room: roomId, identity: name, name });
      await joinCall(page, url, { roomId, displayName: name, token });
      return { page, peerId: await page.evaluate(() => window.parley!.peerId!) };
    },
    async kill(index) {
      await runStopCommand(target, index, STOP_TIMEOUT_MS, ctx.signal);
      ctx.log(`stopped replica ${index} (${target.urls[index]}) with the stop command`);
    },
    async close() {
      // The deployment's replicas are not the bench's to stop; the pages are closed by the repeat.
    },
  };
  return {
    roomId: (repeat) => `bench-failover-${tag}-${repeat}`,
    async next(repeat) {
      if (budget.expired('failover')) return null;
      if (repeat > 0) {
        for (const url of target.urls) {
          if (await waitReady(ctx, url, readyWithinMs)) continue;
          budget.notes.push(`failover: ${repeat} repeat(s) run; ${url} did not answer /ready within ${o.timeout} s after the previous stop, so no further repeat.`);
          return null;
        }
      }
      return cluster;
    },
  };
}

/** The report of a run against a deployment: what ran where instead of the local cluster's notes. */
export function remoteFailoverNotes(result: ScenarioResult, budget: TargetBudget, repeats: number): ScenarioResult {
  const target = budget.target;
  const n = target.urls.length;
  const [, , ...rest] = result.notes;
  return {
    ...result,
    summary: result.summary.map((row) => ({ ...row, measure: String(row.measure).replace('kill -9', 'stop command') })),
    plots: result.plots.map((p) => ({ ...p, title: `stop of 1 of ${n} replicas (--stop-command), per repeat`, marks: [] })),
    notes: [
      ...budget.notes,
      `${repeats} repeat(s) against the deployment ${target.urls.join(', ')}: one Chromium page per replica (the LibriVox clip as microphone, a token ${tokenSource(target)}) in one room of this run; the last replica (${target.urls[n - 1]}) stopped with the operator's --stop-command (not recorded: it may hold host names or credentials).`,
      "Cluster timings: the deployment's own (its cluster.heartbeatMs and cluster.staleAfterMs bound the detection); the clock starts when the stop command starts.",
      ...rest.filter((n) => !n.startsWith('Everything runs on this machine')),
      "Noisy neighbour: the Chromium pages run on this machine beside its other work; the deployment's other traffic shares its replicas.",
    ],
    environment: { replicas: n, target: target.urls, stopCommand: 'given (not recorded)' },
  };
}
