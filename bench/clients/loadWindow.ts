/**
 * One measurement window of a load step: reset the receivers' counters after
 * warm-up, run the window while metering the SFU's and the clients' CPU, then
 * fold every stream's loss and jitter into one row.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../lib/stats.js';
import type { ClientPool } from './ClientPool.js';
import { FRAME_MS } from './opusSource.js';
import { CpuMeter, type CpuGauge } from './procCpu.js';

export type WindowResult = {
  /** Streams the subscribers asked for (consumers on the SFU). */
  consumers: number;
  /** Streams that delivered at least one packet in the window. */
  streamsReceiving: number;
  expected: number;
  lost: number;
  /** Lost / expected over all streams, percent; a silent stream counts as fully lost. */
  lossPct: number;
  jitterP50Ms: number;
  jitterP95Ms: number;
  jitterMaxMs: number;
  /** Percent of one core over the window; NaN when not measured (a deployment whose /metrics is not readable). */
  sfuCpuPct: number;
  /** CPU of the `otherPids` passed in (e.g. the gateways beside their mediasoup workers), percent of one core. */
  otherCpuPct: number;
  clientCpuPct: number;
  /** Client pacer ticks that fired more than one frame late (senders could not keep 50 packets/s). */
  lateTicks: number;
  windowMs: number;
  /** 1-minute load average at the end of the window (the machine's other work shows here). */
  loadAverage: number;
  /** Linux CPU pressure (PSI "some" avg10, %): share of time some runnable task waited for a CPU; NaN where unavailable. */
  cpuPressurePct: number;
};

function cpuPressure(): number {
  try {
    const m = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** `sfu`: the SFU processes' pids on this machine, or a gauge that reads the SFU's CPU elsewhere. */
export async function measureWindow(pool: ClientPool, sfuCpu: number[] | CpuGauge, warmupMs: number, windowMs: number, signal?: AbortSignal, otherPids: number[] = []): Promise<WindowResult> {
  await sleep(warmupMs, undefined, { signal });
  await pool.reset();
  const sfu = Array.isArray(sfuCpu) ? new CpuMeter(sfuCpu) : sfuCpu;
  const other = new CpuMeter(otherPids);
  const clients = pool.cpuMeter();
  await sfu.start();
  other.start();
  clients.start();
  const began = performance.now();
  await sleep(windowMs, undefined, { signal });
  const stats = await pool.stats();
  const elapsed = performance.now() - began;
  const sfuCpuPct = await sfu.percent();
  const otherCpuPct = otherPids.length ? other.percent() : 0;
  const clientCpuPct = clients.percent();
  const streams = stats.flatMap((s) => s.streams).filter((s) => s.expected > 0);
  const consumers = stats.reduce((n, s) => n + s.expectedStreams, 0);
  const silent = Math.max(0, consumers - streams.length);
  const perStream = Math.round(elapsed / FRAME_MS);
  const expected = streams.reduce((n, s) => n + s.expected, 0) + silent * perStream;
  const lost = streams.reduce((n, s) => n + s.lost, 0) + silent * perStream;
  const jitters = streams.map((s) => s.jitterMs);
  return {
    consumers,
    streamsReceiving: streams.length,
    expected,
    lost,
    lossPct: expected > 0 ? (lost / expected) * 100 : 0,
    jitterP50Ms: jitters.length ? percentile(jitters, 50) : Number.NaN,
    jitterP95Ms: jitters.length ? percentile(jitters, 95) : Number.NaN,
    jitterMaxMs: jitters.length ? Math.max(...jitters) : Number.NaN,
    sfuCpuPct,
    otherCpuPct,
    clientCpuPct,
    lateTicks: stats.reduce((n, s) => n + s.lateTicks, 0),
    windowMs: Math.round(elapsed),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    cpuPressurePct: cpuPressure(),
  };
}
