import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COMMIT_DEFAULTS,
  INITIAL_COMMIT_STATE,
  commitEndpoint,
  commitHypothesis,
  tentativeWords,
  words,
  type Commit,
  type CommitOptions,
  type CommitState,
} from './commitPolicy.js';

/** Hypotheses pocketsphinx gave after every 160 ms chunk of the LibriVox clips (scripts/record-hypotheses.ts). */
type Trace = { clip: string; chunkMs: number; final: string; hypotheses: Array<[number, string]> };
const traces = JSON.parse(readFileSync(new URL('./traces/librivox.json', import.meta.url), 'utf8')) as Trace[];

/** Replays hypotheses then the endpoint; returns every commit and the hypothesis each was made on. */
function replay(hypotheses: Array<[number, string]>, final: string, options: CommitOptions = COMMIT_DEFAULTS) {
  let state: CommitState = INITIAL_COMMIT_STATE;
  const commits: Array<Commit & { seenIn: string[] }> = [];
  const history: string[] = [];
  for (const [audioMs, text] of hypotheses) {
    history.push(text);
    const step = commitHypothesis(state, text, audioMs, options, 'en');
    state = step.state;
    if (step.commit) commits.push({ ...step.commit, seenIn: history.slice(-options.stableHypotheses) });
  }
  const end = commitEndpoint(state, final, hypotheses.at(-1)?.[0] ?? 0);
  if (end.commit) commits.push({ ...end.commit, seenIn: [final] });
  return { commits, state: end.state };
}

describe('commit policy on recorded pocketsphinx hypotheses', () => {
  it.each(traces.map((t) => [t.clip, t] as const))('%s: segments in order, each stable when committed, together the utterance', (_clip, trace) => {
    const { commits, state } = replay(trace.hypotheses, trace.final);
    expect(commits.map((c) => c.index)).toEqual(commits.map((_, i) => i));
    expect(commits.every((c) => c.words.length > 0)).toBe(true);
    expect(commits.flatMap((c) => c.words)).toEqual(state.committed);
    let before = 0;
    for (const c of commits) {
      // Committed words were the same in the last `stableHypotheses` hypotheses, at the same place.
      for (const seen of c.seenIn) expect(words(seen).slice(before, before + c.words.length)).toEqual(c.words);
      before += c.words.length;
    }
    expect(commits.at(-1)?.reason === 'endpoint' || state.committed.length === words(trace.final).length).toBe(true);
  });

  it('a long utterance is committed in several segments before its endpoint', () => {
    const long = traces.find((t) => t.clip.endsWith('0870'))!;
    const { commits } = replay(long.hypotheses, long.final);
    const early = commits.filter((c) => c.reason !== 'endpoint');
    expect(early.length).toBeGreaterThanOrEqual(2);
    expect(early[0]!.atMs).toBeLessThan(long.hypotheses.at(-1)![0] / 2);
  });

  it('with a bound of one word and no hold-back nearly everything is committed before the endpoint', () => {
    const t = traces.find((x) => x.clip.endsWith('0920'))!;
    const { commits } = replay(t.hypotheses, t.final, { ...COMMIT_DEFAULTS, maxWords: 1, holdBack: 0 });
    const atEnd = commits.filter((c) => c.reason === 'endpoint').flatMap((c) => c.words);
    expect(atEnd.length).toBeLessThanOrEqual(3);
  });
});

