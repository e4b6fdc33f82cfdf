/**
 * The bench's plots (Vega-Lite rendered headless by Vega) and its HTML pages, drawn from recorded
 * runs: tests/fixtures/bench/ holds runs of the committed results (raw samples left out, plot specs
 * rebuilt from them) and a pipe smoke run. Checks what a reader sees in the SVG text (series names,
 * category labels, axis titles and ticks, reference-line labels and where they sit) and what the
 * pages contain. No timings.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseYAxis, formatNumber, linearAxis, wantsLog } from '../bench/lib/charts/axes.js';
import { placeMarkLabels } from '../bench/lib/charts/markLabels.js';
import { renderSvg } from '../bench/lib/charts/render.js';
import { historyPlots, loadRuns } from '../bench/lib/history.js';
import { rerenderRuns } from '../bench/lib/rerender.js';
import { writeRun, type RunRecord } from '../bench/lib/report.js';
import type { PlotSpec, ScenarioResult } from '../bench/lib/types.js';
import { STAGE_ORDER } from '../bench/lib/utterances.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/bench/', import.meta.url));
const PIPELINE = 'pipeline-2026-12-06T20-43-48Z';
const HOSTILE = 'hostile-2026-11-23T17-48-24Z';
const CHAOS = 'chaos-2026-11-23T16-21-49Z';
const PIPE_SMOKE = 'pipe-2026-12-07T09-07-58Z';

const run = (stem: string) => JSON.parse(readFileSync(join(FIXTURES, `${stem}.json`), 'utf8')) as RunRecord;
function spec(stem: string, id: string): PlotSpec {
  const s = run(stem).plots.find((p) => p.id === id)?.spec;
  if (!s) throw new Error(`fixture ${stem} has no spec for plot ${id}`);
  return s;
}

const unescape = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

type SvgText = { text: string; x: number; y: number };
/** Every <text> of an SVG slice with its translate() position. */
function texts(svg: string): SvgText[] {
  return [...svg.matchAll(/<text\b[^>]*?transform="translate\(([-\d.e]+),([-\d.e]+)\)[^"]*"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ text: unescape(m[3]!), x: Number(m[1]), y: Number(m[2]) }));
}

/** The group of one axis ('X' or 'Y'): its scale type, title and tick labels. */
function axis(svg: string, which: 'X' | 'Y'): { scale: string; title: string; labels: string[] } {
  const start = svg.indexOf(`aria-label="${which}-axis titled`);
  expect(start, `${which} axis in the SVG`).toBeGreaterThan(-1);
  const next = svg.slice(start + 10).search(/aria-roledescription="(axis|legend)"|class="mark-group role-(axis|legend|title)"/);
  const group = svg.slice(start, next === -1 ? undefined : start + 10 + next);
  const scale = /for a (\w+) scale/.exec(group)?.[1] ?? '?';
  const labelGroup = /class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/s.exec(group)?.[1] ?? '';
  const titleGroup = /class="mark-text role-axis-title"[^>]*>(.*?)<\/g>/s.exec(group)?.[1] ?? '';
  return { scale, title: texts(titleGroup).map((t) => t.text).join(' '), labels: texts(labelGroup).map((t) => t.text) };
}

function legendLabels(svg: string): string[] {
  return [...svg.matchAll(/class="mark-text role-legend-label"[^>]*>(.*?)<\/g>/gs)].flatMap((m) => texts(m[1]!).map((t) => t.text));
}

const EXPONENT = /\de[+-]?\d/i;

/** Asserts `text` contains (or not) `needle`; a failure names the needle, not a page of HTML. */
function expectIn(text: string, needle: string | RegExp, present = true): void {
  const found = typeof needle === 'string' ? text.includes(needle) : needle.test(text);
  expect(found, `${present ? 'expected' : 'unexpected'}: ${String(needle)}`).toBe(present);
}

describe('plots drawn from recorded runs', () => {
  it('a bar plot names its categories on the x axis, its series in the legend, and its axes as the spec says', async () => {
    const stages = spec(PIPELINE, 'stages');
    const svg = await renderSvg(stages);
    expect(axis(svg, 'X').labels).toEqual([...STAGE_ORDER]);
    expect(axis(svg, 'X').title).toBe('stage');
    expect(axis(svg, 'Y').title).toBe('ms (p50)');
    expect(legendLabels(svg)).toEqual(['batch', 'consecutive', 'simultaneous']);
    expect(texts(svg).map((t) => t.text)).toContain(stages.title);

    // Every one of the twelve hostile categories keeps its label, even tilted to fit.
    const hostile = spec(HOSTILE, 'codes');
    expect(axis(await renderSvg(hostile), 'X').labels).toEqual(hostile.categories);

    // Without categories the x values themselves name the groups.
    const perSpeakers = await renderSvg(spec(PIPELINE, 'stages-simultaneous'));
    expect(axis(perSpeakers, 'X').labels).toEqual(['1', '2', '3', '4', '6']);
    expect(legendLabels(perSpeakers)).toEqual([...STAGE_ORDER]);
  });

  it('a count axis has integer ticks only, and numbers read as 15,000 or 2.5M, never 1.5e+4', async () => {
    const frames = axis(await renderSvg(spec(HOSTILE, 'codes')), 'Y');
    expect(frames.labels.length).toBeGreaterThan(2);
    for (const l of frames.labels) expect(l).toMatch(/^\d{1,3}(,\d{3})*$/);
    expect(frames.labels.some((l) => l.includes(','))).toBe(true);

    const small = await renderSvg({ id: 'n', title: 'Counts', kind: 'line', xLabel: 'round', yLabel: 'failures', series: [{ name: 'failures', points: [[1, 1], [2, 3], [3, 2]] }] });
    expect(axis(small, 'Y').labels).toEqual(['0', '1', '2', '3']);
    expect(axis(small, 'X').labels).toEqual(['1', '2', '3']);

    const big = await renderSvg({ id: 'b', title: 'Bytes', kind: 'line', xLabel: 's', yLabel: 'bytes', series: [{ name: 'sent', points: [[0, 15_000], [1, 2_500_000]] }], yScale: 'linear' });
    const bigLabels = axis(big, 'Y').labels;
    expect(bigLabels).toContain('2.5M');
    for (const t of texts(big)) expect(t.text).not.toMatch(EXPONENT);

    // The same for every plot of the recorded runs.
    for (const stem of [PIPELINE, HOSTILE, CHAOS, PIPE_SMOKE]) {
      for (const p of run(stem).plots) {
        const svg = await renderSvg(p.spec!);
        for (const t of [...axis(svg, 'X').labels, ...axis(svg, 'Y').labels]) expect(t, `${stem} ${p.id}`).not.toMatch(EXPONENT);
        expect(svg).not.toMatch(/NaN|Infinity/);
        expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* width="820" height="480"/);
        expect(svg).toMatch(/<rect width="820" height="480" fill="white"\/>/);
      }
    }
  });

  it('takes a log y scale where values span two decades or the spec asks, linear otherwise', async () => {
    // Median stage times from 2 to about 700 ms: log; the sweep's 500-6,000 ms: linear.
    expect(axis(await renderSvg(spec(PIPELINE, 'stages')), 'Y').scale).toBe('log');
    expect(axis(await renderSvg(spec(PIPELINE, 'sweep')), 'Y').scale).toBe('linear');
    const line = (yScale?: 'log' | 'linear'): PlotSpec => ({ id: 'l', title: 't', kind: 'line', xLabel: 'x', yLabel: 'ms', series: [{ name: 's', points: [[1, 3], [2, 40], [3, 900]] }], ...(yScale ? { yScale } : {}) });
    const log = axis(await renderSvg(line()), 'Y');
    expect(log.scale).toBe('log');
    expect(log.labels).toEqual(expect.arrayContaining(['1', '10', '100', '1,000']));
    expect(axis(await renderSvg(line('linear')), 'Y').scale).toBe('linear');
    expect(axis(await renderSvg({ ...line('log'), series: [{ name: 's', points: [[1, 30], [2, 40]] }] }), 'Y').scale).toBe('log');

    expect(wantsLog('line', [3, 40, 900])).toBe(true);
    expect(wantsLog('line', [300, 400, 9000])).toBe(false);
    expect(wantsLog('scatter', [-5, 40, 900])).toBe(false); // negative values: linear
    expect(wantsLog('bar', [0, 2, 900])).toBe(true); // an empty bar is no loss on a log scale
  });

  it('draws marks dashed, labelled beside the plot, close marks apart and clear of the legend', async () => {
    const plot: PlotSpec = {
      id: 'm',
      title: 'Stages against two close bounds',
      kind: 'bar',
      xLabel: 'stage',
      yLabel: 'ms',
      categories: ['uplink', 'endpoint', 'stt'],
      series: [{ name: 'p50', points: [[0, 45], [1, 260], [2, 22]] }, { name: 'p95', points: [[0, 80], [1, 300], [2, 60]] }],
      marks: [{ label: 'SLO p50', y: 500 }, { label: 'published figure', y: 505 }],
    };
    const svg = await renderSvg(plot);
    const all = texts(svg);
    const slo = all.find((t) => t.text === 'SLO p50 (500)');
    const published = all.find((t) => t.text === 'published figure (505)');
    expect(slo).toBeDefined();
    expect(published).toBeDefined();
    expect(Math.abs(slo!.y - published!.y)).toBeGreaterThanOrEqual(12);
    // Right of the plot area (the x axis' domain line ends at the plot's width).
    const plotWidth = Number(/class="mark-rule role-axis-domain"[^>]*><line transform="translate\(0,0\)" x2="([\d.]+)"/.exec(svg)?.[1]);
    expect(plotWidth).toBeGreaterThan(300);
    expect(slo!.x).toBeGreaterThan(plotWidth);
    // The legend sits under the plot, below every mark label.
    const legendY = Number(/class="mark-group role-legend"[^>]*><g transform="translate\([\d.]+,([\d.]+)\)/.exec(svg)?.[1]);
    expect(legendY).toBeGreaterThan(Math.max(slo!.y, published!.y) + 12);
    expect(legendLabels(svg)).toEqual(['p50', 'p95']);
    expect((svg.match(/stroke-dasharray="6,4"/g) ?? []).length).toBe(2);

    // The recorded sweep: its SLO lines labelled with their values.
    const sweep = texts(await renderSvg(spec(PIPELINE, 'sweep'))).map((t) => t.text);
    expect(sweep).toEqual(expect.arrayContaining(['SLO e2e_from_mic p50 (450)', 'SLO e2e_from_mic p95 (900)']));

    // The placement itself: identical values still get distinct rows, within the plot when they fit.
    const placed = placeMarkLabels([{ label: 'a', y: 10 }, { label: 'b', y: 10 }, { label: 'c', y: 0 }], (y) => 300 - y * 10, 300, 14);
    const rows = placed.map((p) => p.labelY).sort((a, b) => a - b);
    for (let i = 1; i < rows.length; i++) expect(rows[i]! - rows[i - 1]!).toBeGreaterThanOrEqual(14);
    expect(Math.max(...rows)).toBeLessThanOrEqual(300);
  });

  it('names the series and axes of line and scatter plots, and marks the zero line', async () => {
    const delay = await renderSvg(spec(PIPE_SMOKE, 'delay'));
    expect(legendLabels(delay)).toEqual(['same replica (control)', 'other replica (piped)']);
    expect(axis(delay, 'X').title).toBe('replicas in the room');
    // Points nudged +-0.08 around whole replica counts: whole ticks only.
    for (const l of axis(delay, 'X').labels) expect(l).toMatch(/^\d+$/);
    expect(texts(delay).map((t) => t.text)).toContain('no delay (0)');

    const cpu = await renderSvg(spec(PIPE_SMOKE, 'cpu'));
    expect(axis(cpu, 'X').labels).toEqual(['1 replica', '2 replicas']);

    const recovery = spec(CHAOS, 'recovery');
    const svg = await renderSvg(recovery);
    expect(legendLabels(svg)).toEqual(recovery.series.map((s) => s.name));
    expect(axis(svg, 'Y').title).toBe('ms');
    expect(texts(svg).map((t) => t.text)).toContain('recovery bound (20,000)');
  });

  it('escapes text and says "no data" for an empty plot', async () => {
    const svg = await renderSvg({ id: 'e', title: 'A & <B>', kind: 'line', xLabel: 'x', yLabel: 'y', series: [{ name: 'none', points: [] }] });
    expect(svg).toContain('A &amp; &lt;B&gt;');
    expect(texts(svg).map((t) => t.text)).toContain('no data');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('keeps axis helpers honest: integer steps on integer axes, readable numbers', () => {
    expect(linearAxis(0, 3, 6, true).ticks).toEqual([0, 1, 2, 3]);
    expect(linearAxis(0, 1.2, 6, false).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2]);
    const y = chooseYAxis({ id: 'c', title: '', kind: 'bar', xLabel: '', yLabel: '', series: [{ name: 's', points: [[0, 7], [1, 12]] }] }, 8);
    expect(y.integer).toBe(true);
    for (const t of y.ticks) expect(Number.isInteger(t)).toBe(true);
    expect(formatNumber(15000)).toBe('15,000');
    expect(formatNumber(2_500_000)).toBe('2.5M');
    expect(formatNumber(0.12345)).toBe('0.1235');
  });
});

describe('run pages and the index', () => {
  let dir: string;
  const smokeStem = 'pipeline-2026-12-07T00-00-00Z';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-bench-plots-'));
    for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) cpSync(join(FIXTURES, f), join(dir, f));
    // A smoke run with an absurd figure: the history must leave it out.
    const smoke = { ...run('pipeline-2026-12-06T21-50-31Z'), smoke: true, startedAt: '2026-12-07T00:00:00.000Z' };
    smoke.figures = { ...smoke.figures, e2e_from_mic_p50_ms: 987654 };
    writeFileSync(join(dir, `${smokeStem}.json`), JSON.stringify(smoke));
    await rerenderRuns([join(dir, `${PIPELINE}.json`), join(dir, `${HOSTILE}.json`), join(dir, `${PIPE_SMOKE}.json`)]);
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("re-renders a run's SVGs from the specs in its JSON and writes its page: summary, verdicts, figures, plots, notes, machine", () => {
    const r = run(PIPELINE);
    for (const p of r.plots) expect(readFileSync(join(dir, `${PIPELINE}-${p.id}.svg`), 'utf8')).toMatch(/^<svg xmlns=/);
    const html = readFileSync(join(dir, `${PIPELINE}.html`), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expectIn(html, '<h2>Summary</h2>');
    for (const col of Object.keys(r.summary[0]!)) expectIn(html, `<th>${col.replace(/&/g, '&amp;')}</th>`);
    for (const v of r.slo) {
      const cls = v.verdict === 'no data' ? 'nodata' : v.verdict;
      expectIn(html, new RegExp(`<tr class="${cls}"><td class="verdict">${v.verdict.toUpperCase()}</td><td>${v.figure} `));
    }
    expectIn(html, '<h2>Figures</h2>');
    expect((html.match(/<svg xmlns=/g) ?? []).length).toBe(r.plots.length);
    for (const n of r.notes.slice(0, 3)) expectIn(html, n.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
    expectIn(html, r.machine.cpuModel);
    expectIn(html, `${r.loadAverageAtStart.join(' / ')} at start`);
    expectIn(html, /<script/i, false);
    expect(readFileSync(join(dir, `${PIPELINE}.md`), 'utf8')).toContain(`](${PIPELINE}-sweep.svg)`);
  });

  it('the index shows every scenario\'s latest run and the history of its headline figures, smoke runs left out', () => {
    const index = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const name of ['chaos', 'hostile', 'pipe', 'pipeline']) expectIn(index, `id="scenario-${name}"`);
    // Latest pipeline run = the smoke copy (newest), its verdicts and summary.
    expectIn(index, `href="${smokeStem}.md"`);
    expectIn(index, /<tr class="fail"><td class="verdict">FAIL<\/td><td>e2e_from_mic_p50_ms &lt;= 450<\/td><td class="num">863<\/td><\/tr>/);
    // The hostile run's plot linked, its page linked.
    expectIn(index, `src="${HOSTILE}-codes.svg"`);
    expectIn(index, `href="${HOSTILE}.html"`);
    // History: one plot per headline figure, every full run's value (the smoke run's left out).
    const title = 'pipeline: e2e_from_mic_p50_ms, per run (4 of 4 full runs have it)';
    expectIn(index, title);
    const start = index.indexOf(title);
    const historySvg = index.slice(index.lastIndexOf('<svg', start), index.indexOf('</svg>', start));
    expect(axis(historySvg, 'X').title).toBe('run start (UTC)');
    expect(axis(historySvg, 'X').scale).toBe('utc');
    expect(texts(historySvg).map((t) => t.text)).toContain('SLO max (450)');
    expectIn(historySvg, '987,654', false);
    expect(Math.max(...axis(historySvg, 'Y').labels.map((l) => Number(l.replace(/,/g, ''))))).toBeLessThanOrEqual(10_000);
    // A scenario with only a smoke run has no history.
    const pipeSection = index.slice(index.indexOf('id="scenario-pipe"'), index.indexOf('id="scenario-pipeline"'));
    expectIn(pipeSection, 'No headline figure (no SLO) or no full run');
    expectIn(pipeSection, '<svg', false);
  });

  it('history plots come from the runs kept in the folder', async () => {
    const runs = await loadRuns(dir);
    const plots = historyPlots('pipeline', runs);
    expect(plots.map((p) => p.id)).toContain('history-e2e_from_mic_p50_ms');
    const e2e = plots.find((p) => p.id === 'history-e2e_from_mic_p50_ms')!;
    expect(e2e.series[0]!.points.map(([, y]) => y)).toEqual([9824, 889, 748, 863]);
    expect(e2e.marks).toEqual([{ label: 'SLO max', y: 450 }]);
  });
});

describe('writeRun', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-bench-write-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps each PlotSpec in the JSON, writes the page and latest/ copies, and regenerates both index pages', async () => {
    const base = run(HOSTILE);
    const plots: PlotSpec[] = [{ id: 'codes', title: 'Frames <per> category', kind: 'bar', xLabel: 'category', yLabel: 'frames', categories: ['a', 'b'], series: [{ name: 'sent', points: [[0, 3], [1, 5]] }], marks: [{ label: 'limit', y: 4 }] }];
    const result: ScenarioResult = { summary: base.summary, figures: base.figures, samples: null, plots, notes: ['a note with <script>alert(1)</script>'] };
    const record: RunRecord = { ...base, notes: result.notes, plots: [], startedAt: '2026-12-07T10:00:00.000Z', smoke: false };
    const files = await writeRun(dir, record, result);

    const stem = 'hostile-2026-12-07T10-00-00Z';
    expect(files.json).toBe(join(dir, `${stem}.json`));
    const saved = JSON.parse(readFileSync(files.json, 'utf8')) as RunRecord;
    expect(saved.plots).toEqual([{ id: 'codes', title: 'Frames <per> category', file: `${stem}-codes.svg`, spec: plots[0] }]);
    // The SVG written is the one the recorded spec draws again.
    expect(readFileSync(join(dir, `${stem}-codes.svg`), 'utf8')).toBe(await renderSvg(saved.plots[0]!.spec!));

    const html = readFileSync(files.html, 'utf8');
    expect(files.html).toBe(join(dir, `${stem}.html`));
    expectIn(html, 'a note with &lt;script&gt;alert(1)&lt;/script&gt;');
    expectIn(html, /<script/i, false);
    expectIn(html, 'Frames &lt;per&gt; category');

    for (const f of ['hostile.json', 'hostile.md', 'hostile.html', 'hostile-codes.svg', 'index.html']) expect(existsSync(join(dir, 'latest', f)), f).toBe(true);
    expect(files.indexes).toEqual([join(dir, 'index.html'), join(dir, 'latest', 'index.html')]);
    const latestIndex = readFileSync(join(dir, 'latest', 'index.html'), 'utf8');
    expectIn(latestIndex, 'src="hostile-codes.svg"');
    expectIn(latestIndex, 'href="hostile.html"');
    expectIn(latestIndex, 'hostile: invariant_failures, per run (1 of 1 full runs have it)');

    // Drawing the run again refreshes its latest/ copies too (it is the run latest/ holds).
    rmSync(join(dir, 'latest', 'hostile.html'));
    rmSync(join(dir, 'latest', 'hostile-codes.svg'));
    const again = await rerenderRuns([files.json]);
    expect(again.runs.map((r) => r.html)).toEqual([files.html, join(dir, 'latest', 'hostile.html')]);
    expect(readFileSync(join(dir, 'latest', 'hostile-codes.svg'), 'utf8')).toBe(readFileSync(join(dir, `${stem}-codes.svg`), 'utf8'));
    expect(again.indexes).toEqual(files.indexes);
  });
});
