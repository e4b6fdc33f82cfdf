/** The chaos run's summary table, figures, plots and notes, from its per-fault records. */
import { figuresOf, summarize, summaryRow } from '../../lib/stats.js';
import type { OptionValues, PlotSpec, ScenarioResult } from '../../lib/types.js';
import type { FaultKind } from './faults.js';

export type FaultRecord = {
  index: number;
  kind: FaultKind;
  target: string;
  /** Seconds since the first fault's window began. */
  atSeconds: number;
  /** Pages whose media went through what failed. */
  displaced: string[];
  /** Fault -> everyone hears everyone again (null: not within the bound). */
  recoveryMs: number | null;
  /** Most audio one page untouched by the fault lost of another's (never arrived). */
  survivorGapMaxMs: number | null;
  /** Longest wait for a packet between two untouched pages (late packets included: machine load shows here). */
  survivorWaitMaxMs: number | null;
  /** Longest time a page's sampler went without reading (machine load; not an audio gap). */
  samplerStallMaxMs: number;
  /** Recovered -> every invariant holds (null: not within the cleanup window). */
  cleanMs: number | null;
  failures: string[];
  /** Violations still there after the cleanup window that an earlier fault already counted. */
  carriedOver: string[];
};

const figureName = (kind: string) => kind.replace(/-/g, '_');
const num = (v: number | null) => (v === null ? Number.NaN : v);

