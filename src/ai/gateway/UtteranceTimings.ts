import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../logger.js';
import type { TimingMarks } from '../types.js';

const BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.51, 0.75, 1, 1.5, 2, 3, 5, 8, 13];

/**
 * The stages an utterance is timed over, as [name, from mark, to mark]. Recognition streams while the
 * speaker talks, so its stage is the final's own time after the endpoint; `endpoint` is the silence the
 * VAD waited for after the last voiced audio.
 */
const STAGES: ReadonlyArray<readonly [string, keyof TimingMarks, keyof TimingMarks]> = [
  ['endpoint', 'lastVoiced', 'speechEnd'],
  ['stt', 'speechEnd', 'sttDone'],
  ['translate', 'translateStart', 'translateDone'],
  ['tts', 'ttsStart', 'ttsFirstAudio'],
  ['playout', 'ttsFirstAudio', 'firstRtpOut'],
];

/**
 * Per-utterance latency of the speech-translation path, as prom-client
 * histograms (per stage, end to end, and the "processing" span from the final
 * transcript to the first translated packet, which is how the previous
 * system's 510 ms was measured) and one log line per utterance.
 */
export class UtteranceTimings {
  readonly #stage: Histogram<'stage'>;
  readonly #endToEnd: Histogram<'language'>;
  readonly #processing: Histogram<'language'>;
  readonly #dropped: Counter<'stage' | 'code'>;
  readonly #lag: Histogram<'language'>;
  readonly #backlog: Histogram<'language'>;
  readonly #rate: Histogram<'language'>;
  readonly #log: Logger;

  constructor(registry: Registry, log: Logger) {
    this.#log = log.child({ module: 'utterance-timings' });
    this.#stage = new Histogram({ name: 'parley_ai_stage_seconds', help: 'Time spent per stage of the translation path', labelNames: ['stage'], buckets: BUCKETS, registers: [registry] });
    this.#endToEnd = new Histogram({
      name: 'parley_ai_end_to_end_seconds',
      help: 'End of speech (VAD) to the first translated RTP packet sent into the room',
      labelNames: ['language'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.#processing = new Histogram({
      name: 'parley_ai_processing_seconds',
      help: 'Final transcript to the first translated RTP packet (the span the previous system reported as 510 ms)',
      labelNames: ['language'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.#lag = new Histogram({
      name: 'parley_ai_segment_lag_seconds',
      help: 'Simultaneous translation: end of a segment\'s source words (as first heard) to its first translated RTP packet',
      labelNames: ['language'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.#backlog = new Histogram({ name: 'parley_ai_playout_backlog_seconds', help: 'Translated speech still to play ahead of a segment when it arrived at its voice (at normal speed)', labelNames: ['language'], buckets: [0, ...BUCKETS], registers: [registry] });
    this.#rate = new Histogram({ name: 'parley_ai_playout_rate', help: 'Speaking rate a segment is played at (1 = as synthesized)', labelNames: ['language'], buckets: [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 2, 3], registers: [registry] });
    this.#dropped = new Counter({ name: 'parley_ai_dropped_total', help: 'Utterances dropped, by stage and error code', labelNames: ['stage', 'code'], registers: [registry] });
  }

  /** Records a delivered translation whose marks are complete up to firstRtpOut. */
  delivered(utteranceId: string, language: string, marks: TimingMarks): void {
    const spans: Record<string, number> = {};
    for (const [name, from, to] of STAGES) {
      const a = marks[from];
      const b = marks[to];
      if (a === undefined || b === undefined) continue;
      spans[name] = b - a;
      this.#stage.observe({ stage: name }, (b - a) / 1000);
    }
    if (marks.firstRtpOut !== undefined) {
      const e2e = marks.firstRtpOut - marks.speechEnd;
      this.#endToEnd.observe({ language }, e2e / 1000);
      spans.endToEnd = e2e;
      if (marks.sttDone !== undefined) {
        spans.processing = marks.firstRtpOut - marks.sttDone;
        this.#processing.observe({ language }, spans.processing / 1000);
      }
    }
    this.#log.info({ utteranceId, language, ms: spans, firstRtpOut: marks.firstRtpOut }, 'utterance translated');
  }

  /**
   * A segment of simultaneous translation started playing. Its lag runs from its source words' end (for the
   * last segment the last voiced audio; before, when the recognizer first heard the segment's last word as
   * it stayed: the arrival of that chunk at the gateway) to its first packet out.
   */
  segment(utteranceId: string, language: string, s: { index: number; last: boolean; marks: TimingMarks; rate: number; backlogMs: number }): void {
    const sourceEnd = s.last ? (s.marks.lastVoiced ?? s.marks.speechEnd) : s.marks.speechEnd;
    const lagMs = (s.marks.firstRtpOut ?? Date.now()) - sourceEnd;
    this.#lag.observe({ language }, lagMs / 1000);
    this.#backlog.observe({ language }, s.backlogMs / 1000);
    this.#rate.observe({ language }, s.rate);
    this.#log.info({ utteranceId, language, segment: s.index, last: s.last, lagMs, backlogMs: Math.round(s.backlogMs), rate: Math.round(s.rate * 100) / 100 }, 'segment spoken');
  }

  /** A part of a translation finished playing (its last frame left): the utterance's last part ends it. */
  played(utteranceId: string, language: string, endedAt: number): void {
    this.#log.info({ utteranceId, language, endedAt }, 'part played');
  }

  dropped(stage: string, code: string, reason: string, utteranceId: string): void {
    this.#dropped.inc({ stage, code });
    this.#log.warn({ utteranceId, stage, code, reason }, 'utterance dropped');
  }
}
