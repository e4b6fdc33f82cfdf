/**
 * CPU time of processes from /proc (Linux): used to report the SFU's own CPU
 * (mediasoup worker, gateway, Janus) apart from the load clients'.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** utime + stime of `pid` (all its threads) in seconds; NaN when the process is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Direct children of `pid` whose command name starts with `comm` (any when omitted). */
export function childPids(pid: number, comm?: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && (!comm || name.startsWith(comm))) out.push(Number(entry));
    } catch {
      // the process ended while listing
    }
  }
  return out;
}

/** Every process whose command name starts with `comm` (e.g. 'chrom' for Chromium's). */
export function pidsByName(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith(comm)) out.push(Number(entry));
    } catch {
      // the process ended while listing
    }
  }
  return out;
}

/** CPU use over a window, in percent of one core: from /proc here (CpuMeter), or a deployment's /metrics. */
export type CpuGauge = { start(): void | Promise<void>; percent(): number | Promise<number> };

/** Measures CPU use of a set of processes over a window, in percent of one core. */
export class CpuMeter implements CpuGauge {
  readonly #pids: number[];
  #startCpu = 0;
  #startAt = 0;

  constructor(pids: number[]) {
    this.#pids = pids;
  }

  start(): void {
    this.#startCpu = this.#total();
    this.#startAt = performance.now();
  }

  /** Percent of one core used since `start()` (200 = both cores of a 2-core machine). */
  percent(): number {
    const seconds = (performance.now() - this.#startAt) / 1000;
    return seconds > 0 ? ((this.#total() - this.#startCpu) / seconds) * 100 : Number.NaN;
  }

  #total(): number {
    return this.#pids.reduce((n, pid) => n + (cpuSeconds(pid) || 0), 0);
  }
}
