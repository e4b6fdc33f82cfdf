/** Reading a gateway's /metrics (Prometheus text, parsed by ../clients/prometheus.ts). */
import { parsePrometheus, sumOf } from '../clients/prometheus.js';

/** The value of the first sample of `name` whose labels include `labels` (null when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  const sample = parsePrometheus(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return sample ? sample.value : null;
}

/** CPU seconds of a replica: its mediasoup worker(s) and its Node process. */
export async function replicaCpu(url: string): Promise<{ worker: number; node: number }> {
  const samples = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
  return { worker: sumOf(samples, 'parley_worker_cpu_seconds') ?? 0, node: sumOf(samples, 'parley_process_cpu_seconds_total') ?? NaN };
}
