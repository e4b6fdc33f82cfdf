/**
 * Word error rate: the word-level Levenshtein distance between a reference transcript and a recognizer's
 * hypothesis, divided by the number of reference words. Used to keep speech recognizers honest in tests.
 */

export type WerResult = {
  /** (substitutions + deletions + insertions) / reference words; 0 is perfect, can exceed 1. */
  wer: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  referenceWords: number;
};

/** Lower-cases, keeps letters, digits and inner apostrophes, and splits on everything else. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .split(' ')
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

/** WER of `hypothesis` against `reference`. An empty reference scores 0 for an empty hypothesis, else 1. */
export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  const ref = normalizeWords(reference);
  const hyp = normalizeWords(hypothesis);
  if (ref.length === 0) {
    return { wer: hyp.length === 0 ? 0 : 1, substitutions: 0, deletions: 0, insertions: hyp.length, referenceWords: 0 };
  }
  // cost[i][j] = edit distance between ref[0..i) and hyp[0..j); ops tracks how it was reached.
  type Cell = { cost: number; sub: number; del: number; ins: number };
  let prev: Cell[] = Array.from({ length: hyp.length + 1 }, (_, j) => ({ cost: j, sub: 0, del: 0, ins: j }));
  for (let i = 1; i <= ref.length; i++) {
    const row: Cell[] = [{ cost: i, sub: 0, del: i, ins: 0 }];
    for (let j = 1; j <= hyp.length; j++) {
      const diag = prev[j - 1]!;
      const up = prev[j]!;
      const left = row[j - 1]!;
      const same = ref[i - 1] === hyp[j - 1];
      const options: Cell[] = [
        { ...diag, cost: diag.cost + (same ? 0 : 1), sub: diag.sub + (same ? 0 : 1) },
        { ...up, cost: up.cost + 1, del: up.del + 1 },
        { ...left, cost: left.cost + 1, ins: left.ins + 1 },
      ];
      row.push(options.reduce((best, o) => (o.cost < best.cost ? o : best)));
    }
    prev = row;
  }
  const last = prev[hyp.length]!;
  return {
    wer: last.cost / ref.length,
    substitutions: last.sub,
    deletions: last.del,
    insertions: last.ins,
    referenceWords: ref.length,
  };
}