export function chaosResult(o: { records: FaultRecord[]; setupFailures: string[]; options: OptionValues; consoleErrors: number; kinds: FaultKind[]; logs: string | null }): ScenarioResult {
  const { records } = o;
  const failures = o.setupFailures.length + records.reduce((n, r) => n + r.failures.length, 0);
  const rows = o.kinds.map((kind) => {
    const mine = records.filter((r) => r.kind === kind);
    const s = summarize(mine.map((r) => num(r.recoveryMs)));
    const gaps = mine.map((r) => r.survivorGapMaxMs).filter((g): g is number => g !== null);
    const clean = summarize(mine.map((r) => num(r.cleanMs)));
    return {
      ...summaryRow({ fault: kind, faults: mine.length, failures: mine.reduce((n, r) => n + r.failures.length, 0), measure: 'recovery ms' }, s),
      'survivor gap max ms': gaps.length ? Math.max(...gaps) : '-',
      'survivor wait max ms': mine.some((r) => r.survivorWaitMaxMs !== null) ? Math.max(...mine.map((r) => r.survivorWaitMaxMs ?? 0)) : '-',
      'clean p95 ms': Number.isFinite(clean.p95) ? Math.round(clean.p95) : '-',
    };
  });
  // Media recovery over every fault but the AI worker kill, whose recovery waits for a caption (its own figures).
  const all = summarize(records.filter((r) => r.kind !== 'ai-worker-kill').map((r) => num(r.recoveryMs)));
  const gap = summarize(records.map((r) => num(r.survivorGapMaxMs)));
  const clean = summarize(records.map((r) => num(r.cleanMs)));
  const figures: Record<string, number> = {
    failures,
    faults_n: records.length,
    faults_failed: records.filter((r) => r.failures.length > 0).length,
    ...figuresOf('recovery', all),
    ...figuresOf('survivor_gap', gap),
    ...figuresOf('clean', clean),
  };
  for (const kind of o.kinds) {
    const s = summarize(records.filter((r) => r.kind === kind).map((r) => num(r.recoveryMs)));
    Object.assign(figures, figuresOf(`recovery_${figureName(kind)}`, s));
  }
  const plots: PlotSpec[] = [
    {
      id: 'recovery',
      title: 'Recovery per fault (fault -> everyone hears everyone)',
      kind: 'scatter',
      xLabel: 'fault #',
      yLabel: 'ms',
      series: o.kinds.map((kind) => ({ name: kind, points: records.filter((r) => r.kind === kind && r.recoveryMs !== null).map((r) => [r.index, r.recoveryMs!] as [number, number]) })),
      marks: [{ label: 'recovery bound', y: Number(o.options['recovery-bound-ms']) }],
    },
    {
      id: 'survivors',
      title: "Survivors' audio lost, their longest wait for a packet, and time to clean invariants, per fault",
      kind: 'bar',
      xLabel: 'fault (# and kind)',
      yLabel: 'ms',
      categories: records.map((r) => `${r.index} ${r.kind}`),
      series: [
        { name: "survivors' audio lost", points: records.map((r, i) => [i, r.survivorGapMaxMs ?? 0] as [number, number]) },
        { name: "survivors' longest wait", points: records.map((r, i) => [i, r.survivorWaitMaxMs ?? 0] as [number, number]) },
        { name: 'recovered -> invariants hold', points: records.map((r, i) => [i, r.cleanMs ?? Number(o.options['cleanup-window-ms'])] as [number, number]) },
      ],
      marks: [{ label: 'survivor gap bound', y: Number(o.options['survivor-gap-max-ms']) }],
    },
  ];
  const notes = [
    `${records.length} fault(s), seed ${o.options.seed}; ${failures === 0 ? 'every invariant held after every fault' : `${failures} FAILURE(S): see the "failures" of each fault in the JSON samples`}.`,
    ...o.setupFailures.map((f) => `FAILURE ${f}`),
    ...(o.logs ? [`Logs of every replica, AI worker and page of this run: ${o.logs}`] : []),
    ...records.flatMap((r) => r.failures.map((f) => `FAILURE fault ${r.index} (${r.kind} on ${r.target}): ${f}`)),
    `Cluster: ${o.options.replicas} replicas (heartbeat ${o.options['heartbeat-ms']} ms, staleness ${o.options['stale-after-ms']} ms, reconnect grace 8 s), ${o.options['ai-workers']} AI worker(s), ${o.options.pages} pages in one room (everyone listening in Spanish, the first page speaking English), all on this machine; Redis: ${REDIS_LAYOUT[String(o.options.redis)]?.(o.options) ?? 'one redis-server'}.`,
    'A violation still present after a later fault is counted once, at the fault where it appeared (the later ones list it under carriedOver in the JSON); "clean" stays unset while any violation remains.',
    'Recovery is polled from the bench every ~150 ms over the pages\' in-page samplers (100 ms); a fault with no displaced page (Redis restart, AI worker kill) still needs fresh audio on every pair, so its recovery is the poll latency unless audio stopped.',
    `Survivors' gaps are the microphone audio that never arrived (RTP packets of 20 ms against the page's clock; packets held up and then delivered pay their time back), so neither a sampler the loaded machine ran late nor packets it held up count; the longest wait for a packet between untouched pages was ${Math.max(0, ...records.map((r) => r.survivorWaitMaxMs ?? 0))} ms and the samplers ran up to ${Math.max(0, ...records.map((r) => r.samplerStallMaxMs))} ms late (survivorWaitMaxMs, samplerStallMaxMs per fault in the JSON).`,
    `Console errors in the pages during the run: ${o.consoleErrors} (faults cause some; not counted as failures).`,
  ];
  return {
    // A run on a Sentinel set keeps its own files (chaos-sentinel-*), beside the single-Redis run's.
    ...(o.options.redis !== 'single' ? { variant: String(o.options.redis) } : {}),
    summary: rows,
    figures,
    samples: { faults: records, setupFailures: o.setupFailures },
    plots,
    notes,
    environment: { replicas: Number(o.options.replicas), pages: Number(o.options.pages), aiWorkers: Number(o.options['ai-workers']), seed: Number(o.options.seed), staleAfterMs: Number(o.options['stale-after-ms']) },
  };
}

/** How each --redis mode was laid out, for the report. */
const REDIS_LAYOUT: Record<string, (options: Record<string, unknown>) => string> = {
  single: () => 'one redis-server',
  sentinel: (op) => `a Sentinel set (primary, replica, 3 sentinels, down-after ${String(op['sentinel-down-after-ms'])} ms)`,
  cluster: (op) => `a Redis Cluster (3 primaries with a replica each, node timeout ${String(op['sentinel-down-after-ms'])} ms; each redis-primary-kill hits the shard of a room name drawn at random)`,
};
