/**
 * The pipeline bench's summary rows, figures, notes and plots from its measured utterances
 * (pure: unit-testable, and reusable on a results JSON). Levels are grouped by recognition
 * mode (batch, streaming), each mode a fresh stack in the same run, compared side by side.
 *
 * Figure names: the streaming mode's are unsuffixed (the SLOs in bench/slo.yaml apply to
 * them); another mode's end in `_<mode>` (`e2e_from_mic_p50_ms_batch`), reported for comparison.
 */
import type { SloBound } from './slo.js';
import { figuresOf, round, summarize, type Summary } from './stats.js';
import { corpusWer, type SttClipResult, type SttMode } from './sttQuality.js';
import type { QualityRun } from './translationQuality.js';
import type { PlotSpec, SummaryRow } from './types.js';
import { STAGE_ORDER, type UtteranceSample } from './utterances.js';

/** The mode (the defaults) whose figures carry no suffix and are checked against the SLOs. */
export const SLO_MODE = 'simultaneous';

/** A segment of simultaneous translation as the gateway logged it when its voice started ('segment spoken'). */
export type SegmentSample = { utteranceId: string; index: number; last: boolean; lagMs: number; backlogMs: number; rate: number };

export type LevelResult = {
  /** Recognition mode of the stack that ran the level: 'streaming' or 'batch'. */
  mode: string;
  /** Figure-name suffix of the mode ('' for streaming, `_<mode>` otherwise; see modeSuffix). */
  suffix: string;
  speakers: number;
  samples: UtteranceSample[];
  /** Simultaneous translation: every segment spoken (warm-up utterances excluded). */
  segments?: SegmentSample[];
  /** Utterances dropped during the level, by error code (ERR_AI_SATURATED, ERR_UTTERANCE_DROPPED...). */
  dropped: Record<string, number>;
  durationS: number;
};

/** SLO bounds of the scenario by figure name (bench/slo.yaml's `pipeline`). */
export type PipelineSlo = Record<string, SloBound>;

export function modeSuffix(mode: string): string {
  return mode === SLO_MODE ? '' : `_${mode}`;
}

const values = (xs: Array<number | null | undefined>) => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

/** The distributions the report knows, by name: per-utterance values of a level. */
const SERIES = {
  e2e_from_mic: (l: LevelResult) => values(l.samples.map((s) => s.e2eFromMicMs)),
  finish_from_mic: (l: LevelResult) => values(l.samples.map((s) => s.finishFromMicMs)),
  e2e: (l: LevelResult) => values(l.samples.map((s) => s.e2eMs)),
  processing: (l: LevelResult) => values(l.samples.map((s) => s.processingMs)),
  overhead: (l: LevelResult) => values(l.samples.map((s) => s.overheadMs)),
  stt_final: (l: LevelResult) => values(l.samples.map((s) => s.stages.stt)),
  endpoint: (l: LevelResult) => values(l.samples.map((s) => s.stages.endpoint)),
  partial_interval: (l: LevelResult) => l.samples.flatMap((s) => values(s.partialIntervalsMs ?? [])),
  segment_lag: (l: LevelResult) => values((l.segments ?? []).map((s) => s.lagMs)),
  backlog: (l: LevelResult) => values((l.segments ?? []).map((s) => s.backlogMs)),
  playout_rate: (l: LevelResult) => values((l.segments ?? []).map((s) => s.rate)),
} as const;
type SeriesName = keyof typeof SERIES;

const dist = (l: LevelResult, name: SeriesName): Summary => summarize(SERIES[name](l));
const stageDist = (l: LevelResult, stage: (typeof STAGE_ORDER)[number]): Summary => summarize(values(l.samples.map((s) => s.stages[stage])));
const droppedTotal = (l: LevelResult) => Object.values(l.dropped).reduce((a, b) => a + b, 0);
const describeDrops = (d: Record<string, number>) => Object.entries(d).map(([code, n]) => `${code} ${n}`).join(', ');

