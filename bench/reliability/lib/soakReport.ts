/** The soak run's summary table, figures, plots and notes, from its samples and error lists. */
import { round } from '../../lib/stats.js';
import type { OptionValues, PlotSpec, ScenarioResult } from '../../lib/types.js';
import type { Sample } from './sampler.js';
import { perHour } from './trend.js';

export type SoakErrors = {
  joins: string[];
  leaves: string[];
  audio: string[];
  samples: string[];
  invariants: string[];
  logs: string[];
  pages: string[];
};

type Series = Array<[number, number]>;
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** The resources whose trend is judged, each as a series over the samples. */
function resources(samples: Sample[]): Array<{ name: string; figure: string; unit: string; points: Series }> {
  const of = (f: (s: Sample) => number): Series => samples.map((s) => [s.t, f(s)]);
  return [
    { name: 'replicas: resident memory (sum)', figure: 'rss_growth_mb_per_hour', unit: 'MB', points: of((s) => sum(s.replicas.map((r) => r.rssMb))) },
    { name: 'replicas: heap used (sum)', figure: 'heap_growth_mb_per_hour', unit: 'MB', points: of((s) => sum(s.replicas.map((r) => r.heapMb))) },
    { name: 'replicas: active handles (sum)', figure: 'handles_growth_per_hour', unit: 'handles', points: of((s) => sum(s.replicas.map((r) => r.handles))) },
    { name: 'mediasoup workers: resident memory', figure: 'worker_rss_growth_mb_per_hour', unit: 'MB', points: of((s) => sum(s.replicas.map((r) => r.workerRssMb))) },
    { name: 'AI workers: resident memory', figure: 'ai_rss_growth_mb_per_hour', unit: 'MB', points: of((s) => s.aiRssMb) },
    { name: 'Redis: used memory', figure: 'redis_growth_mb_per_hour', unit: 'MB', points: of((s) => s.redisMb) },
    { name: 'Redis: keys', figure: 'redis_keys_growth_per_hour', unit: 'keys', points: of((s) => s.redisKeys) },
  ];
}

/** Mean end-to-end translation latency (ms) of the utterances finished in each sample interval. */
function latencyIntervals(samples: Sample[]): Series {
  const out: Series = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dc = sum(b.replicas.map((r) => r.e2eCount)) - sum(a.replicas.map((r) => r.e2eCount));
    const ds = sum(b.replicas.map((r) => r.e2eSum)) - sum(a.replicas.map((r) => r.e2eSum));
    if (dc > 0) out.push([b.t, (ds / dc) * 1000]);
  }
  return out;
}

