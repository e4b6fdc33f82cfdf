/**
 * One sample of the cluster's resource use for the soak: per replica (its /metrics:
 * resident memory, heap, handles, peers, transports, pipes, translation latency
 * counters), the mediasoup workers' and AI workers' resident memory from /proc,
 * and Redis's memory and key count.
 */
import { readFileSync } from 'node:fs';
import { metricValue } from '../../lib/metrics.js';
import { mediasoupWorkerPids, type Cluster } from './cluster.js';

export type ReplicaSample = {
  replicaId: string;
  rssMb: number;
  heapMb: number;
  handles: number;
  peers: number;
  transports: number;
  producers: number;
  consumers: number;
  pipes: number;
  /** Mediasoup worker(s) resident memory (MB). */
  workerRssMb: number;
  /** Cumulative end-to-end translation latency (s) and count, summed over languages. */
  e2eSum: number;
  e2eCount: number;
  dropped: number;
};

export type Sample = {
  /** Seconds since the soak began. */
  t: number;
  replicas: ReplicaSample[];
  aiRssMb: number;
  redisMb: number;
  redisKeys: number;
};

const MB = 1024 * 1024;

/** Sum of every series of `name` (all label sets). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

/** Resident memory of a process (MB), from /proc; NaN when it is gone. */
export function rssMb(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export async function takeSample(cluster: Cluster, t: number): Promise<Sample> {
  const replicas = await Promise.all(
    cluster.replicas.map(async (r): Promise<ReplicaSample> => {
      const text = await (await fetch(`${r.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      const v = (name: string) => metricValue(text, name) ?? Number.NaN;
      return {
        replicaId: r.replicaId,
        rssMb: v('parley_process_resident_memory_bytes') / MB,
        heapMb: v('parley_nodejs_heap_size_used_bytes') / MB,
        handles: v('parley_nodejs_active_handles_total'),
        peers: v('parley_peers'),
        transports: v('parley_transports'),
        producers: v('parley_producers'),
        consumers: v('parley_consumers'),
        pipes: v('parley_pipes_open'),
        workerRssMb: mediasoupWorkerPids(r).reduce((s, pid) => s + rssMb(pid), 0),
        e2eSum: metricSum(text, 'parley_ai_end_to_end_seconds_sum'),
        e2eCount: metricSum(text, 'parley_ai_end_to_end_seconds_count'),
        dropped: metricSum(text, 'parley_ai_dropped_total'),
      };
    }),
  );
  const info = await cluster.admin.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  return {
    t,
    replicas,
    aiRssMb: cluster.aiWorkers.reduce((s, w) => s + rssMb(w.child.pid), 0),
    redisMb: used / MB,
    redisKeys: await cluster.admin.dbsize(),
  };
}

/** Redis keys grouped by family (the key up to its third ":"-separated part, ids cut), largest first. */
export async function keyFamilies(cluster: Cluster): Promise<Array<{ family: string; keys: number }>> {
  const counts = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, batch] = await cluster.admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      const family = key.split(':').slice(0, 3).join(':').replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/g, '<id>').replace(/^(.*:)(res|stt|tr|tts|part)-.*$/, '$1$2-<job>');
      counts.set(family, (counts.get(family) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return [...counts].map(([family, keys]) => ({ family, keys })).sort((a, b) => b.keys - a.keys);
}
