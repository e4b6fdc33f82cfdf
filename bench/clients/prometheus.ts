/**
 * The Prometheus text format a gateway's /metrics answers (prom-client), read back: samples with
 * their labels, sums over a metric, and histograms, whose change between two scrapes gives the
 * distribution of what happened in between (quantiles interpolated inside buckets, as PromQL's
 * histogram_quantile does).
 */

export type MetricSample = { name: string; labels: Record<string, string>; value: number };

/** A histogram's cumulative bucket counts (upper bound -> observations at or below it), sum and count. */
export type Histogram = { buckets: Array<[number, number]>; sum: number; count: number };

const LINE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of a scrape; comments and lines that do not parse are skipped. */
export function parsePrometheus(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (!Number.isNaN(value) || m[3] === 'NaN') out.push({ name: m[1]!, labels, value });
  }
  return out;
}

const matches = (s: MetricSample, name: string, labels: Record<string, string>) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** Sum of every sample of `name` whose labels include `labels`; null when there is none. */
export function sumOf(samples: readonly MetricSample[], name: string, labels: Record<string, string> = {}): number | null {
  const mine = samples.filter((s) => matches(s, name, labels));
  return mine.length ? mine.reduce((n, s) => n + s.value, 0) : null;
}

/** The histogram `name` summed over every label set that includes `labels`; null when absent. */
export function histogramOf(samples: readonly MetricSample[], name: string, labels: Record<string, string> = {}): Histogram | null {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${name}_bucket`, labels) || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const count = sumOf(samples, `${name}_count`, labels);
  if (buckets.size === 0 || count === null) return null;
  return { buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]), sum: sumOf(samples, `${name}_sum`, labels) ?? 0, count };
}

/** What was observed between two scrapes (`before` null: everything since the process started). */
export function histogramDelta(before: Histogram | null, after: Histogram): Histogram {
  const was = new Map(before?.buckets ?? []);
  return {
    buckets: after.buckets.map(([le, n]) => [le, Math.max(0, n - (was.get(le) ?? 0))] as [number, number]),
    sum: after.sum - (before?.sum ?? 0),
    count: Math.max(0, after.count - (before?.count ?? 0)),
  };
}

/**
 * The q-quantile (0..1) of a histogram, linear inside the bucket it falls in (histogram_quantile);
 * a quantile in the +Inf bucket is the highest finite bound. NaN when nothing was observed.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new TypeError(`histogramQuantile: q must be within 0..1, got ${q}`);
  const total = h.buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, n] of h.buckets) {
    if (n >= rank) {
      if (le === Infinity) return lowerBound;
      return n === lowerCount ? le : lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (n - lowerCount);
    }
    if (le !== Infinity) lowerBound = le;
    lowerCount = n;
  }
  return lowerBound;
}