export function soakResult(o: {
  samples: Sample[];
  peersOverTime: Series;
  errors: SoakErrors;
  gaps: Array<{ page: string; longestGapMs: number }>;
  churned: number;
  /** Redis keys by family at the end of the soak. */
  families: Array<{ family: string; keys: number }>;
  options: OptionValues;
  logs: string | null;
}): ScenarioResult {
  const warm = o.samples.filter((s) => s.t >= Number(o.options['warmup-s']));
  const first = o.samples[0];
  const last = o.samples.at(-1);
  const errorCount = sum(Object.values(o.errors).map((l) => l.length));
  const figures: Record<string, number> = { errors: errorCount, samples_n: warm.length, churn_joins: o.churned, peers_max: Math.max(0, ...o.peersOverTime.map(([, n]) => n)) };
  for (const [kind, list] of Object.entries(o.errors)) figures[`errors_${kind}`] = list.length;
  const summary = resources(o.samples).map((r) => {
    const after = r.points.filter(([t]) => t >= Number(o.options['warmup-s']));
    const ys = after.map(([, y]) => y);
    const trend = perHour(after);
    figures[r.figure] = round(trend);
    return {
      measure: r.name,
      unit: r.unit,
      'after warm-up': ys.length ? round(ys[0]!) : '-',
      end: ys.length ? round(ys.at(-1)!) : '-',
      min: ys.length ? round(Math.min(...ys)) : '-',
      max: ys.length ? round(Math.max(...ys)) : '-',
      'trend per hour': Number.isFinite(trend) ? round(trend) : '-',
    };
  });
  const latency = latencyIntervals(o.samples);
  const latencyWarm = latency.filter(([t]) => t >= Number(o.options['warmup-s']));
  figures.caption_latency_drift_ms_per_hour = round(perHour(latencyWarm));
  if (first && last) {
    const dc = sum(last.replicas.map((r) => r.e2eCount)) - sum(first.replicas.map((r) => r.e2eCount));
    figures.captions_n = dc;
    if (dc > 0) figures.caption_latency_mean_ms = round(((sum(last.replicas.map((r) => r.e2eSum)) - sum(first.replicas.map((r) => r.e2eSum))) / dc) * 1000);
    figures.ai_dropped = sum(last.replicas.map((r) => r.dropped)) - sum(first.replicas.map((r) => r.dropped));
  }
  figures.longest_gap_max_ms = Math.max(0, ...o.gaps.map((g) => g.longestGapMs));
  summary.push({
    measure: 'translation end-to-end latency (mean per interval)',
    unit: 'ms',
    'after warm-up': latencyWarm.length ? round(latencyWarm[0]![1]) : '-',
    end: latencyWarm.length ? round(latencyWarm.at(-1)![1]) : '-',
    min: latencyWarm.length ? round(Math.min(...latencyWarm.map(([, y]) => y))) : '-',
    max: latencyWarm.length ? round(Math.max(...latencyWarm.map(([, y]) => y))) : '-',
    'trend per hour': Number.isFinite(figures.caption_latency_drift_ms_per_hour!) ? figures.caption_latency_drift_ms_per_hour! : '-',
  });
  const res = resources(o.samples);
  const plots: PlotSpec[] = [
    { id: 'memory', title: 'Resident memory over the soak', kind: 'line', xLabel: 's', yLabel: 'MB', series: res.filter((r) => r.unit === 'MB').map((r) => ({ name: r.name, points: r.points })) },
    {
      id: 'handles',
      title: 'Active handles, peers and Redis keys over the soak',
      kind: 'line',
      xLabel: 's',
      yLabel: 'count',
      series: [...res.filter((r) => r.unit !== 'MB').map((r) => ({ name: r.name, points: r.points })), { name: 'peers (pages in rooms)', points: o.peersOverTime }],
    },
    { id: 'latency', title: 'Translation end-to-end latency, mean per sample interval', kind: 'line', xLabel: 's', yLabel: 'ms', series: [{ name: 'end of speech -> first translated packet', points: latency }] },
  ];
  const notes = [
    errorCount === 0 ? 'No errors.' : `${errorCount} ERROR(S): ${Object.entries(o.errors).filter(([, l]) => l.length).map(([k, l]) => `${k} ${l.length}`).join(', ')}.`,
    ...Object.entries(o.errors).flatMap(([kind, list]) => list.slice(0, 10).map((e) => `ERROR ${kind}: ${e}`)),
    `Redis keys at the end, by family: ${o.families.slice(0, 12).map((f) => `${f.family} ${f.keys}`).join(', ') || 'n/a'}.`,
    ...(o.logs ? [`Logs of every replica, AI worker and page of this run: ${o.logs}`] : []),
    `${o.options.rooms} rooms x (English speaker + listener on another replica; in Spanish in ${Math.min(Number(o.options['translated-rooms']), Number(o.options.rooms))} of them) on ${o.options.replicas} replicas, ${o.options['ai-workers']} AI worker(s); ${o.churned} transient listeners joined and left (every ${o.options['churn-every-s']} s, ${o.options['churn-stay-s']} s each, at most ${o.options['churn-max']} at once).`,
    `Trends are least-squares slopes over the ${warm.length} samples after the first ${o.options['warmup-s']} s, scaled to one hour: on a run of minutes they mostly show noise and warm-up (JIT, pools); judge them on long runs.`,
    'Recognition streams (partial captions come from the same decoder, no extra work). Utterances the pipeline drops for age or refuses as saturated are counted (ai_dropped), not errors.',
  ];
  return {
    summary,
    figures,
    samples: { samples: o.samples, peers: o.peersOverTime, latency, gaps: o.gaps, errors: o.errors, redisKeyFamilies: o.families },
    plots,
    notes,
    environment: { replicas: Number(o.options.replicas), rooms: Number(o.options.rooms), aiWorkers: Number(o.options['ai-workers']), durationS: Number(o.options['duration-s']) },
  };
}
