/**
 * Splits a translation into sentences so the tts stage can synthesize and ship
 * the first one while it works on the rest. Pure: no I/O, no state.
 *
 * A sentence ends at a run of . ! ? … ; (or the full-width 。！？), taken with
 * the closing quotes and brackets that follow it, when whitespace, the end of
 * the text or a Spanish opener ¿ ¡ comes next. Openers therefore start the
 * next sentence. A single "." after a known abbreviation ("Mr.", "Sr.",
 * "etc.", "e.g.") or an initial ("J.") does not end a sentence, nor does one
 * inside a number ("3.5"). Fragments of fewer than MIN_WORDS words are merged
 * into a neighbour: the previous sentence, or the next one when they lead.
 */

/** Fewer words than this and a fragment is merged into its neighbour. */
export const MIN_WORDS = 3;

const TERMINATORS = '.!?…;。！？';
/** Full-width terminators: Chinese and Japanese put no space after them. */
const UNSPACED_TERMINATORS = '。！？';
const CLOSERS = '"\'”’»)]}';
const OPENERS = '¿¡';
/** Stripped from the front of the word before a "." when looking it up as an abbreviation. */
const LEADING = /^[("'“‘«¿¡[{]+/u;

/** Abbreviations (lowercase, without their final ".") that end in a "." but not a sentence. */
const COMMON_ABBREVIATIONS = ['dr', 'prof', 'etc', 'vs', 'ca', 'cf', 'approx', 'fig', 'nr'];
const ABBREVIATIONS: Record<string, readonly string[]> = {
  en: ['mr', 'mrs', 'ms', 'jr', 'sr', 'st', 'mt', 'e.g', 'i.e', 'inc', 'ltd', 'dept'],
  es: ['sr', 'sra', 'srta', 'sres', 'dra', 'dña', 'ud', 'uds', 'lic', 'ing', 'av', 'pág', 'núm', 'p.ej', 'aprox'],
  fr: ['m', 'mm', 'mme', 'mmes', 'mlle', 'mlles', 'pr', 'av', 'bd', 'p.ex', 'env'],
  de: ['hr', 'fr', 'z.b', 'bzw', 'usw', 'd.h', 'u.a', 'str', 'vgl'],
  it: ['sig', 'sigg', 'sig.ra', 'dott', 'ing', 'avv', 'ecc'],
  pt: ['sr', 'sra', 'srta', 'dra', 'av', 'exmo', 'exma'],
};
/** Languages written without spaces between words: every letter counts as a word. */
const UNSPACED_LANGUAGES = new Set(['zh', 'ja', 'th', 'lo', 'km', 'my']);

type Span = { start: number; end: number };

/**
 * The sentences of `text` in order, trimmed, runs of whitespace (newlines included) made one space;
 * never an empty string ([] for blank text).
 * `language` is a code like 'en' or 'es-MX'; it picks the abbreviations and how words are counted.
 */
export function splitSentences(text: string, language: string): string[] {
  const base = language.toLowerCase().split(/[-_]/)[0] ?? '';
  const abbreviations = new Set([...COMMON_ABBREVIATIONS, ...(ABBREVIATIONS[base] ?? [])]);
  const words = (span: Span) => countWords(text.slice(span.start, span.end), UNSPACED_LANGUAGES.has(base));
  const merged: Span[] = [];
  for (const span of spans(text, base, abbreviations)) {
    if (text.slice(span.start, span.end).trim() === '') continue; // trailing whitespace
    const last = merged.at(-1);
    if (last && (words(span) < MIN_WORDS || words(last) < MIN_WORDS)) last.end = span.end;
    else merged.push(span);
  }
  return merged.map((s) => text.slice(s.start, s.end).trim().replace(/\s+/gu, ' ')).filter((s) => s.length > 0);
}

/** Raw sentence spans covering the whole text, before merging. */
function* spans(text: string, language: string, abbreviations: ReadonlySet<string>): Generator<Span> {
  let start = 0;
  let i = 0;
  while (i < text.length) {
    if (!TERMINATORS.includes(text[i]!)) {
      i++;
      continue;
    }
    const runStart = i;
    while (i < text.length && TERMINATORS.includes(text[i]!)) i++;
    const run = text.slice(runStart, i);
    // Closing quotes and brackets belong to the sentence they close, French spacing included ("! »").
    let end = i;
    for (let j = i; j < text.length; j++) {
      if (CLOSERS.includes(text[j]!)) end = i = j + 1;
      else if (!isSpace(text[j]!)) break;
    }
    const next = text[i];
    const boundary = next === undefined || isSpace(next) || OPENERS.includes(next) || [...run].some((c) => UNSPACED_TERMINATORS.includes(c));
    if (!boundary) continue;
    if (run === '.' && isAbbreviation(wordBefore(text, runStart), language, abbreviations)) continue;
    yield { start, end };
    start = end;
  }
  if (start < text.length) yield { start, end: text.length };
}

/** The whitespace-delimited word that ends right before `index`, without leading quotes or openers. */
function wordBefore(text: string, index: number): string {
  let from = index;
  while (from > 0 && !isSpace(text[from - 1]!)) from--;
  return text.slice(from, index).replace(LEADING, '');
}

function isAbbreviation(word: string, language: string, abbreviations: ReadonlySet<string>): boolean {
  if (abbreviations.has(word.toLowerCase())) return true;
  // An initial ("J. R. R. Tolkien") or an initialism ("U.S."), but not the English pronoun "I".
  if (/^\p{Lu}$/u.test(word)) return !(language === 'en' && word === 'I');
  return /^(\p{L}\.)+\p{L}$/u.test(word);
}

function countWords(sentence: string, unspaced: boolean): number {
  if (unspaced) return sentence.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
  return sentence.split(/\s+/u).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

function isSpace(c: string): boolean {
  return /\s/u.test(c);
}
