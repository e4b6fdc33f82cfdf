import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../errors.js';
import type { PcmAudio } from '../types.js';
import { WholeUtteranceSession } from './wholeUtterance.js';

describe('WholeUtteranceSession', () => {
  it('answers pushes with an empty hypothesis and decodes the chunks, in order, at finish', async () => {
    const decoded: PcmAudio[] = [];
    const session = new WholeUtteranceSession(async (audio) => (decoded.push(audio), { text: 'hello world' }));
    const chunk = Int16Array.of(1, 2, 3);
    expect(await session.push(chunk)).toEqual({ text: '' });
    chunk.fill(9); // the caller reuses its buffer: what was pushed must not change
    expect(await session.push(Int16Array.of(4, 5))).toEqual({ text: '' });
    expect(decoded).toHaveLength(0);
    expect(await session.finish()).toEqual({ text: 'hello world' });
    expect(decoded).toHaveLength(1);
    expect(decoded[0]!.sampleRate).toBe(16_000);
    expect([...decoded[0]!.samples]).toEqual([1, 2, 3, 4, 5]);
  });

  it('passes a decoder failure through finish', async () => {
    const session = new WholeUtteranceSession(async () => {
      throw new Error('decoder broke');
    });
    await session.push(new Int16Array(10));
    await expect(session.finish()).rejects.toThrow('decoder broke');
  });

  it('refuses push and finish after finish or close; close is idempotent', async () => {
    let calls = 0;
    const finished = new WholeUtteranceSession(async () => (calls++, { text: '' }));
    await finished.finish();
    await expect(finished.push(new Int16Array(1))).rejects.toBeInstanceOf(InvalidStateError);
    await expect(finished.finish()).rejects.toBeInstanceOf(InvalidStateError);

    const closed = new WholeUtteranceSession(async () => (calls++, { text: '' }));
    await closed.push(new Int16Array(1));
    closed.close();
    closed.close();
    await expect(closed.push(new Int16Array(1))).rejects.toBeInstanceOf(InvalidStateError);
    await expect(closed.finish()).rejects.toBeInstanceOf(InvalidStateError);
    expect(calls).toBe(1);
  });
});
