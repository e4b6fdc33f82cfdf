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

/** The gateway's per-utterance timing line (src/ai/gateway/UtteranceTimings.ts). */
export type UtteranceLine = { utteranceId: string; language: string; time: number; ms: Record<string, number> };

export function utteranceLines(text: string): UtteranceLine[] {
  return logLines(text, 'utterance translated')
    .filter((l) => typeof l.utteranceId === 'string' && typeof l.ms === 'object' && l.ms !== null)
    .map((l) => ({ utteranceId: l.utteranceId as string, language: String(l.language), time: l.time, ms: l.ms as Record<string, number> }));
}
