/** JSON log lines (pino) of the gateway and AI worker child processes. */

export type LogLine = { time: number; msg: string; level: number } & Record<string, unknown>;

/** Every JSON line of `text` whose `msg` is `msg` (non-JSON lines are skipped). */
export function logLines(text: string, msg: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !line.includes(msg)) continue;
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (parsed.msg === msg) out.push(parsed);
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return out;
}

/**
 * The gateway's per-utterance timing line (src/ai/gateway/UtteranceTimings.ts). `time` is when its first
 * translated packet of the last words left (the line's `firstRtpOut`; older lines: the log time, written
 * at that moment).
 */
export type UtteranceLine = { utteranceId: string; language: string; time: number; ms: Record<string, number> };

export function utteranceLines(text: string): UtteranceLine[] {
  return logLines(text, 'utterance translated')
    .filter((l) => typeof l.utteranceId === 'string' && typeof l.ms === 'object' && l.ms !== null)
    .map((l) => ({ utteranceId: l.utteranceId as string, language: String(l.language), time: typeof l.firstRtpOut === 'number' ? l.firstRtpOut : l.time, ms: l.ms as Record<string, number> }));
}

/** The gateway's line for each segment of simultaneous translation whose voice started ('segment spoken'). */
export type SegmentLine = { utteranceId: string; language: string; time: number; segment: number; last: boolean; lagMs: number; backlogMs: number; rate: number };

export function segmentLines(text: string): SegmentLine[] {
  return logLines(text, 'segment spoken')
    .filter((l) => typeof l.utteranceId === 'string' && typeof l.lagMs === 'number')
    .map((l) => ({
      utteranceId: l.utteranceId as string,
      language: String(l.language),
      time: l.time,
      segment: Number(l.segment),
      last: l.last === true,
      lagMs: l.lagMs as number,
      backlogMs: Number(l.backlogMs),
      rate: Number(l.rate),
    }));
}

/** When each utterance's translated voice finished (its last 'part played' line), by utterance id. */
export function playedEnds(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of logLines(text, 'part played')) {
    if (typeof l.utteranceId !== 'string' || typeof l.endedAt !== 'number') continue;
    out.set(l.utteranceId, Math.max(out.get(l.utteranceId) ?? 0, l.endedAt));
  }
  return out;
}

/** An utterance the pipeline gave up on ('utterance dropped': the gateway's, or an AI worker's). */
export type DropLine = { utteranceId: string; stage: string; code: string; time: number };

export function dropLines(text: string): DropLine[] {
  return logLines(text, 'utterance dropped')
    .filter((l) => typeof l.utteranceId === 'string')
    .map((l) => ({ utteranceId: l.utteranceId as string, stage: String(l.stage ?? '?'), code: String(l.code ?? '?'), time: l.time }));
}

/**
 * Dropped utterances by error code, each utterance counted once per code however many processes logged it
 * (an AI worker logs its drop and the gateway logs it again when the result arrives; a translation dropped
 * sentence by sentence logs once per sentence).
 */
export function dropsByCode(lines: readonly DropLine[]): Record<string, number> {
  const seen = new Set<string>();
  const out: Record<string, number> = {};
  for (const l of lines) {
    const key = `${l.utteranceId}|${l.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out[l.code] = (out[l.code] ?? 0) + 1;
  }
  return out;
}

/** What an AI worker said it runs in its ready line (src/cli/aiWorker.ts), or null before it is ready. */
export function aiWorkerReady(text: string): { recognition: string; maxSessions: number } | null {
  const line = logLines(text, 'AI worker ready')[0];
  return line ? { recognition: String(line.recognition ?? '?'), maxSessions: Number(line.maxSessions ?? NaN) } : null;
}
