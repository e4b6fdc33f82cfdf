/**
 * The pipeline bench's summary rows, figures and plots from its measured utterances
 * (pure: unit-testable, and reusable on a results JSON). Levels are grouped by variant
 * (a configuration compared side by side in the same run, e.g. partial captions on/off).
 */
import { figuresOf, round, summarize, summaryRow, type Summary } from './stats.js';
import { corpusWer, type SttClipResult } from './sttQuality.js';
import type { PlotSpec, SummaryRow } from './types.js';
import { STAGE_ORDER, type UtteranceSample } from './utterances.js';

export type LevelResult = {
  /** The configuration, e.g. "partials 1000 ms"; the first variant of a run is the reference. */
  variant: string;
  /** Figure-name suffix of the variant ('' for the first). */
  suffix: string;
  speakers: number;
  samples: UtteranceSample[];
  dropped: number;
  durationS: number;
};

const TOTALS = [
  ['e2e', (s: UtteranceSample) => s.e2eMs],
  ['e2e_from_mic', (s: UtteranceSample) => s.e2eFromMicMs],
  ['processing', (s: UtteranceSample) => s.processingMs],
  ['engines', (s: UtteranceSample) => s.enginesMs],
  ['overhead', (s: UtteranceSample) => s.overheadMs],
] as const;

const values = (xs: Array<number | null | undefined>) => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

function stageSummary(level: LevelResult, stage: (typeof STAGE_ORDER)[number]): Summary {
  return summarize(values(level.samples.map((s) => s.stages[stage])));
}

function totalSummary(level: LevelResult, name: (typeof TOTALS)[number][0]): Summary {
  const get = TOTALS.find(([n]) => n === name)![1];
  return summarize(values(level.samples.map(get)));
}

function variants(levels: readonly LevelResult[]): Array<{ variant: string; suffix: string; levels: LevelResult[] }> {
  const out: Array<{ variant: string; suffix: string; levels: LevelResult[] }> = [];
  for (const l of levels) {
    let v = out.find((x) => x.variant === l.variant);
    if (!v) out.push((v = { variant: l.variant, suffix: l.suffix, levels: [] }));
    v.levels.push(l);
  }
  return out;
}

export type PipelineTargets = { e2eP50?: number; e2eP95?: number };

export function pipelineSummary(levels: readonly LevelResult[], stt: readonly SttClipResult[], engines: Record<string, string>): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const wer = corpusWer(stt);
  for (const level of levels) {
    const labels = (span: string, engine = '', quality = '') => ({ variant: level.variant, speakers: level.speakers, span, engine, quality });
    for (const stage of STAGE_ORDER) {
      const engine = stage === 'stt' || stage === 'translate' || stage === 'tts' ? (engines[stage] ?? '?') : '';
      rows.push(summaryRow(labels(stage, engine, stage === 'stt' && Number.isFinite(wer) ? `WER ${wer}` : ''), stageSummary(level, stage)));
    }
    for (const [name] of TOTALS) rows.push(summaryRow(labels(name), totalSummary(level, name)));
    rows.push({ ...labels('dropped utterances'), n: level.dropped, p50: '-', p95: '-', p99: '-', max: '-' });
  }
  if (stt.length > 0) {
    const label = `stt alone, whole clips (${round(summarize(stt.map((r) => r.rtf)).p50)} x real time)`;
    rows.push(summaryRow({ variant: 'after the call', speakers: '-', span: label, engine: stt[0]!.engine, quality: `WER ${wer}` }, summarize(stt.map((r) => r.ms))));
  }
  return rows;
}

/**
 * Figures for bench/slo.yaml: the reference variant's first level unsuffixed; per level
 * `e2e_p50_ms_at_<n>spk<variant suffix>` and the like; WER; the largest level within the SLO per variant.
 */
