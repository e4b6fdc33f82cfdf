/**
 * The commit policy of simultaneous translation: from the hypotheses a streaming recognizer gives after
 * every chunk, decide which words are settled enough to translate and speak now. Pure: a state in, a
 * state and at most one commit out; no clock (times are the audio's own, in ms of speech fed).
 *
 * A word is *stable* when the last `stableHypotheses` hypotheses agree on it (their common prefix). The
 * uncommitted stable words are committed:
 * - at a **pause**: the hypothesis has not changed for `pauseMs` of audio (all of it is then stable);
 * - at a **clause boundary**: a conjunction or relative word ("and", "but", "which", ...) that has at
 *   least `minWords` stable words before it; those words are committed, the boundary word opens the next;
 * - past a **bound**: the uncommitted words reach `maxWords`, or `maxMs` of audio went by since the last
 *   commit; then the stable part minus the last `holdBack` words (the recognizer may still extend them).
 * At the endpoint the rest of the final transcript is committed at once (`commitEndpoint`).
 *
 * Committed words stand: when a later hypothesis revises one, the revision is not spoken again; the new
 * words are read from the hypothesis after as many words as were committed (positional), so a revision
 * that changes the word count may repeat or skip a word at the seam.
 */

export type CommitOptions = {
  /** Hypotheses that must agree on a word for it to be stable (default 2). */
  stableHypotheses: number;
  /** An unchanged hypothesis through this much audio is a pause: commit all of it (ms, default 320). */
  pauseMs: number;
  /** Stable words needed before a clause boundary to commit them (default 3). */
  minWords: number;
  /** Uncommitted words that force a commit of the stable part (default 8). */
  maxWords: number;
  /** Audio since the last commit that forces a commit of the stable part (ms, default 2 500). */
  maxMs: number;
  /** Stable words held back from a forced commit (default 1). */
  holdBack: number;
};

export const COMMIT_DEFAULTS: CommitOptions = { stableHypotheses: 2, pauseMs: 320, minWords: 3, maxWords: 8, maxMs: 2500, holdBack: 1 };

export type CommitReason = 'pause' | 'boundary' | 'bound' | 'endpoint';

export type Commit = {
  /** 0 for the utterance's first segment. */
  index: number;
  words: readonly string[];
  text: string;
  reason: CommitReason;
  /** Audio time (ms of speech fed) when it was committed. */
  atMs: number;
};

export type CommitState = {
  readonly committed: readonly string[];
  /** Segments committed so far. */
  readonly segments: number;
  /** The newest hypotheses, oldest first, at most `stableHypotheses`. */
  readonly recent: ReadonlyArray<readonly string[]>;
  /** Audio time at which the newest hypothesis first appeared. */
  readonly changedAtMs: number;
  readonly lastCommitAtMs: number;
};

export const INITIAL_COMMIT_STATE: CommitState = { committed: [], segments: 0, recent: [], changedAtMs: 0, lastCommitAtMs: 0 };

/** Words that open a new clause, per language (lowercase). */
const BOUNDARIES: Record<string, ReadonlySet<string>> = {
  en: new Set(['and', 'but', 'or', 'so', 'because', 'which', 'who', 'whom', 'whose', 'that', 'when', 'where', 'while', 'if', 'unless', 'until', 'although', 'though', 'since', 'then', 'yet']),
  es: new Set(['y', 'pero', 'o', 'porque', 'que', 'cuando', 'donde', 'mientras', 'si', 'aunque', 'entonces', 'pues']),
  fr: new Set(['et', 'mais', 'ou', 'donc', 'car', 'parce', 'qui', 'que', 'quand', 'où', 'si', 'alors', 'puisque', 'lorsque']),
  de: new Set(['und', 'aber', 'oder', 'denn', 'weil', 'dass', 'wenn', 'als', 'ob', 'obwohl', 'dann', 'der', 'die', 'das']),
};

export function words(text: string): string[] {
  return text.split(/\s+/u).filter((w) => w !== '');
}

