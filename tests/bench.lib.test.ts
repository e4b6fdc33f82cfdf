import { describe, expect, it } from 'vitest';
import { parseOptions } from '../bench/lib/options.js';
import { loudest, onsetDelays, speechEndBefore, toneOnsets, type InboundSample } from '../bench/lib/probes.js';
import { markdownReport, type RunRecord } from '../bench/lib/report.js';
import { describeBound, evaluateSlo, parseSlo, verdictLines } from '../bench/lib/slo.js';
import { figuresOf, percentile, summarize } from '../bench/lib/stats.js';
import { escapeXml, niceTicks, renderSvg } from '../bench/lib/svg.js';
import { markdownTable, textTable } from '../bench/lib/table.js';
import type { OptionSpec, SummaryRow } from '../bench/lib/types.js';
import { buildSample } from '../bench/lib/utterances.js';

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
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(3, 3).length).toBeGreaterThan(1);
    const t = niceTicks(-0.3, 1.7);
    expect(t[0]).toBeLessThanOrEqual(-0.3);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(1.7);
  });

  it('renders every kind as well-formed SVG with legend, marks and escaped text', () => {
    for (const kind of ['line', 'scatter', 'bar'] as const) {
      const svg = renderSvg({
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
      const opened = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
      const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
      expect(opened).toBe(closed);
    }
    // One bar per point, each with its tooltip.
    expect(kindCount(renderSvg({ id: 'b', title: 't', kind: 'bar', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, 1], [2, 2]] }] }), '<title>')).toBe(2);
  });

  it('says "no data" for an empty plot instead of failing', () => {
    const svg = renderSvg({ id: 'e', title: 'empty', kind: 'line', xLabel: 'x', yLabel: 'y', series: [{ name: 'none', points: [] }] });
    expect(svg).toContain('no data');
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(escapeXml(`"'`)).toBe('&quot;&apos;');
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

  it('builds an utterance sample from the gateway line and the pages', () => {
    const line = { utteranceId: 'u', language: 'es', time: 10_000, ms: { queue_stt: 10, stt: 300, translate: 20, tts: 50, playout: 30, endToEnd: 430, processing: 120 } };
    const mic: Array<[number, number]> = [[9000, 0.05], [9020, 0]];
    const s = buildSample(line, mic, [{ at: 9990, prevAt: 9970, bytes: 10, producerId: 'p' }, { at: 10_015, prevAt: 9995, bytes: 20, producerId: 'p' }], 2000);
    expect(s.speechEnd).toBe(9570);
    expect(s.received).toBe(10_015);
    expect(s.e2eMs).toBe(445);
    expect(s.e2eFromMicMs).toBe(1015);
    expect(s.processingMs).toBe(135);
    expect(s.stages).toMatchObject({ vad: 570, network: 15, hops: 20 });
    expect(s.enginesMs).toBe(370);
    expect(s.overheadMs).toBe(75);
    expect(s.receivedResolutionMs).toBe(15);
  });
});
