import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../bench/lib/options.js';
import { loudest, onsetDelays, speechEndBefore, toneOnsets, type InboundSample } from '../bench/lib/probes.js';
import { markdownReport, type RunRecord } from '../bench/lib/report.js';
import { describeBound, evaluateSlo, parseSlo, verdictLines } from '../bench/lib/slo.js';
import { figuresOf, percentile, summarize } from '../bench/lib/stats.js';
import { linearAxis } from '../bench/lib/charts/axes.js';
import { renderSvg } from '../bench/lib/charts/render.js';
import { escapeHtml } from '../bench/lib/html/document.js';
import { markdownTable, textTable } from '../bench/lib/table.js';
import type { OptionSpec, SummaryRow } from '../bench/lib/types.js';
import { aiWorkerReady, dropLines, dropsByCode, utteranceLines } from '../bench/lib/logs.js';
import { chrF, corpusChrF, normalizeText } from '../bench/lib/chrf.js';
import {
  headlineLevel,
  levelFigures,
  levelWithinSlo,
  maxSpeakersWithinSlo,
  modeSuffix,
  pipelineFigures,
  pipelinePlots,
  pipelineSummary,
  qualityFigures,
  qualityNotes,
  qualityPlot,
  sttFigures,
  sweepNotes,
  type LevelResult,
  type PipelineSlo,
} from '../bench/lib/pipelineReport.js';
import { chunksOf, corpusWer, type SttClipResult } from '../bench/lib/sttQuality.js';
import { buildSample, partialIntervals, STAGE_ORDER, type CaptionRecord, type UtteranceSample } from '../bench/lib/utterances.js';

describe('percentiles', () => {
  it('interpolate between the closest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 0)).toBe(1);
    expect(percentile([4, 1, 3, 2], 100)).toBe(4);
    expect(percentile([10, 20], 95)).toBeCloseTo(19.5);
    expect(percentile([7], 99)).toBe(7);
  });

  it('ignore non-finite values and give NaN without data', () => {
    expect(percentile([1, NaN, 3, Infinity], 50)).toBe(2);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(TypeError);
  });

  it('summarize and name figures the way slo.yaml refers to them', () => {
    const s = summarize(Array.from({ length: 101 }, (_, i) => i));
    expect(s).toMatchObject({ n: 101, min: 0, p50: 50, p95: 95, p99: 99, max: 100, mean: 50 });
    expect(figuresOf('e2e', s)).toEqual({ e2e_n: 101, e2e_p50_ms: 50, e2e_p95_ms: 95, e2e_p99_ms: 99, e2e_max_ms: 100 });
    expect(figuresOf('e2e', summarize([]))).toEqual({ e2e_n: 0 });
  });
});

describe('SLOs', () => {
  const config = parseSlo('pipeline:\n  e2e_p50_ms: { max: 510 }\n  e2e_n: { min: 10 }\n  band: { min: 1, max: 2 }\nempty:\n');

  it('pass, fail, or "no data" per figure, in file order', () => {
    const verdicts = evaluateSlo(config, 'pipeline', { e2e_p50_ms: 600, e2e_n: 12 });
    expect(verdicts.map((v) => [v.figure, v.verdict])).toEqual([
      ['e2e_p50_ms', 'fail'],
      ['e2e_n', 'pass'],
      ['band', 'no data'],
    ]);
    expect(evaluateSlo(config, 'pipeline', { e2e_p50_ms: 510, e2e_n: 10, band: 1.5 }).every((v) => v.verdict === 'pass')).toBe(true);
    expect(evaluateSlo(config, 'pipeline', { e2e_p50_ms: NaN })[0]!.verdict).toBe('no data');
    expect(evaluateSlo(config, 'unknown', { x: 1 })).toEqual([]);
  });

  it('describes bounds and prints one verdict line each', () => {
    expect(describeBound('band', { min: 1, max: 2 })).toBe('band >= 1 and <= 2');
    const lines = verdictLines('pipeline', evaluateSlo(config, 'pipeline', { e2e_p50_ms: 400 }));
    expect(lines[0]).toMatch(/^SLO PASS\s+pipeline: e2e_p50_ms <= 510 \(measured 400\)$/);
    expect(lines[1]).toMatch(/NO DATA/);
  });

  it('rejects malformed bounds', () => {
    expect(() => parseSlo('pipeline:\n  e2e_p50_ms: 510\n')).toThrow(/pipeline.e2e_p50_ms/);
    expect(() => parseSlo('pipeline:\n  e2e_p50_ms: { below: 5 }\n')).toThrow(TypeError);
    expect(() => parseSlo('- a\n- b\n')).toThrow(TypeError);
  });
});