/**
 * When each word of a hypothesis was first heard as it is now: a word at the same position as in the
 * previous hypothesis keeps its time, a new or changed one gets `at`.
 */
export function heardTimes(previous: readonly string[], previousTimes: readonly number[], next: readonly string[], at: number): number[] {
  return next.map((w, i) => (previous[i] === w ? (previousTimes[i] ?? at) : at));
}

/** The uncommitted words of the newest hypothesis (the tentative tail shown greyed). */
export function tentativeWords(state: CommitState): readonly string[] {
  return (state.recent.at(-1) ?? []).slice(state.committed.length);
}

/**
 * A hypothesis (the whole utterance so far) after `audioMs` of speech. Returns the new state and the
 * segment committed now, if any.
 */
export function commitHypothesis(
  state: CommitState,
  text: string,
  audioMs: number,
  options: CommitOptions,
  language: string,
): { state: CommitState; commit: Commit | null } {
  const hypothesis = words(text);
  const newest = state.recent.at(-1);
  const changed = !newest || !sameWords(newest, hypothesis);
  const recent = [...state.recent, hypothesis].slice(-Math.max(1, options.stableHypotheses));
  let next: CommitState = { ...state, recent, changedAtMs: changed ? audioMs : state.changedAtMs };
  const decided = decide(next, audioMs, options, language);
  if (!decided) return { state: next, commit: null };
  next = { ...next, committed: [...next.committed, ...decided.words], segments: next.segments + 1, lastCommitAtMs: audioMs };
  return { state: next, commit: { index: state.segments, words: decided.words, text: decided.words.join(' '), reason: decided.reason, atMs: audioMs } };
}

/** The endpoint: whatever the final transcript has past the committed words is committed now (null if nothing). */
export function commitEndpoint(state: CommitState, finalText: string, audioMs: number): { state: CommitState; commit: Commit | null } {
  const rest = words(finalText).slice(state.committed.length);
  const next: CommitState = { ...state, recent: [words(finalText)], changedAtMs: audioMs };
  if (rest.length === 0) return { state: next, commit: null };
  return {
    state: { ...next, committed: [...state.committed, ...rest], segments: state.segments + 1, lastCommitAtMs: audioMs },
    commit: { index: state.segments, words: rest, text: rest.join(' '), reason: 'endpoint', atMs: audioMs },
  };
}

function decide(state: CommitState, audioMs: number, o: CommitOptions, language: string): { words: string[]; reason: CommitReason } | null {
  const from = state.committed.length;
  const tail = (state.recent.at(-1) ?? []).slice(from);
  if (tail.length === 0) return null;
  if (audioMs - state.changedAtMs >= o.pauseMs && state.recent.length >= Math.min(2, o.stableHypotheses)) return { words: tail, reason: 'pause' };
  if (state.recent.length < o.stableHypotheses) return null;
  const stable = commonPrefix(state.recent.map((h) => h.slice(from)));
  const boundaries = BOUNDARIES[language.toLowerCase().split(/[-_]/u)[0] ?? ''];
  if (boundaries) {
    for (let i = o.minWords; i < stable.length; i++) if (boundaries.has(stable[i]!.toLowerCase())) return { words: stable.slice(0, i), reason: 'boundary' };
  }
  const overdue = tail.length >= o.maxWords || audioMs - state.lastCommitAtMs >= o.maxMs;
  const ready = stable.slice(0, Math.max(0, stable.length - o.holdBack));
  if (overdue && ready.length > 0) return { words: ready, reason: 'bound' };
  return null;
}

function commonPrefix(lists: ReadonlyArray<readonly string[]>): string[] {
  const first = lists[0] ?? [];
  let n = first.length;
  for (const list of lists) {
    n = Math.min(n, list.length);
    for (let i = 0; i < n; i++) {
      if (list[i] !== first[i]) {
        n = i;
        break;
      }
    }
  }
  return first.slice(0, n);
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((w, i) => w === b[i]);
}