/** Levels grouped by mode, in run order; each mode's levels by speakers. */
export function modesOf(levels: readonly LevelResult[]): Array<{ mode: string; suffix: string; levels: LevelResult[] }> {
  const out: Array<{ mode: string; suffix: string; levels: LevelResult[] }> = [];
  for (const l of levels) {
    let m = out.find((x) => x.mode === l.mode);
    if (!m) out.push((m = { mode: l.mode, suffix: l.suffix, levels: [] }));
    m.levels.push(l);
  }
  for (const m of out) m.levels.sort((a, b) => a.speakers - b.speakers);
  return out;
}

/** The level the headline figures come from: 1 speaker, or the smallest level run. */
export function headlineLevel(levels: readonly LevelResult[]): LevelResult | undefined {
  return levels.find((l) => l.speakers === 1) ?? [...levels].sort((a, b) => a.speakers - b.speakers)[0];
}

/** One level's figures, unsuffixed: the distributions the SLOs bound, and the delivered / dropped counts. */
export function levelFigures(level: LevelResult): Record<string, number> {
  const f: Record<string, number> = {};
  for (const name of ['e2e_from_mic', 'e2e', 'processing', 'stt_final', 'endpoint', 'partial_interval'] as const) Object.assign(f, figuresOf(name, dist(level, name)));
  if (dist(level, 'finish_from_mic').n > 0) Object.assign(f, figuresOf('finish_from_mic', dist(level, 'finish_from_mic')));
  if ((level.segments ?? []).length > 0) {
    for (const name of ['segment_lag', 'backlog'] as const) Object.assign(f, figuresOf(name, dist(level, name)));
    const rate = dist(level, 'playout_rate');
    f.playout_rate_p50 = Math.round(rate.p50 * 100) / 100;
    f.playout_rate_p95 = Math.round(rate.p95 * 100) / 100;
    f.segments_n = level.segments!.length;
  }
  f.delivered_n = level.samples.length;
  f.dropped_n = droppedTotal(level);
  for (const [code, n] of Object.entries(level.dropped)) f[`dropped_${code}_n`] = n;
  return f;
}

/**
 * Whether a level stayed within bounds: something delivered, nothing dropped, and every latency SLO
 * (a bound on a `*_ms` figure) that the level's own figures measure holds. Figures the level cannot
 * produce (no partial captions in batch mode) are not held against it. `reasons` says what broke.
 */
export function levelWithinSlo(level: LevelResult, slo: PipelineSlo): { ok: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const f = levelFigures(level);
  if (f.delivered_n === 0) reasons.push('nothing delivered');
  if (f.dropped_n! > 0) reasons.push(`${f.dropped_n} dropped (${describeDrops(level.dropped)})`);
  for (const [figure, bound] of Object.entries(slo)) {
    const v = f[figure];
    if (!figure.endsWith('_ms') || v === undefined || !Number.isFinite(v)) continue;
    if (bound.max !== undefined && v > bound.max) reasons.push(`${figure} ${v} > ${bound.max}`);
    if (bound.min !== undefined && v < bound.min) reasons.push(`${figure} ${v} < ${bound.min}`);
  }
  return { ok: reasons.length === 0, reasons };
}

/**
 * Streaming recognition's own bounds (issue #12), whatever the translation mode: end of voice -> first
 * translated audio, the final's time after the endpoint, the partial captions' cadence. The sweep's
 * `max_speakers_streaming` counts the speakers kept within them with 0 drops.
 */
export const STREAMING_BOUNDS: PipelineSlo = {
  e2e_from_mic_p50_ms: { max: 700 },
  stt_final_p50_ms: { max: 50 },
  partial_interval_p50_ms: { max: 300 },
};

/** The largest level that, with every smaller level of the sweep, stayed within bounds (0 when the first did not). */
export function maxSpeakersWithinSlo(levels: readonly LevelResult[], slo: PipelineSlo): number {
  let best = 0;
  for (const l of [...levels].sort((a, b) => a.speakers - b.speakers)) {
    if (!levelWithinSlo(l, slo).ok) break;
    best = l.speakers;
  }
  return best;
}