describe('commit policy rules', () => {
  const feed = (hyps: string[], options: Partial<CommitOptions> = {}, stepMs = 160) =>
    replay(
      hyps.map((h, i) => [(i + 1) * stepMs, h] as [number, string]),
      hyps.at(-1) ?? '',
      { ...COMMIT_DEFAULTS, ...options },
    );

  it('commits the stable words before a clause boundary, the boundary word opening the next segment', () => {
    const { commits } = feed(['he said', 'he said it was', 'he said it was late and', 'he said it was late and we', 'he said it was late and we left']);
    expect(commits[0]).toMatchObject({ index: 0, text: 'he said it was late', reason: 'boundary' });
    expect(commits.at(-1)).toMatchObject({ text: 'and we left', reason: 'endpoint' });
  });

  it('does not cut before a boundary with fewer than minWords words before it', () => {
    const { commits } = feed(['so and', 'so and then', 'so and then we', 'so and then we'], { pauseMs: 10_000 });
    expect(commits.map((c) => c.reason)).toEqual(['endpoint']);
  });

  it('commits the whole hypothesis at a pause (unchanged through pauseMs of audio)', () => {
    const { commits } = feed(['good', 'good morning', 'good morning', 'good morning', 'good morning everyone'], { pauseMs: 320 });
    expect(commits[0]).toMatchObject({ text: 'good morning', reason: 'pause', atMs: 640 });
    expect(commits[1]).toMatchObject({ text: 'everyone', reason: 'endpoint' });
  });

  it('past maxWords commits the stable part minus the hold-back', () => {
    const grow = ['a b c', 'a b c d e', 'a b c d e f g', 'a b c d e f g h i', 'a b c d e f g h i j'];
    const { commits } = feed(grow, { maxWords: 6, holdBack: 1, pauseMs: 10_000 });
    // At 'a b c d e f g' (7 words) the stable prefix is 'a b c d e' (shared with the hypothesis before): minus 1.
    expect(commits.map((c) => [c.text, c.reason])).toEqual([
      ['a b c d', 'bound'],
      ['e f g h', 'bound'],
      ['i j', 'endpoint'],
    ]);
  });

  it('past maxMs of audio since the last commit commits the stable part', () => {
    const { commits } = feed(['x y', 'x y z', 'x y z w'], { maxMs: 400, maxWords: 99, holdBack: 0, pauseMs: 10_000 }, 200);
    expect(commits[0]).toMatchObject({ text: 'x y', reason: 'bound', atMs: 400 });
  });

  it('nothing unstable is committed: words the last hypotheses disagree on wait', () => {
    const { commits } = feed(['one two three four', 'one too three four five', 'one too tree for five six'], { maxWords: 2, holdBack: 0, pauseMs: 10_000 });
    expect(commits[0]).toMatchObject({ text: 'one', reason: 'bound' });
  });

  it('a revision of committed words leaves them standing; new words are read after them', () => {
    let state = INITIAL_COMMIT_STATE;
    const o = { ...COMMIT_DEFAULTS, pauseMs: 320 };
    for (const [ms, h] of [[160, 'the cat'], [320, 'the cat'], [480, 'the cat']] as const) state = commitHypothesis(state, h, ms, o, 'en').state;
    expect(state.committed).toEqual(['the', 'cat']);
    state = commitHypothesis(state, 'a cat sat', 640, o, 'en').state;
    expect(tentativeWords(state)).toEqual(['sat']);
    const end = commitEndpoint(state, 'a cat sat down', 800);
    expect(end.commit).toMatchObject({ index: 1, text: 'sat down' });
    expect(end.state.committed).toEqual(['the', 'cat', 'sat', 'down']);
  });

  it('at the endpoint: nothing left gives no segment; a one-word rest is a segment of its own', () => {
    const none = feed(['hello there', 'hello there', 'hello there', 'hello there']);
    expect(none.commits.map((c) => c.reason)).toEqual(['pause']);
    const one = commitEndpoint(INITIAL_COMMIT_STATE, 'yes', 300);
    expect(one.commit).toMatchObject({ index: 0, words: ['yes'], reason: 'endpoint' });
    expect(commitEndpoint(INITIAL_COMMIT_STATE, '   ', 300).commit).toBeNull();
  });

  it('empty hypotheses commit nothing and a final shorter than what was committed adds nothing', () => {
    const { commits } = feed(['', '', '']);
    expect(commits).toEqual([]);
    let state = INITIAL_COMMIT_STATE;
    for (const ms of [160, 320, 480]) state = commitHypothesis(state, 'one two three', ms, COMMIT_DEFAULTS, 'en').state;
    expect(commitEndpoint(state, 'one two', 500).commit).toBeNull();
  });

  it('languages without a boundary list still commit at pauses and bounds', () => {
    let state = INITIAL_COMMIT_STATE;
    let commit: Commit | null = null;
    for (const [ms, h] of [[160, 'a b c and d'], [320, 'a b c and d e']] as const) ({ state, commit } = commitHypothesis(state, h, ms, { ...COMMIT_DEFAULTS, maxWords: 99 }, 'xx'));
    expect(commit).toBeNull();
  });
});
