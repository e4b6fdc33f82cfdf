import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeWav, parseWav, rms } from './wav.js';

function header(opts: { channels: number; rate: number; bits: number; format?: number; dataSize: number; extra?: Buffer }): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(opts.format ?? 1, 8);
  fmt.writeUInt16LE(opts.channels, 10);
  fmt.writeUInt32LE(opts.rate, 12);
  fmt.writeUInt32LE((opts.rate * opts.channels * opts.bits) / 8, 16);
  fmt.writeUInt16LE((opts.channels * opts.bits) / 8, 20);
  fmt.writeUInt16LE(opts.bits, 22);
  const data = Buffer.alloc(8);
  data.write('data', 0, 'ascii');
  data.writeUInt32LE(opts.dataSize, 4);
  const riff = Buffer.from('RIFF\0\0\0\0WAVE', 'ascii');
  return Buffer.concat([riff, fmt, opts.extra ?? Buffer.alloc(0), data]);
}

describe('wav', () => {
  it('round-trips mono 16-bit PCM', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321]);
    const parsed = parseWav(encodeWav({ samples, sampleRate: 16000 }));
    expect(parsed.sampleRate).toBe(16000);
    expect(Array.from(parsed.samples)).toEqual(Array.from(samples));
  });

  it('averages stereo to mono', () => {
    const body = Buffer.alloc(8);
    body.writeInt16LE(100, 0);
    body.writeInt16LE(300, 2);
    body.writeInt16LE(-1000, 4);
    body.writeInt16LE(-2000, 6);
    const parsed = parseWav(Buffer.concat([header({ channels: 2, rate: 8000, bits: 16, dataSize: 8 }), body]));
    expect(Array.from(parsed.samples)).toEqual([200, -1500]);
    expect(parsed.sampleRate).toBe(8000);
  });

  it('reads a streamed WAV whose data size runs past the end, skipping odd-sized chunks', () => {
    const list = Buffer.concat([Buffer.from('LIST', 'ascii'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0')]);
    const body = Buffer.alloc(6);
    body.writeInt16LE(7, 0);
    body.writeInt16LE(8, 2);
    body.writeInt16LE(9, 4);
    const parsed = parseWav(Buffer.concat([header({ channels: 1, rate: 22050, bits: 16, dataSize: 0x7ffff000, extra: list }), body]));
    expect(Array.from(parsed.samples)).toEqual([7, 8, 9]);
  });

  it('refuses what it cannot decode', () => {
    expect(() => parseWav(Buffer.from('not a wav at all'))).toThrow(TypeError);
    expect(() => parseWav(Buffer.concat([header({ channels: 1, rate: 8000, bits: 8, dataSize: 2 }), Buffer.alloc(2)]))).toThrow(/16-bit/);
    expect(() => parseWav(Buffer.concat([header({ channels: 1, rate: 8000, bits: 32, format: 3, dataSize: 4 }), Buffer.alloc(4)]))).toThrow(/format 3/);
  });

  it('computes RMS', () => {
    expect(rms(new Int16Array(0))).toBe(0);
    expect(rms(Int16Array.from([3, -3, 3, -3]))).toBe(3);
  });

  const clip = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';
  it.skipIf(!existsSync(clip))('parses a real LibriVox clip (16 kHz mono, 7.1 s)', () => {
    const audio = parseWav(readFileSync(clip));
    expect(audio.sampleRate).toBe(16000);
    expect(audio.samples.length / audio.sampleRate).toBeCloseTo(7.1, 1);
    expect(rms(audio.samples)).toBeGreaterThan(100);
  });
});