/** The recognizer-alone figures: WER per mode, its difference, final latency and real-time factor. */
export function sttFigures(stt: readonly SttClipResult[]): Record<string, number> {
  const f: Record<string, number> = {};
  const modes = [...new Set(stt.map((r) => r.mode))];
  const wer: Partial<Record<SttMode, number>> = {};
  for (const mode of modes) {
    const rows = stt.filter((r) => r.mode === mode);
    const sfx = mode === 'streaming' ? '' : `_${mode}`;
    wer[mode] = corpusWer(rows);
    if (Number.isFinite(wer[mode])) f[`stt_wer${sfx}`] = wer[mode]!;
    f[`stt_alone_final_p50_ms${sfx}`] = round(summarize(rows.map((r) => r.finalMs)).p50);
    f[`stt_alone_rtf_p50${sfx}`] = Math.round(summarize(rows.map((r) => r.rtf)).p50 * 1000) / 1000;
  }
  if (Number.isFinite(wer.streaming) && Number.isFinite(wer.batch)) f.wer_delta = Math.round((wer.streaming! - wer.batch!) * 1000) / 1000;
  return f;
}

/**
 * Figures for bench/slo.yaml, per mode (suffix per modeSuffix): the headline level's (1 speaker) distributions
 * and counts (levelFigures) and median per stage (`stage_<span>_p50_ms`); per level `delivered_at_<n>spk`,
 * `dropped_at_<n>spk`, `e2e_from_mic_p50_ms_at_<n>spk` / `_p95_`; `max_speakers_within_slo` and
 * `max_speakers_streaming` (STREAMING_BOUNDS); then the
 * recognizer alone (sttFigures).
 */
export function pipelineFigures(levels: readonly LevelResult[], stt: readonly SttClipResult[], slo: PipelineSlo): Record<string, number> {
  const figures: Record<string, number> = {};
  const modes = modesOf(levels).sort((a, b) => Number(b.mode === SLO_MODE) - Number(a.mode === SLO_MODE));
  for (const m of modes) {
    const head = headlineLevel(m.levels);
    if (head) {
      for (const [k, v] of Object.entries(levelFigures(head))) figures[`${k}${m.suffix}`] = v;
      for (const stage of STAGE_ORDER) {
        const s = stageDist(head, stage);
        if (s.n > 0) figures[`stage_${stage}_p50_ms${m.suffix}`] = round(s.p50);
      }
    }
    for (const l of m.levels) {
      const at = `_at_${l.speakers}spk${m.suffix}`;
      const s = dist(l, 'e2e_from_mic');
      figures[`delivered${at}`] = l.samples.length;
      figures[`dropped${at}`] = droppedTotal(l);
      if (s.n > 0) {
        figures[`e2e_from_mic_p50_ms${at}`] = round(s.p50);
        figures[`e2e_from_mic_p95_ms${at}`] = round(s.p95);
      }
    }
    figures[`max_speakers_within_slo${m.suffix}`] = maxSpeakersWithinSlo(m.levels, slo);
    figures[`max_speakers_streaming${m.suffix}`] = maxSpeakersWithinSlo(m.levels, STREAMING_BOUNDS);
  }
  return { ...figures, ...sttFigures(stt) };
}

/**
 * Translation quality of simultaneous vs consecutive on the same recognized text (translationQuality.ts):
 * the default commit policy's chrF against the consecutive output and against the references, the
 * consecutive output's, the cost (consecutive minus simultaneous, against the references) and the words'
 * commit delay, default policy and endpoint-only.
 */
