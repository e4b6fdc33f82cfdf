import { describe, expect, it } from 'vitest';
import { LastWords } from './lastWords.js';

describe('LastWords', () => {
  const setup = () => {
    const done: Array<[string, string, number, number]> = [];
    const last = new LastWords((u, l, m) => done.push([u, l, m.speechEnd, m.firstRtpOut!]));
    return { done, last };
  };

  it('completes when the segment marked last starts', () => {
    const { done, last } = setup();
    last.started('u', 'es', 0, 100, null);
    expect(done).toEqual([]);
    last.started('u', 'es', 1, 900, { marks: { speechEnd: 800 } });
    expect(done).toEqual([['u', 'es', 800, 900]]);
  });

  it('completes from the final caption when everything was committed before the endpoint, in either order', () => {
    const a = setup();
    a.last.started('u', 'es', 0, 100, null);
    a.last.started('u', 'es', 1, 500, null);
    a.last.ended('u', 'es', 2, { speechEnd: 700 });
    expect(a.done).toEqual([['u', 'es', 700, 500]]); // the last words were spoken before the endpoint
    const b = setup();
    b.last.ended('u', 'fr', 1, { speechEnd: 700 });
    b.last.started('u', 'fr', 0, 750, null);
    expect(b.done).toEqual([['u', 'fr', 700, 750]]);
  });

  it('says nothing for an utterance with no segment spoken, and completes once', () => {
    const { done, last } = setup();
    last.ended('u', 'es', 0, { speechEnd: 1 });
    last.started('v', 'es', 0, 10, { marks: { speechEnd: 5 } });
    last.ended('v', 'es', 1, { speechEnd: 5 });
    expect(done).toEqual([['v', 'es', 5, 10]]);
  });
});
