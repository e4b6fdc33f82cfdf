/**
 * Progress on stderr: a redrawn bar at a terminal; plain lines otherwise
 * (CI logs), at most one every few seconds per phase, plus each phase's end.
 */

export type Progress = {
  update(done: number, total: number, label: string): void;
  log(message: string): void;
  /** Ends a bar in progress with a newline. */
  finish(): void;
};

/** Counts as given, fractions of a phase with one decimal. */
function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, plainEveryMs = 3000): Progress {
  const tty = stream.isTTY === true;
  let drawn = false;
  let lastLabel = '';
  let lastPlainAt = 0;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    update(done, total, label) {
      const count = `${fmt(done)}/${fmt(total)}`;
      const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
      const pct = `${Math.round(fraction * 100)}%`.padStart(4);
      if (tty) {
        const width = 28;
        const filled = Math.round(fraction * width);
        const cols = stream.columns ?? 100;
        const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct} ${count} ${label}`;
        stream.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (label !== lastLabel || done >= total || now - lastPlainAt >= plainEveryMs) {
        stream.write(`progress ${pct} ${count} ${label}\n`);
        lastPlainAt = now;
        lastLabel = label;
      }
    },
    log(message) {
      clear();
      stream.write(`${message}\n`);
    },
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