export function qualityFigures(q: QualityRun | null): Record<string, number> {
  if (!q) return {};
  const def = q.presets.find((p) => p.preset === 'default');
  const endpoint = q.presets.find((p) => p.preset.startsWith('endpoint only'));
  if (!def) return {};
  return {
    chrf_simultaneous_vs_consecutive: def.chrfVsConsecutive,
    chrf_simultaneous_vs_reference: def.chrfVsReference,
    chrf_consecutive_vs_reference: q.chrfConsecutiveVsReference,
    chrf_cost: Math.round((q.chrfConsecutiveVsReference - def.chrfVsReference) * 10) / 10,
    commit_delay_p50_ms: def.delayP50Ms,
    commit_delay_p95_ms: def.delayP95Ms,
    ...(endpoint ? { commit_delay_p50_ms_consecutive: endpoint.delayP50Ms } : {}),
  };
}

/** One note line per commit preset: lag against quality, as measured. */
export function qualityNotes(q: QualityRun | null): string[] {
  if (!q) return [];
  return [
    `Translation quality, simultaneous vs consecutive on the same recognized text (${q.engine} streaming on ${q.clips} clips, ${q.translator} per segment; chrF 0-100, corpus-level; references: bench/data/librivox-es.json). Consecutive (the final transcript translated whole) vs the references: chrF ${q.chrfConsecutiveVsReference}. Per commit policy: segments per clip / words per segment / words' commit delay p50, p95 / share of words committed before the endpoint / chrF vs consecutive / chrF vs references: ${q.presets.map((p) => `${p.preset}: ${p.segmentsPerClip} / ${p.wordsPerSegment} / ${p.delayP50Ms}, ${p.delayP95Ms} ms / ${p.earlyShare} / ${p.chrfVsConsecutive} / ${p.chrfVsReference}`).join('; ')}.`,
  ];
}

/** Lag against quality per commit policy. */
export function qualityPlot(q: QualityRun | null): PlotSpec[] {
  if (!q) return [];
  return [
    {
      id: 'commit-quality',
      title: "Commit policies: words' commit delay against translation quality",
      kind: 'scatter',
      xLabel: "words' commit delay p50, ms (from first heard as they stayed to their segment's commit)",
      yLabel: 'chrF against the references',
      series: q.presets.map((p) => ({ name: p.preset, points: [[p.delayP50Ms, p.chrfVsReference] as [number, number]] })),
    },
  ];
}

type Cell = number | string;
type ModeCells = { value: Cell; p95: Cell; n: Cell };
const cell = (v: number): Cell => (Number.isFinite(v) ? round(v) : '-');
const fromSummary = (s: Summary): ModeCells => ({ value: cell(s.p50), p95: cell(s.p95), n: s.n });
/** a - b, rounded like the figures from 100 up, to three significant digits below (WER differences). */
const difference = (a: number, b: number): number => (Math.abs(a - b) >= 100 ? Math.round(a - b) : Number((a - b).toPrecision(3)));