export function pipelineFigures(levels: readonly LevelResult[], stt: readonly SttClipResult[], targets: PipelineTargets): Record<string, number> {
  const figures: Record<string, number> = {};
  variants(levels).forEach((v, vi) => {
    v.levels.forEach((level, i) => {
      const suffix = `_at_${level.speakers}spk${v.suffix}`;
      for (const [name] of TOTALS) {
        for (const [k, value] of Object.entries(figuresOf(name, totalSummary(level, name)))) {
          if (vi === 0 && i === 0) figures[k] = value;
          if (name === 'e2e' || name === 'processing') figures[`${k}${suffix}`] = value;
        }
      }
      if (vi === 0 && i === 0) for (const stage of STAGE_ORDER) Object.assign(figures, figuresOf(`stage_${stage}`, stageSummary(level, stage)));
      figures[`dropped${suffix}`] = level.dropped;
    });
    const within = v.levels.filter((l) => {
      const s = totalSummary(l, 'e2e');
      return s.n > 0 && (targets.e2eP50 === undefined || s.p50 <= targets.e2eP50) && (targets.e2eP95 === undefined || s.p95 <= targets.e2eP95);
    });
    figures[`max_speakers_within_slo${v.suffix}`] = within.length ? Math.max(...within.map((l) => l.speakers)) : 0;
  });
  if (stt.length > 0) {
    figures.stt_wer = corpusWer(stt);
    figures.stt_clip_p50_ms = round(summarize(stt.map((r) => r.ms)).p50);
  }
  return figures;
}

export function pipelinePlots(levels: readonly LevelResult[], stt: readonly SttClipResult[], targets: PipelineTargets): PlotSpec[] {
  const marks: NonNullable<PlotSpec['marks']> = [];
  if (targets.e2eP50 !== undefined) marks.push({ label: 'SLO e2e p50', y: targets.e2eP50 });
  if (targets.e2eP95 !== undefined) marks.push({ label: 'SLO e2e p95', y: targets.e2eP95 });
  const groups = variants(levels);
  const line = (v: (typeof groups)[number], name: string, total: (typeof TOTALS)[number][0], k: 'p50' | 'p95') => ({
    name: groups.length > 1 ? `${name}, ${v.variant}` : name,
    points: v.levels.map((l) => [l.speakers, totalSummary(l, total)[k]] as [number, number]),
  });
  const plots: PlotSpec[] = [
    {
      id: 'sweep',
      title: 'Translation latency vs concurrent speakers',
      kind: 'line',
      xLabel: 'concurrent speakers (one room each)',
      yLabel: 'ms',
      series: groups.flatMap((v) => [line(v, 'end to end p50', 'e2e', 'p50'), line(v, 'end to end p95', 'e2e', 'p95'), line(v, 'processing p50', 'processing', 'p50')]),
      marks,
    },
    ...groups.map((v, i) => ({
      id: i === 0 ? 'stages' : `stages${v.suffix}`,
      title: `Median time per stage (${v.variant})`,
      kind: 'bar' as const,
      xLabel: 'concurrent speakers',
      yLabel: 'ms (p50)',
      series: STAGE_ORDER.map((stage) => ({ name: stage, points: v.levels.map((l) => [l.speakers, stageSummary(l, stage).p50] as [number, number]) })),
    })),
    {
      id: 'cdf',
      title: 'End to end latency, distribution per level',
      kind: 'line',
      xLabel: 'ms (end of speech to first translated packet at the listener)',
      yLabel: 'fraction of utterances at or below',
      series: levels.map((l) => {
        const sorted = values(l.samples.map((s) => s.e2eMs)).sort((a, b) => a - b);
        return { name: `${l.speakers} speaker(s), ${l.variant}, n=${sorted.length}`, points: sorted.map((x, i) => [x, (i + 1) / sorted.length] as [number, number]) };
      }),
    },
  ];
  if (stt.length > 0) {
    plots.push({
      id: 'stt-quality',
      title: 'Speech recognizer alone: speed and quality per clip',
      kind: 'scatter',
      xLabel: 'recognition time of the whole clip (ms)',
      yLabel: 'word error rate',
      series: [...new Set(stt.map((r) => r.engine))].map((engine) => ({ name: engine, points: stt.filter((r) => r.engine === engine).map((r) => [r.ms, r.wer] as [number, number]) })),
    });
  }
  return plots;
}
