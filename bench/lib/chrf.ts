/**
 * chrF (Popović 2015): the F-score of character n-grams (n = 1..6) of a hypothesis against a reference,
 * recall weighted β = 2 times as much as precision, averaged over n; 0..100. Spaces are removed before
 * counting (as sacreBLEU's chrF does by default). Robust on short segments, where BLEU's word 4-grams are
 * mostly zero. Pure.
 */

const MAX_N = 6;
const BETA = 2;

function ngrams(text: string, n: number): Map<string, number> {
  const chars = [...text.replace(/\s+/gu, '')];
  const out = new Map<string, number>();
  for (let i = 0; i + n <= chars.length; i++) {
    const g = chars.slice(i, i + n).join('');
    out.set(g, (out.get(g) ?? 0) + 1);
  }
  return out;
}

/** Lowercase, punctuation removed, whitespace collapsed: how the bench compares translations. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, ' ').replace(/\s+/gu, ' ').trim();
}

/** Sentence-level chrF of `hypothesis` against `reference` (0..100). */
export function chrF(hypothesis: string, reference: string): number {
  return corpusChrF([[hypothesis, reference]]);
}

/** Corpus-level chrF: n-gram matches summed over all pairs before the F-score. */
export function corpusChrF(pairs: ReadonlyArray<readonly [hypothesis: string, reference: string]>): number {
  let total = 0;
  let orders = 0;
  for (let n = 1; n <= MAX_N; n++) {
    let matched = 0;
    let hypCount = 0;
    let refCount = 0;
    for (const [h, r] of pairs) {
      const hg = ngrams(h, n);
      const rg = ngrams(r, n);
      for (const [g, c] of hg) {
        hypCount += c;
        matched += Math.min(c, rg.get(g) ?? 0);
      }
      for (const c of rg.values()) refCount += c;
    }
    if (hypCount === 0 && refCount === 0) continue;
    orders++;
    const precision = hypCount ? matched / hypCount : 0;
    const recall = refCount ? matched / refCount : 0;
    const b2 = BETA * BETA;
    total += precision + recall > 0 ? ((1 + b2) * precision * recall) / (b2 * precision + recall) : 0;
  }
  return orders ? (100 * total) / orders : 0;
}
