/** `report <run.json>...`: draws a recorded run's plots and HTML page again (after a renderer change, or for old runs). */
export const REPORT_USAGE = (prog: string) => `Usage: ${prog} report <run.json>...

Draws each recorded run's plots (SVG) and its HTML page again from its JSON, beside it, and refreshes
the index.html of its folder.`;

export async function runReport(args: string[], prog: string, print: (s: string) => void): Promise<number> {
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length === 0 || args.includes('--help') || args.includes('-h')) {
    print(REPORT_USAGE(prog));
    return files.length === 0 && !args.includes('--help') && !args.includes('-h') ? 2 : 0;
  }
  print('not wired yet');
  return 1;
}