/** Rows of the summary: per speakers level and span, one group of columns per mode, side by side. */
export function pipelineSummary(levels: readonly LevelResult[], stt: readonly SttClipResult[]): SummaryRow[] {
  const modes = modesOf(levels).map((m) => m.mode);
  if (modes.length === 0) modes.push(...new Set(stt.map((r) => r.mode)));
  // The recognizer alone ran batch and streaming: its rows go under the modes that recognize that way.
  const sttModeOf = (mode: string): SttMode => (mode === 'batch' ? 'batch' : 'streaming');
  const others = modes.includes(SLO_MODE) ? modes.filter((m) => m !== SLO_MODE) : [];
  const row = (speakers: Cell, span: string, unit: string, get: (mode: string) => ModeCells | null): SummaryRow => {
    const r: SummaryRow = { speakers, span, unit };
    const main: Record<string, Cell> = {};
    for (const mode of modes) {
      const c = get(mode) ?? { value: '-', p95: '-', n: '-' };
      r[mode] = c.value;
      r[`${mode} p95`] = c.p95;
      r[`${mode} n`] = c.n;
      main[mode] = c.value;
    }
    for (const other of others) {
      const a = main[SLO_MODE];
      const b = main[other];
      r[`Δ ${SLO_MODE}-${other}`] = typeof a === 'number' && typeof b === 'number' ? difference(a, b) : '-';
    }
    return r;
  };
  const rows: SummaryRow[] = [];
  const speakers = [...new Set(levels.map((l) => l.speakers))].sort((a, b) => a - b);
  const head = headlineLevel(levels)?.speakers;
  const level = (mode: string, n: number) => levels.find((l) => l.mode === mode && l.speakers === n) ?? null;
  for (const n of speakers) {
    const full = n === head;
    const spans: Array<{ span: string; get: (l: LevelResult) => Summary }> = [
      { span: 'e2e_from_mic', get: (l) => dist(l, 'e2e_from_mic') },
      ...(levels.some((l) => dist(l, 'finish_from_mic').n > 0) ? [{ span: 'finish_from_mic', get: (l: LevelResult) => dist(l, 'finish_from_mic') }] : []),
      { span: 'e2e', get: (l) => dist(l, 'e2e') },
      ...STAGE_ORDER.filter((s) => full || s === 'stt' || s === 'playout').map((stage) => ({ span: stage, get: (l: LevelResult) => stageDist(l, stage) })),
      ...(full ? [{ span: 'processing', get: (l: LevelResult) => dist(l, 'processing') }] : []),
      { span: 'partial_interval', get: (l) => dist(l, 'partial_interval') },
      ...(levels.some((l) => (l.segments ?? []).length > 0)
        ? [
            { span: 'segment_lag', get: (l: LevelResult) => dist(l, 'segment_lag') },
            { span: 'backlog', get: (l: LevelResult) => dist(l, 'backlog') },
          ]
        : []),
    ];
    for (const s of spans) rows.push(row(n, s.span, 'ms', (mode) => { const l = level(mode, n); return l ? fromSummary(s.get(l)) : null; }));
    rows.push(row(n, 'delivered', 'utterances', (mode) => { const l = level(mode, n); return l ? { value: l.samples.length, p95: '-', n: '-' } : null; }));
    rows.push(row(n, 'dropped', 'utterances', (mode) => { const l = level(mode, n); return l ? { value: droppedTotal(l), p95: '-', n: '-' } : null; }));
  }
  if (stt.length > 0) {
    const of = (mode: string) => stt.filter((r) => r.mode === sttModeOf(mode));
    const some = (mode: string, f: (rows: SttClipResult[]) => ModeCells) => (of(mode).length ? f(of(mode)) : null);
    rows.push(row('-', 'stt alone: final', 'ms (streaming: after the last chunk; batch: whole decode)', (mode) => some(mode, (r) => fromSummary(summarize(r.map((x) => x.finalMs))))));
    rows.push(row('-', 'stt alone: decoder time / audio', 'x real time', (mode) => some(mode, (r) => { const s = summarize(r.map((x) => x.rtf)); return { value: Number.isFinite(s.p50) ? Math.round(s.p50 * 1000) / 1000 : '-', p95: Number.isFinite(s.p95) ? Math.round(s.p95 * 1000) / 1000 : '-', n: s.n }; })));
    rows.push(row('-', 'stt alone: WER', 'corpus WER (n = reference words)', (mode) => some(mode, (r) => ({ value: Number.isFinite(corpusWer(r)) ? corpusWer(r) : '-', p95: '-', n: r.reduce((a, x) => a + x.referenceWords, 0) }))));
  }
  return rows;
}

