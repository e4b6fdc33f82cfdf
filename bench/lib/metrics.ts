/** Reading Prometheus text from a gateway's /metrics. */

/** The value of the first sample of `name` whose labels include `labels` (null when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return null;
}

/** CPU seconds of a replica: its mediasoup worker(s) and its Node process. */
export async function replicaCpu(url: string): Promise<{ worker: number; node: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let worker = 0;
  for (const line of text.split('\n')) if (line.startsWith('parley_worker_cpu_seconds{')) worker += Number(line.split(/\s+/).pop());
  return { worker, node: metricValue(text, 'parley_process_cpu_seconds_total') ?? NaN };
}
