/**
 * A deployment's own figures, read from its gateways' /metrics (with the operator's bearer token):
 * the mediasoup workers' CPU time (the SFU CPU of a remote capacity run), the join counter, and the
 * histograms of the speech-translation path's stages. Only read when the target names a metrics
 * token; a gateway that refuses or does not answer gives a reason instead of figures.
 */
import type { RemoteTarget } from '../lib/types.js';
import type { CpuGauge } from './procCpu.js';
import { histogramDelta, histogramOf, parsePrometheus, sumOf, type Histogram, type MetricSample } from './prometheus.js';

export type Scrape = { ok: true; samples: MetricSample[] } | { ok: false; reason: string };

/** One scrape of `${url}/metrics`; not attempted without a metrics token (RemoteTarget.metricsToken null). */
export async function scrapeMetrics(target: RemoteTarget, url: string, timeoutMs = 10_000): Promise<Scrape> {
  if (target.metricsToken === null) return { ok: false, reason: 'no --metrics-token given' };
  try {
    const res = await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${target.metricsToken}` }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, reason: `${url}/metrics answered HTTP ${res.status}` };
    return { ok: true, samples: parsePrometheus(await res.text()) };
  } catch (err) {
    return { ok: false, reason: `${url}/metrics could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Scrapes of every URL; null with the first reason when one of them is not readable. */
export async function scrapeAll(target: RemoteTarget, urls: readonly string[]): Promise<{ samples: MetricSample[][] } | { reason: string }> {
  const scrapes = await Promise.all(urls.map((u) => scrapeMetrics(target, u)));
  const failed = scrapes.find((s): s is Extract<Scrape, { ok: false }> => !s.ok);
  return failed ? { reason: failed.reason } : { samples: scrapes.map((s) => (s as Extract<Scrape, { ok: true }>).samples) };
}

/** New joins a gateway counted since it started (`parley_joins_total{kind="new"}`); null when not readable. */
export async function joinsCounted(target: RemoteTarget, url: string): Promise<number | null> {
  const s = await scrapeMetrics(target, url);
  return s.ok ? (sumOf(s.samples, 'parley_joins_total', { kind: 'new' }) ?? 0) : null;
}

/**
 * CPU of the mediasoup workers of the gateways at `urls`, from their `parley_worker_cpu_seconds` gauges,
 * in percent of one core over the window from `start()` to `percent()`; NaN when a scrape failed.
 */
export class MetricsCpuMeter implements CpuGauge {
  readonly #target: RemoteTarget;
  readonly #urls: readonly string[];
  #start: { cpu: number; at: number } | null = null;
  /** Why the last reading failed, for the notes. */
  reason: string | null = null;

  constructor(target: RemoteTarget, urls: readonly string[]) {
    this.#target = target;
    this.#urls = urls;
  }

  async start(): Promise<void> {
    const cpu = await this.#cpuSeconds();
    this.#start = cpu === null ? null : { cpu, at: performance.now() };
  }

  async percent(): Promise<number> {
    const cpu = await this.#cpuSeconds();
    if (cpu === null || this.#start === null) return Number.NaN;
    const seconds = (performance.now() - this.#start.at) / 1000;
    return seconds > 0 ? ((cpu - this.#start.cpu) / seconds) * 100 : Number.NaN;
  }

  async #cpuSeconds(): Promise<number | null> {
    const scrapes = await scrapeAll(this.#target, this.#urls);
    if ('reason' in scrapes) {
      this.reason = scrapes.reason;
      return null;
    }
    let total = 0;
    for (const s of scrapes.samples) {
      const cpu = sumOf(s, 'parley_worker_cpu_seconds');
      if (cpu === null) {
        this.reason = "the gateways' /metrics have no parley_worker_cpu_seconds";
        return null;
      }
      total += cpu;
    }
    return total;
  }
}

/** The spans of the speech-translation path the gateways export, by the figure name the bench gives them. */
export const AI_SPANS: ReadonlyArray<{ figure: string; metric: string; labels: Record<string, string>; what: string }> = [
  { figure: 'endpoint', metric: 'parley_ai_stage_seconds', labels: { stage: 'endpoint' }, what: 'last voiced audio -> the VAD\'s endpoint (the silence waited)' },
  { figure: 'stt', metric: 'parley_ai_stage_seconds', labels: { stage: 'stt' }, what: 'endpoint -> final transcript' },
  { figure: 'translate', metric: 'parley_ai_stage_seconds', labels: { stage: 'translate' }, what: 'translate job taken -> translation' },
  { figure: 'tts', metric: 'parley_ai_stage_seconds', labels: { stage: 'tts' }, what: 'TTS job taken -> first synthesized audio' },
  { figure: 'playout', metric: 'parley_ai_stage_seconds', labels: { stage: 'playout' }, what: 'first synthesized audio -> first translated packet sent' },
  { figure: 'e2e_sent', metric: 'parley_ai_end_to_end_seconds', labels: {}, what: 'endpoint -> first translated packet sent' },
  { figure: 'processing_sent', metric: 'parley_ai_processing_seconds', labels: {}, what: 'final transcript -> first translated packet sent' },
  { figure: 'segment_lag', metric: 'parley_ai_segment_lag_seconds', labels: {}, what: 'simultaneous: end of a segment\'s source words -> its first translated packet sent' },
];

export type AiSpans = Record<string, Histogram | null>;

/** The AI span histograms of one scrape per gateway, summed over the gateways. */
export function aiSpans(scrapes: readonly MetricSample[][]): AiSpans {
  const out: AiSpans = {};
  for (const span of AI_SPANS) {
    const hs = scrapes.map((s) => histogramOf(s, span.metric, span.labels)).filter((h): h is Histogram => h !== null);
    out[span.figure] = hs.length ? hs.reduce((a, b) => ({ buckets: a.buckets.map(([le, n], i) => [le, n + (b.buckets[i]?.[1] ?? 0)] as [number, number]), sum: a.sum + b.sum, count: a.count + b.count })) : null;
  }
  return out;
}

/** What each span observed between two readings. */
export function aiSpansDelta(before: AiSpans, after: AiSpans): AiSpans {
  return Object.fromEntries(Object.entries(after).map(([k, h]) => [k, h ? histogramDelta(before[k] ?? null, h) : null]));
}

/** Utterances the gateways dropped (`parley_ai_dropped_total`), summed. */
export function aiDropped(scrapes: readonly MetricSample[][]): number {
  return scrapes.reduce((n, s) => n + (sumOf(s, 'parley_ai_dropped_total') ?? 0), 0);
}
