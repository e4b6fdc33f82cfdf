/**
 * Receive-side statistics of one RTP stream, as RFC 3550 defines them:
 * loss from the extended highest sequence number (appendix A.3) and the
 * interarrival jitter estimate J += (|D| - J) / 16 (section 6.4.1, appendix A.8).
 */

export type RtpStatsSnapshot = {
  received: number;
  /** Packets expected from the first to the highest sequence number seen. */
  expected: number;
  /** expected - received (never negative; duplicates do not hide loss). */
  lost: number;
  duplicates: number;
  /** lost / expected, 0..1. */
  lossRatio: number;
  /** Interarrival jitter in ms (RFC 3550 estimator, converted from clock units). */
  jitterMs: number;
  /** Highest interarrival jitter seen since the last reset. */
  maxJitterMs: number;
  /** Arrival time of the first packet (ms, the clock passed to `onPacket`). */
  firstArrivalMs: number | null;
};

export class RtpStats {
  readonly clockRate: number;
  #baseSeq = -1;
  #maxSeq = 0;
  #cycles = 0;
  #received = 0;
  #duplicates = 0;
  #seen = new Uint8Array(65536);
  #jitter = 0;
  #maxJitter = 0;
  #lastTransit: number | null = null;
  #firstArrivalMs: number | null = null;

  constructor(clockRate = 48000) {
    if (!(clockRate > 0)) throw new TypeError(`clockRate must be > 0, got ${clockRate}`);
    this.clockRate = clockRate;
  }

  /** One packet: its sequence number, RTP timestamp and arrival time in ms. */
  onPacket(seq: number, timestamp: number, arrivalMs: number): void {
    if (this.#baseSeq < 0) {
      this.#baseSeq = seq;
      this.#maxSeq = seq;
      this.#firstArrivalMs = arrivalMs;
    } else {
      const delta = (seq - this.#maxSeq) & 0xffff;
      if (delta !== 0 && delta < 0x8000) {
        if (seq < this.#maxSeq) {
          this.#cycles += 1;
          // A new cycle: marks of the previous cycle for sequence numbers not yet reused no longer apply.
          this.#seen.fill(0, seq + 1);
          this.#seen.fill(0, 0, seq);
        }
        this.#maxSeq = seq;
      }
    }
    if (this.#seen[seq]) {
      this.#duplicates += 1;
      return;
    }
    this.#seen[seq] = 1;
    this.#received += 1;
    const arrival = (arrivalMs * this.clockRate) / 1000;
    const transit = arrival - (timestamp >>> 0);
    if (this.#lastTransit !== null) {
      let d = transit - this.#lastTransit;
      // RTP timestamps wrap at 2^32: bring D back into range.
      if (d > 2 ** 31) d -= 2 ** 32;
      else if (d < -(2 ** 31)) d += 2 ** 32;
      this.#jitter += (Math.abs(d) - this.#jitter) / 16;
      this.#maxJitter = Math.max(this.#maxJitter, this.#jitter);
    }
    this.#lastTransit = transit;
  }

  /** Starts a new measurement window (after warm-up): counts restart from the next packet. */
  reset(): void {
    this.#baseSeq = -1;
    this.#cycles = 0;
    this.#received = 0;
    this.#duplicates = 0;
    this.#seen.fill(0);
    this.#maxJitter = this.#jitter;
  }

  snapshot(): RtpStatsSnapshot {
    const expected = this.#baseSeq < 0 ? 0 : this.#cycles * 65536 + this.#maxSeq - this.#baseSeq + 1;
    const lost = Math.max(0, expected - this.#received);
    const toMs = 1000 / this.clockRate;
    return {
      received: this.#received,
      expected,
      lost,
      duplicates: this.#duplicates,
      lossRatio: expected > 0 ? lost / expected : 0,
      jitterMs: this.#jitter * toMs,
      maxJitterMs: this.#maxJitter * toMs,
      firstArrivalMs: this.#firstArrivalMs,
    };
  }
}

/** Sums several streams' snapshots: loss over all expected packets, jitter as the worst stream's. */
export function combineStats(snapshots: RtpStatsSnapshot[]): Pick<RtpStatsSnapshot, 'received' | 'expected' | 'lost' | 'lossRatio' | 'jitterMs' | 'maxJitterMs'> {
  const received = snapshots.reduce((n, s) => n + s.received, 0);
  const expected = snapshots.reduce((n, s) => n + s.expected, 0);
  const lost = snapshots.reduce((n, s) => n + s.lost, 0);
  return {
    received,
    expected,
    lost,
    lossRatio: expected > 0 ? lost / expected : 0,
    jitterMs: Math.max(0, ...snapshots.map((s) => s.jitterMs)),
    maxJitterMs: Math.max(0, ...snapshots.map((s) => s.maxJitterMs)),
  };
}
