/** `report <run.json>...`: draws recorded runs' plots and HTML pages again (after a renderer change, or for old runs). */
import { rerenderRuns } from '../rerender.js';

export const REPORT_USAGE = (prog: string) => `Usage: ${prog} report <run.json>...

Draws each recorded run's plots (SVG, from the plot specs its JSON keeps) and its Markdown and HTML
pages again, beside the JSON, and refreshes the index.html of each folder involved (every scenario's
latest run and the history of each headline figure). The JSON itself is never rewritten. Runs
recorded before the specs were kept keep their SVG files as they are.`;

export async function runReport(args: string[], prog: string, print: (s: string) => void): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    print(REPORT_USAGE(prog));
    return 0;
  }
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length === 0 || files.length !== args.length) {
    print(REPORT_USAGE(prog));
    return 2;
  }
  const { runs, indexes } = await rerenderRuns(files);
  for (const r of runs) {
    const kept = r.keptPlots.length ? `, ${r.keptPlots.length} plot(s) without a recorded spec kept as they were` : '';
    print(`${r.json}: ${r.svgs.length} plot(s) drawn${kept}; ${r.html}`);
  }
  for (const i of indexes) print(`index: ${i}`);
  return 0;
}