describe('SVG plots', () => {
  it('picks round ticks covering the range', () => {
    expect(linearAxis(0, 97, 6, false).ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(linearAxis(3, 3, 6, false).ticks.length).toBeGreaterThan(1);
    const t = linearAxis(-0.3, 1.7, 6, false).ticks;
    expect(t[0]).toBeLessThanOrEqual(-0.3);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(1.7);
  });

  it('renders every kind as well-formed SVG with legend, marks and escaped text', async () => {
    for (const kind of ['line', 'scatter', 'bar'] as const) {
      const svg = await renderSvg({
        id: 'x',
        title: 'A & <B>',
        kind,
        xLabel: 'speakers',
        yLabel: 'ms',
        series: [
          { name: 'p50', points: [[1, 100], [2, 250], [4, 900]] },
          { name: 'p95', points: [[1, 150], [2, 400], [4, 1500]] },
        ],
        marks: [{ label: 'SLO', y: 510 }],
      });
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toContain('A &amp; &lt;B&gt;');
      expect(svg).toContain('>p95</text>');
      expect(svg).toContain('SLO (510)');
      expect(svg).not.toMatch(/NaN|Infinity/);
      // Every opened element is closed (self-closing or with its end tag).
      const opened = (svg.match(/<(?!\/)[a-z]+(\s[^>]*[^/])?>/g) ?? []).length;
      const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
      expect(opened).toBe(closed);
    }
    // One bar per point.
    const bars = await renderSvg({ id: 'b', title: 't', kind: 'bar', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, 1], [2, 2]] }] });
    expect(kindCount(/<g class="mark-rect role-mark[^>]*>(.*?)<\/g>/s.exec(bars)?.[1] ?? '', '<path')).toBe(2);
  });

  it('says "no data" for an empty plot instead of failing', async () => {
    const svg = await renderSvg({ id: 'e', title: 'empty', kind: 'line', xLabel: 'x', yLabel: 'y', series: [{ name: 'none', points: [] }] });
    expect(svg).toContain('no data');
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(escapeHtml(`"'`)).toBe('&quot;&#39;');
  });
});