/** One note per mode: which sweep levels stayed within bounds, what broke the others, and the drops by code. */
export function sweepNotes(levels: readonly LevelResult[], slo: PipelineSlo): string[] {
  const bounds = Object.entries(slo).filter(([f]) => f.endsWith('_ms')).map(([f, b]) => [b.max !== undefined ? `${f} <= ${b.max}` : '', b.min !== undefined ? `${f} >= ${b.min}` : ''].filter(Boolean).join(' and '));
  return modesOf(levels).map((m) => {
    const parts = m.levels.map((l) => {
      const v = levelWithinSlo(l, slo);
      return `${l.speakers} speaker(s): ${l.samples.length} delivered, ${v.ok ? 'within' : `not within (${v.reasons.join('; ')})`}`;
    });
    return `Sweep, ${m.mode} (within = something delivered, 0 dropped${bounds.length ? `, ${bounds.join(', ')}` : ''}): ${parts.join('; ')}. max_speakers_within_slo${m.suffix} = ${maxSpeakersWithinSlo(m.levels, slo)}; max_speakers_streaming${m.suffix} = ${maxSpeakersWithinSlo(m.levels, STREAMING_BOUNDS)} (streaming recognition's bounds: e2e_from_mic p50 <= 700, stt_final p50 <= 50, partial_interval p50 <= 300, 0 dropped).`;
  });
}

export function pipelinePlots(levels: readonly LevelResult[], stt: readonly SttClipResult[], slo: PipelineSlo): PlotSpec[] {
  const marks: NonNullable<PlotSpec['marks']> = [];
  for (const k of ['p50', 'p95'] as const) {
    const max = slo[`e2e_from_mic_${k}_ms`]?.max;
    if (max !== undefined) marks.push({ label: `SLO e2e_from_mic ${k}`, y: max });
  }
  const modes = modesOf(levels);
  const head = headlineLevel(levels)?.speakers ?? 1;
  const plots: PlotSpec[] = [
    {
      id: 'sweep',
      title: 'End of speech at the microphone to translated audio at the listener, per mode',
      kind: 'line',
      xLabel: 'concurrent speakers (one room each)',
      yLabel: 'e2e_from_mic, ms',
      series: modes.flatMap((m) =>
        (['p50', 'p95'] as const).map((k) => ({ name: `${m.mode} ${k}`, points: m.levels.map((l) => [l.speakers, dist(l, 'e2e_from_mic')[k]] as [number, number]) })),
      ),
      marks,
    },
    {
      id: 'stages',
      title: `Median time per stage at ${head} speaker(s), per mode`,
      kind: 'bar',
      xLabel: 'stage',
      yLabel: 'ms (p50)',
      categories: [...STAGE_ORDER],
      series: modes.map((m) => {
        const l = m.levels.find((x) => x.speakers === head);
        return { name: m.mode, points: l ? STAGE_ORDER.map((stage, i) => [i, stageDist(l, stage).p50] as [number, number]) : [] };
      }),
    },
    ...modes.map((m) => ({
      id: `stages-${m.mode}`,
      title: `Median time per stage vs concurrent speakers (${m.mode})`,
      kind: 'bar' as const,
      xLabel: 'concurrent speakers',
      yLabel: 'ms (p50)',
      series: STAGE_ORDER.map((stage) => ({ name: stage, points: m.levels.map((l) => [l.speakers, stageDist(l, stage).p50] as [number, number]) })),
    })),
    {
      id: 'cdf',
      title: 'e2e_from_mic, distribution per mode and level',
      kind: 'line',
      xLabel: 'ms (end of speech at the microphone to first translated packet at the listener)',
      yLabel: 'fraction of utterances at or below',
      series: modes.flatMap((m) =>
        m.levels.map((l) => {
          const sorted = SERIES.e2e_from_mic(l).sort((a, b) => a - b);
          return { name: `${m.mode}, ${l.speakers} speaker(s), n=${sorted.length}`, points: sorted.map((x, i) => [x, (i + 1) / sorted.length] as [number, number]) };
        }),
      ),
    },
  ];
  if (stt.length > 0) {
    plots.push({
      id: 'stt-quality',
      title: 'Speech recognizer alone: final latency and WER per clip',
      kind: 'scatter',
      xLabel: 'ms to the final (streaming: after the last chunk; batch: whole decode)',
      yLabel: 'word error rate',
      series: [...new Set(stt.map((r) => r.mode))].map((mode) => ({ name: mode, points: stt.filter((r) => r.mode === mode).map((r) => [r.finalMs, r.wer] as [number, number]) })),
    });
  }
  return plots;
}
