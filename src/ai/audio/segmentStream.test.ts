import { describe, expect, it } from 'vitest';
import { SegmentStreamer, type SpeechStreamEvent } from './segmentStream.js';

/** A timeline whose sample i is i % 30000 (so any slice says where it came from). */
const read = (from: number, to: number) => Int16Array.from({ length: Math.max(0, to - from) }, (_, k) => (from + k) % 30_000);
const streamer = (chunkSamples = 100) => new SegmentStreamer({ chunkSamples, read, toMs: (i) => i / 16 });
const chunks = (events: SpeechStreamEvent[]) => events.filter((e) => e.type === 'chunk');

describe('SegmentStreamer', () => {
  it('streams a segment contiguously in chunks of at least chunkSamples, then ends it with the rest', () => {
    const s = streamer(100);
    expect(s.start(1, 1600)).toBe(1600);
    s.advance(1650); // not a chunk yet
    expect(s.take()).toEqual([{ type: 'start', segment: 1, startMs: 100 }]);
    s.advance(1760);
    s.advance(1800);
    s.advance(1900);
    s.end(1950, 'silence', 1920);
    const events = s.take();
    expect(events.map((e) => e.type)).toEqual(['chunk', 'chunk', 'chunk', 'end']);
    expect(events.at(-1)).toEqual({ type: 'end', segment: 1, endedBy: 'silence', endMs: 1950 / 16, lastVoicedMs: 120 });
    expect(chunks(events).map((c) => [c.startMs * 16, c.samples.length])).toEqual([
      [1600, 160],
      [1760, 140],
      [1900, 50],
    ]);
    expect(chunks(events)[1]!.samples[0]).toBe(1760);
    s.end(2000, 'silence', 0); // no segment open: nothing
    expect(s.take()).toEqual([]);
  });

  it('queues the end after the last chunk, with the end of speech kept within the streamed audio', () => {
    const s = streamer(100);
    s.start(7, 0);
    s.advance(300);
    s.end(400, 'maxLength', 400);
    s.start(8, 400);
    s.end(480, 'discarded', 100); // its "speech" ended before it began: clamped to its start
    expect(s.take().map((e) => (e.type === 'chunk' ? `chunk ${e.segment}` : e))).toEqual([
      { type: 'start', segment: 7, startMs: 0 },
      'chunk 7',
      'chunk 7',
      { type: 'end', segment: 7, endedBy: 'maxLength', endMs: 25, lastVoicedMs: 25 },
      { type: 'start', segment: 8, startMs: 25 },
      'chunk 8',
      { type: 'end', segment: 8, endedBy: 'discarded', endMs: 30, lastVoicedMs: 25 },
    ]);
    expect(s.streamedTo).toBe(480);
  });

  it('never starts a segment inside audio already streamed, and refuses a second open segment', () => {
    const s = streamer(100);
    s.start(1, 0);
    s.end(500, 'silence', 400);
    expect(s.start(2, 320)).toBe(500);
    expect(s.segment).toBe(2);
    expect(() => s.start(3, 600)).toThrow(/still streaming/);
    expect(() => streamer(0)).toThrow(TypeError);
  });

  it('refuses to stream audio the timeline no longer keeps (a gap would go unnoticed)', () => {
    const s = new SegmentStreamer({ chunkSamples: 10, read: (from, to) => new Int16Array(Math.max(0, to - Math.max(from, 50))), toMs: (i) => i });
    s.start(1, 0);
    expect(() => s.advance(100)).toThrow(/no longer kept/);
  });
});