function kindCount(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('tables and reports', () => {
  const rows: SummaryRow[] = [
    { stage: 'stt', n: 3, p50: 120 },
    { stage: 'translate | mt', n: 3, p50: 9.5, extra: 'x' },
  ];

  it('align text columns and escape Markdown pipes', () => {
    const text = textTable(rows).split('\n');
    expect(text[0]).toMatch(/^stage\s+n\s+p50\s+extra$/);
    expect(text).toHaveLength(4);
    const md = markdownTable(rows);
    expect(md.split('\n')[1]).toBe('| --- | --- | --- | --- |');
    expect(md).toContain('translate \\| mt');
  });

  it('the Markdown report carries the table, SLO verdicts, plots and machine', () => {
    const record: RunRecord = {
      scenario: 'demo',
      title: 'Demo',
      description: '',
      smoke: true,
      startedAt: '2026-11-23T13:00:00.000Z',
      finishedAt: '2026-11-23T13:00:05.000Z',
      durationSeconds: 5,
      options: { speakers: [1, 2] },
      machine: { hostname: 'h', cpuModel: 'CPU', cores: 2, memoryGiB: 4, os: 'Linux', versions: { node: 'v20', mediasoup: '3.12.16' }, gitCommit: 'abc', loadAverage: [1, 1, 1] },
      loadAverageAtStart: [1, 1, 1],
      loadAverageAtEnd: [2, 1, 1],
      environment: { engines: ['pocketsphinx'] },
      figures: { e2e_p50_ms: 400 },
      slo: evaluateSlo(parseSlo('demo:\n  e2e_p50_ms: { max: 510 }\n'), 'demo', { e2e_p50_ms: 400 }),
      summary: rows,
      notes: ['warm-up excluded'],
      plots: [{ id: 'sweep', title: 'Sweep', file: 'demo-sweep.svg' }],
      samples: [],
    };
    const md = markdownReport(record, (id) => `demo-${id}.svg`, 'demo.json');
    expect(md).toContain('**Smoke run**');
    expect(md).toContain('| stage | n | p50 | extra |');
    expect(md).toContain('- **PASS** e2e_p50_ms <= 510: measured 400');
    expect(md).toContain('![Sweep](demo-sweep.svg)');
    expect(md).toContain('CPU, 2 cores');
    expect(md).toContain('| speakers | 1,2 |');
  });
});

describe('options', () => {
  const specs: OptionSpec[] = [
    { name: 'speakers', type: 'list', default: [1, 2, 4], smoke: [1], help: '' },
    { name: 'duration', type: 'number', default: 60, smoke: 2, help: '' },
    { name: 'cache', type: 'boolean', default: false, help: '' },
    { name: 'inputs', type: 'string', default: 'librivox', help: '' },
  ];

  it('take defaults, smoke values, and what the user set', () => {
    expect(parseOptions(specs, [], false)).toEqual({ speakers: [1, 2, 4], duration: 60, cache: false, inputs: 'librivox' });
    expect(parseOptions(specs, [], true)).toMatchObject({ speakers: [1], duration: 2 });
    expect(parseOptions(specs, ['--speakers', '1,8', '--duration=5', '--cache', '--inputs', 'espeak'], true)).toEqual({ speakers: [1, 8], duration: 5, cache: true, inputs: 'espeak' });
    expect(parseOptions(specs, ['--cache', 'off'], false).cache).toBe(false);
  });

  it('refuse unknown options and bad values', () => {
    expect(() => parseOptions(specs, ['--nope', '1'], false)).toThrow(/unknown option --nope/);
    expect(() => parseOptions(specs, ['--duration', 'soon'], false)).toThrow(/number/);
    expect(() => parseOptions(specs, ['--speakers', '1,x'], false)).toThrow(/numbers/);
    expect(() => parseOptions(specs, ['stray'], false)).toThrow(/unexpected/);
  });
});

describe('probe analysis', () => {
  it('finds the end of speech at the microphone before the VAD mark', () => {
    const mic: Array<[number, number]> = [[1000, 0.01], [1020, 0.02], [1040, 1e-6], [1060, 0], [1600, 0]];
    expect(speechEndBefore(mic, 1600, 1000)).toBe(1020);
    expect(speechEndBefore(mic, 1600, 100)).toBeNull();
  });

  it('places tone onsets inside the sampling interval from the energy, and pairs them across listeners', () => {
    // A tone of power 0.1 for 200 ms every second starting at 1003 ms (audio time = wall time here),
    // sampled every 10 ms, except a stalled poll from 2000 to 2150 ms.
    const power = (t: number) => (t % 1000 >= 3 && t % 1000 < 203 && t >= 1000 ? 0.1 : 0);
    const samples: InboundSample[] = [];
    let e = 0;
    for (let t = 0; t <= 3000; t += 1) {
      e += power(t) / 1000;
      if ((t % 10 === 0 && (t < 2000 || t >= 2150)) || t === 3000) samples.push([t, e, t / 1000]);
    }
    const found = toneOnsets(samples, 1e-3, 400);
    expect(found).toHaveLength(2);
    expect(Math.abs(found[0]! - 1003)).toBeLessThanOrEqual(1);
    expect(Math.abs(found[1]! - 2003)).toBeLessThanOrEqual(1);
    expect(loudest({ quiet: [[0, 0, 0], [10, 0, 0.01]], tone: samples })).toBe(samples);
    expect(onsetDelays([0, 1000, 2000], [15, 1012, 2600], 400)).toEqual([15, 12]);
  });

  it('builds an utterance sample from the gateway line, the pages and the captions', () => {
    // A streaming utterance: the VAD waited 282 ms after the last voiced audio, the final came 21 ms after the endpoint.
    const line = { utteranceId: 'u', language: 'es', time: 10_000, ms: { endpoint: 282, stt: 21, translate: 20, tts: 50, playout: 30, endToEnd: 430, processing: 409 } };
    const mic: Array<[number, number]> = [[9000, 0.05], [9260, 0.05], [9280, 0]];
    const captions: CaptionRecord[] = [
      { utteranceId: 'u', speakerPeerId: 'p', language: 'en', text: 'the', original: true, final: false, receivedAt: 8800 },
      { utteranceId: 'u', speakerPeerId: 'p', language: 'en', text: 'the cat', original: true, final: false, receivedAt: 8960 },
      { utteranceId: 'u', speakerPeerId: 'p', language: 'es', text: 'el gato', original: false, final: false, receivedAt: 9000 },
      { utteranceId: 'u', speakerPeerId: 'p', language: 'en', text: 'the cat sat', original: true, final: false, receivedAt: 9280 },
      { utteranceId: 'u', speakerPeerId: 'p', language: 'en', text: 'the cat sat', original: true, final: true, receivedAt: 9600 },
      { utteranceId: 'u', speakerPeerId: 'p', language: 'en', text: 'the ca', original: true, final: false, receivedAt: 9700 },
      { utteranceId: 'v', speakerPeerId: 'p', language: 'en', text: 'other', original: true, final: false, receivedAt: 9100 },
    ];
    const s = buildSample(line, mic, [{ at: 9990, prevAt: 9970, bytes: 10, producerId: 'p' }, { at: 10_015, prevAt: 9995, bytes: 20, producerId: 'p' }], 2000, captions);
    expect(s.speechEnd).toBe(9570);
    expect(s.lastVoiced).toBe(9288);
    expect(s.micEnd).toBe(9260);
    expect(s.received).toBe(10_015);
    expect(s.e2eMs).toBe(445);
    expect(s.e2eFromMicMs).toBe(755);
    expect(s.processingMs).toBe(424);
    expect(s.stages).toEqual({ uplink: 28, endpoint: 282, stt: 21, translate: 20, tts: 50, hops: 309, playout: 30, network: 15 });
    // The stages add up to the headline when every mark is there.
    expect(Object.values(s.stages).reduce((a, b) => a + b, 0)).toBe(s.e2eFromMicMs);
    expect(s.enginesMs).toBe(91);
    expect(s.overheadMs).toBe(354);
    expect(s.receivedResolutionMs).toBe(15);
    // English partials only, up to the final; the late partial after it and the Spanish one do not count.
    expect(s.partials).toBe(3);
    expect(s.partialIntervalsMs).toEqual([160, 320]);
    expect(s.partialTimesMs).toEqual([-770, -610, -290]);
    expect(s.finalCaptionMs).toBe(30);
    expect(partialIntervals(captions, 'v')).toEqual([]);
  });

  it('reproduces a recorded streaming utterance (smoke run, 2026-12-06, load 10 on 2 cores)', () => {
    // The gateway's line as logged, and the pages' records around it.
    const [line] = utteranceLines(
      '{"level":30,"time":1796572445785,"pid":21062,"hostname":"vm","name":"parley","replica":"bench-pipeline-streaming","module":"utterance-timings","utteranceId":"a49330c6-a43b-46c6-8103-c81b58e51637","language":"es","ms":{"endpoint":282,"stt":104,"translate":7,"tts":32,"playout":34,"endToEnd":194,"processing":90},"msg":"utterance translated"}',
    );
    const speechEnd = 1796572445591;
    const caption = (at: number, final: boolean): CaptionRecord => ({ utteranceId: line!.utteranceId, speakerPeerId: 'sp', language: 'en', text: '…', original: true, final, receivedAt: speechEnd + at });
    const captions = [...[-2127, -1970, -1875, -666, -659, -625, -600, -569, -538, -480, -439, -366].map((at) => caption(at, false)), caption(115, true)];
    const mic: Array<[number, number]> = [[1796572445455, 0.002], [1796572445475, 0.0011], [1796572445495, 0.00005], [1796572445515, 0]];
    const s = buildSample(line!, mic, [{ at: 1796572445818, prevAt: 1796572445798, bytes: 900, producerId: 'tr' }], 250 + 1500, captions);
    expect(s).toMatchObject({ micEnd: 1796572445475, lastVoiced: 1796572445309, speechEnd, sttDone: 1796572445695, received: 1796572445818, receivedResolutionMs: 20 });
    expect(s.stages).toEqual({ uplink: -166, endpoint: 282, stt: 104, translate: 7, tts: 32, hops: 17, playout: 34, network: 33 });
    expect([s.e2eFromMicMs, s.e2eMs, s.processingMs, s.processingSentMs]).toEqual([343, 227, 123, 90]);
    // A stall of the loaded decoder, then a burst as it caught up.
    expect(s.partialIntervalsMs).toEqual([157, 95, 1209, 7, 34, 25, 31, 31, 58, 41, 73]);
    expect(s.finalCaptionMs).toBe(115);
  });

  it('leaves out what a batch utterance or a missing probe cannot give', () => {
    const line = { utteranceId: 'b', language: 'es', time: 20_000, ms: { endpoint: 532, stt: 420, translate: 20, tts: 50, playout: 30, endToEnd: 900, processing: 480 } };
    const s = buildSample(line, null, [], 2000, []);
    expect(s.micEnd).toBeNull();
    expect(s.e2eFromMicMs).toBeNull();
    expect(s.e2eMs).toBeNull();
    expect(s.stages.uplink).toBeUndefined();
    expect(s.stages.network).toBeUndefined();
    expect(s.stages.stt).toBe(420);
    expect(s.partials).toBe(0);
    expect(s.partialIntervalsMs).toEqual([]);
    expect(s.finalCaptionMs).toBeNull();
  });
});

describe('pipeline logs', () => {
  const gateway = [
    '{"level":30,"time":1000,"msg":"utterance translated","utteranceId":"u1","language":"es","ms":{"endpoint":280,"stt":20,"endToEnd":400,"processing":380}}',
    '{"level":40,"time":1100,"msg":"utterance dropped","utteranceId":"u2","stage":"queue","code":"ERR_AI_SATURATED","reason":"no AI worker took the session"}',
    '{"level":40,"time":1200,"msg":"utterance dropped","utteranceId":"u3","stage":"tts","code":"ERR_UTTERANCE_DROPPED","reason":"too old"}',
    '{"level":40,"time":1250,"msg":"utterance dropped","utteranceId":"u3","stage":"tts","code":"ERR_UTTERANCE_DROPPED","reason":"too old"}',
    'not json',
    '{"level":40,"time":1300,"msg":"utterance dro',
  ].join('\n');
  const worker = [
    '{"level":30,"time":900,"msg":"AI worker ready","event":"ai-worker.ready","workerId":"w","concurrency":2,"maxSessions":3,"recognition":"streaming"}',
    '{"level":30,"time":1190,"msg":"utterance dropped","utteranceId":"u3","stage":"tts","code":"ERR_UTTERANCE_DROPPED"}',
    '{"level":30,"time":1400,"msg":"utterance dropped","utteranceId":"u4","stage":"translate","code":"ERR_ENGINE_FAILED"}',
  ].join('\n');

  it('count each dropped utterance once per code, whoever logged it', () => {
    const lines = [...dropLines(gateway), ...dropLines(worker)];
    expect(lines).toHaveLength(5);
    expect(dropsByCode(lines)).toEqual({ ERR_AI_SATURATED: 1, ERR_UTTERANCE_DROPPED: 1, ERR_ENGINE_FAILED: 1 });
    expect(utteranceLines(gateway)).toEqual([{ utteranceId: 'u1', language: 'es', time: 1000, ms: { endpoint: 280, stt: 20, endToEnd: 400, processing: 380 } }]);
  });

  it('read what an AI worker says it runs', () => {
    expect(aiWorkerReady(worker)).toEqual({ recognition: 'streaming', maxSessions: 3 });
    expect(aiWorkerReady(gateway)).toBeNull();
  });
});

describe('pipeline report (batch vs streaming)', () => {
  /** A sample with the spans of a recorded utterance (see samples below), shifted by `extra` ms of queueing. */
  const sample = (id: string, mode: 'batch' | 'simultaneous', extra = 0): UtteranceSample => {
    const stt = mode !== 'batch' ? 22 : 380;
    const endpoint = mode !== 'batch' ? 282 : 532;
    const hops = 12 + extra;
    const stages = { uplink: 40, endpoint, stt, translate: 18, tts: 60, hops, playout: 35, network: 9 };
    const e2eFromMic = Object.values(stages).reduce((a, b) => a + b, 0);
    return {
      utteranceId: id,
      language: 'es',
      micEnd: 0,
      lastVoiced: 40,
      speechEnd: 40 + endpoint,
      sttDone: 40 + endpoint + stt,
      firstRtpOut: e2eFromMic - 9,
      received: e2eFromMic,
      receivedResolutionMs: 9,
      stages,
      e2eFromMicMs: e2eFromMic,
      e2eMs: e2eFromMic - 40 - endpoint,
      processingMs: e2eFromMic - 40 - endpoint - stt,
      processingSentMs: e2eFromMic - 49 - endpoint - stt,
      enginesMs: stt + 78,
      overheadMs: e2eFromMic - 40 - endpoint - stt - 78,
      partials: mode !== 'batch' ? 3 : 0,
      partialIntervalsMs: mode !== 'batch' ? [160, 170] : [],
      partialTimesMs: mode !== 'batch' ? [-400, -240, -70] : [],
      finalCaptionMs: stt + 5,
    };
  };
  const level = (mode: 'batch' | 'simultaneous', speakers: number, n: number, extra = 0, dropped: Record<string, number> = {}): LevelResult => ({
    mode,
    suffix: modeSuffix(mode),
    speakers,
    samples: Array.from({ length: n }, (_, i) => sample(`${mode}-${speakers}-${i}`, mode, extra)),
    ...(mode === 'simultaneous' ? { segments: Array.from({ length: 2 * n }, (_, i) => ({ utteranceId: `s${i}`, index: i % 2, last: i % 2 === 1, lagMs: 800 + 10 * i + extra, backlogMs: 100 * i, rate: 1 + 0.05 * i })) } : {}),
    dropped,
    durationS: 60,
  });
  const levels: LevelResult[] = [
    level('batch', 1, 4),
    level('batch', 2, 4, 300),
    level('simultaneous', 1, 4),
    level('simultaneous', 2, 4, 100),
    level('simultaneous', 3, 3, 200, { ERR_AI_SATURATED: 1 }),
    level('simultaneous', 4, 0, 0, { ERR_AI_SATURATED: 5 }),
  ];
  // The bounds these fixtures were written against (the SLO file's move as the product improves).
  const slo: PipelineSlo = {
    e2e_from_mic_p50_ms: { max: 700 },
    stt_final_p50_ms: { max: 50 },
    partial_interval_p50_ms: { max: 300 },
    wer_delta: { max: 0.03 },
    max_speakers_within_slo: { min: 3 },
  };
  const fileSlo: PipelineSlo = parseSlo(readFileSync(new URL('../bench/slo.yaml', import.meta.url), 'utf8')).pipeline!;
  const stt: SttClipResult[] = [
    { engine: 'pocketsphinx:en-us', mode: 'batch', clip: 'a', seconds: 3, ms: 600, finalMs: 600, rtf: 0.2, wer: 0.2, edits: 2, referenceWords: 10, text: '' },
    { engine: 'pocketsphinx:en-us', mode: 'batch', clip: 'b', seconds: 5, ms: 900, finalMs: 900, rtf: 0.18, wer: 0.1, edits: 3, referenceWords: 30, text: '' },
    { engine: 'pocketsphinx:en-us', mode: 'streaming', clip: 'a', seconds: 3, ms: 420, finalMs: 12, rtf: 0.14, wer: 0.3, edits: 3, referenceWords: 10, text: '' },
    { engine: 'pocketsphinx:en-us', mode: 'streaming', clip: 'b', seconds: 5, ms: 700, finalMs: 20, rtf: 0.14, wer: 0.1, edits: 3, referenceWords: 30, text: '' },
  ];

  it('name the simultaneous (default) figures plainly and suffix the batch ones', () => {
    const f = pipelineFigures(levels, stt, slo);
    expect(f.e2e_from_mic_p50_ms).toBe(478);
    expect(f.e2e_from_mic_p50_ms_batch).toBe(1086);
    expect(f.e2e_p50_ms).toBe(156);
    expect(f.stt_final_p50_ms).toBe(22);
    expect(f.stt_final_p50_ms_batch).toBe(380);
    expect(f.endpoint_p50_ms).toBe(282);
    expect(f.partial_interval_p50_ms).toBe(165);
    expect(f.partial_interval_n_batch).toBe(0);
    expect(f.partial_interval_p50_ms_batch).toBeUndefined();
    expect(f.stage_uplink_p50_ms).toBe(40);
    expect(f.delivered_n).toBe(4);
    expect(f.dropped_n).toBe(0);
    expect(f.e2e_n).toBe(4);
    expect(f.e2e_from_mic_p50_ms_at_2spk).toBe(578);
    expect(f.e2e_from_mic_p95_ms_at_2spk_batch).toBe(1386);
    expect(f.dropped_at_3spk).toBe(1);
    expect(f.delivered_at_4spk).toBe(0);
    expect(f.e2e_from_mic_p50_ms_at_4spk).toBeUndefined();
    expect(f.max_speakers_within_slo).toBe(2);
    // Batch never meets a 50 ms final: the same bounds rule it out at its first level.
    expect(f.max_speakers_within_slo_batch).toBe(0);
    // Streaming recognition's own bounds (700 ms, 50 ms, 300 ms) are the ones these fixtures use.
    expect(f.max_speakers_streaming).toBe(2);
    expect(f.max_speakers_streaming_batch).toBe(0);
    expect(f.stt_wer).toBe(0.15);
    expect(f.stt_wer_batch).toBe(0.125);
    expect(f.wer_delta).toBe(0.025);
    expect(f.stt_alone_final_p50_ms).toBe(16);
    expect(f.stt_alone_final_p50_ms_batch).toBe(750);
    // Every figure the SLO file names is produced under that name.
    const withConsecutive = pipelineFigures([...levels, ...levels.filter((l) => l.mode === 'simultaneous').map((l) => ({ ...l, mode: 'consecutive', suffix: '_consecutive' }))], stt, slo);
    for (const figure of Object.keys(fileSlo)) expect(withConsecutive, figure).toHaveProperty(figure);
    const verdicts = evaluateSlo({ pipeline: slo }, 'pipeline', f);
    expect(verdicts.find((v) => v.figure === 'max_speakers_within_slo')!.verdict).toBe('fail');
    expect(verdicts.find((v) => v.figure === 'e2e_from_mic_p50_ms')!.verdict).toBe('pass');
  });

  it('judge a level by its drops and the latency SLOs it can measure', () => {
    expect(levelWithinSlo(levels[2]!, slo)).toEqual({ ok: true, reasons: [] });
    expect(levelWithinSlo(levels[4]!, slo).reasons).toEqual(['1 dropped (ERR_AI_SATURATED 1)']);
    expect(levelWithinSlo(levels[5]!, slo).reasons[0]).toBe('nothing delivered');
    expect(levelWithinSlo(levels[0]!, slo).reasons).toEqual(['e2e_from_mic_p50_ms 1086 > 700', 'stt_final_p50_ms 380 > 50']);
    expect(levelFigures(levels[4]!)).toMatchObject({ delivered_n: 3, dropped_n: 1, dropped_ERR_AI_SATURATED_n: 1 });
    // A level past a failing one does not count, even when it passes by itself.
    expect(maxSpeakersWithinSlo([level('simultaneous', 1, 3), level('simultaneous', 2, 3, 0, { ERR_AI_SATURATED: 1 }), level('simultaneous', 3, 3)], slo)).toBe(1);
    expect(maxSpeakersWithinSlo([], slo)).toBe(0);
    expect(headlineLevel([level('simultaneous', 2, 1), level('simultaneous', 4, 1)])!.speakers).toBe(2);
  });

  it('put the modes side by side in the summary', () => {
    const rows = pipelineSummary(levels, stt);
    const at1 = (span: string) => rows.find((r) => r.speakers === 1 && r.span === span)!;
    expect(Object.keys(at1('e2e_from_mic'))).toEqual(['speakers', 'span', 'unit', 'batch', 'batch p95', 'batch n', 'simultaneous', 'simultaneous p95', 'simultaneous n', 'Δ simultaneous-batch']);
    expect(at1('e2e_from_mic')).toMatchObject({ batch: 1086, simultaneous: 478, 'simultaneous n': 4, 'Δ simultaneous-batch': -608 });
    expect(at1('endpoint')).toMatchObject({ batch: 532, simultaneous: 282 });
    expect(at1('partial_interval')).toMatchObject({ batch: '-', 'batch n': 0, simultaneous: 165 });
    // The headline level has every stage; the others a few rows each.
    expect(rows.filter((r) => r.speakers === 1).map((r) => r.span)).toEqual(['e2e_from_mic', 'e2e', 'uplink', 'endpoint', 'stt', 'translate', 'tts', 'hops', 'playout', 'network', 'processing', 'partial_interval', 'segment_lag', 'backlog', 'delivered', 'dropped']);
    expect(rows.filter((r) => r.speakers === 3).map((r) => r.span)).toEqual(['e2e_from_mic', 'e2e', 'stt', 'playout', 'partial_interval', 'segment_lag', 'backlog', 'delivered', 'dropped']);
    expect(at1('segment_lag')).toMatchObject({ batch: '-', 'simultaneous n': 8 });
    expect(rows.find((r) => r.speakers === 3 && r.span === 'dropped')).toMatchObject({ batch: '-', simultaneous: 1 });
    expect(rows.find((r) => r.span === 'stt alone: WER')).toMatchObject({ batch: 0.125, simultaneous: 0.15, 'Δ simultaneous-batch': 0.025, 'batch n': 40 });
    expect(textTable(rows)).toContain('stt alone: final');
    // One mode only: no difference column.
    expect(Object.keys(pipelineSummary(levels.filter((l) => l.mode !== 'batch'), [])[0]!)).not.toContain('Δ streaming-batch');
  });

  it('say per mode which levels stayed within bounds', () => {
    const notes = sweepNotes(levels, slo);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^Sweep, batch .*1 speaker\(s\): 4 delivered, not within \(e2e_from_mic_p50_ms 1086 > 700; stt_final_p50_ms 380 > 50\)/);
    expect(notes[1]).toContain('2 speaker(s): 4 delivered, within; 3 speaker(s): 3 delivered, not within (1 dropped (ERR_AI_SATURATED 1))');
    expect(notes[1]).toMatch(/max_speakers_within_slo = 2; max_speakers_streaming = 2 \(/);
  });

  it('plot the sweep, the stages per mode and the recognizer alone as well-formed SVG', async () => {
    const plots = pipelinePlots(levels, stt, slo);
    expect(plots.map((p) => p.id)).toEqual(['sweep', 'stages', 'stages-batch', 'stages-simultaneous', 'cdf', 'stt-quality']);
    const sweep = plots[0]!;
    expect(sweep.series.map((s) => s.name)).toEqual(['batch p50', 'batch p95', 'simultaneous p50', 'simultaneous p95']);
    expect(sweep.marks).toEqual([{ label: 'SLO e2e_from_mic p50', y: 700 }]);
    expect(plots[1]!.categories).toEqual([...STAGE_ORDER]);
    expect(plots[1]!.series.find((s) => s.name === 'simultaneous')!.points).toEqual(STAGE_ORDER.map((stage, i) => [i, sample('x', 'simultaneous').stages[stage]]));
    for (const p of plots) {
      const svg = await renderSvg(p);
      expect(svg).not.toMatch(/NaN|Infinity/);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    }
  });

  it('report segment lag, backlog and playout rate of simultaneous translation, and the translation-quality figures', async () => {
    const f = levelFigures(levels[2]!);
    expect(f).toMatchObject({ segments_n: 8, segment_lag_p50_ms: 835, backlog_p95_ms: 665, playout_rate_p50: 1.17, playout_rate_p95: 1.33 });
    expect(levelFigures(levels[0]!)).not.toHaveProperty('segment_lag_p50_ms');
    const quality = {
      engine: 'pocketsphinx:en-us',
      translator: 'apertium',
      clips: 5,
      chrfConsecutiveVsReference: 51.5,
      presets: [
        { preset: 'default', segmentsPerClip: 3, wordsPerSegment: 4.5, delayP50Ms: 1000, delayP95Ms: 1773, earlyShare: 0.79, chrfVsConsecutive: 90.9, chrfVsReference: 47.4 },
        { preset: 'endpoint only (= consecutive)', segmentsPerClip: 1, wordsPerSegment: 13.6, delayP50Ms: 2450, delayP95Ms: 5660, earlyShare: 0, chrfVsConsecutive: 100, chrfVsReference: 51.5 },
      ],
    };
    expect(qualityFigures(quality)).toEqual({
      chrf_simultaneous_vs_consecutive: 90.9,
      chrf_simultaneous_vs_reference: 47.4,
      chrf_consecutive_vs_reference: 51.5,
      chrf_cost: 4.1,
      commit_delay_p50_ms: 1000,
      commit_delay_p95_ms: 1773,
      commit_delay_p50_ms_consecutive: 2450,
    });
    expect(qualityFigures(null)).toEqual({});
    expect(qualityNotes(quality)[0]).toContain('default: 3 / 4.5 / 1000, 1773 ms / 0.79 / 90.9 / 47.4');
    expect(await renderSvg(qualityPlot(quality)[0]!)).not.toMatch(/NaN|Infinity/);
  });

  it('cut a clip into the chunks the gateway streams, and score WER over the corpus', () => {
    const chunks = chunksOf(new Int16Array(16_000 * 0.4), 160);
    expect(chunks.map((c) => c.length)).toEqual([2560, 2560, 1280]);
    expect(corpusWer(stt.filter((r) => r.mode === 'batch'))).toBe(0.125);
    expect(corpusWer([])).toBeNaN();
    expect(sttFigures(stt.filter((r) => r.mode === 'streaming'))).not.toHaveProperty('wer_delta');
  });
});

describe('chrF', () => {
  it('is 100 for identical text, 0 for nothing in common, and in between for a partial match', () => {
    expect(chrF('el gato negro', 'el gato negro')).toBeCloseTo(100);
    expect(chrF('xyz', 'abc')).toBe(0);
    const partial = chrF('el gato', 'el gato negro');
    expect(partial).toBeGreaterThan(20);
    expect(partial).toBeLessThan(100);
    // Recall counts more than precision (beta 2): missing words cost more than extra ones.
    expect(chrF('el gato negro y blanco', 'el gato negro')).toBeGreaterThan(chrF('el gato', 'el gato negro'));
  });

  it('ignores spaces and, normalized, case and punctuation', () => {
    expect(chrF('elgato', 'el gato')).toBeCloseTo(100);
    expect(chrF(normalizeText('¡Hola, Mundo!'), normalizeText('hola mundo'))).toBeCloseTo(100);
  });

  it('pools n-gram counts over a corpus', () => {
    const pairs: Array<[string, string]> = [['el gato', 'el gato'], ['xyz', 'abc']];
    const pooled = corpusChrF(pairs);
    expect(pooled).toBeGreaterThan(0);
    expect(pooled).toBeLessThan(100);
  });
});
