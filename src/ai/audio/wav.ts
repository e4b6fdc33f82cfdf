/**
 * A small RIFF/WAVE reader and writer for 16-bit PCM: enough for espeak-ng's output, the LibriVox test
 * clips and the files the pipeline writes for debugging. Other encodings (float, 8/24-bit, compressed)
 * are refused with a TypeError rather than guessed at.
 */
import type { PcmAudio } from '../types.js';

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Parses a 16-bit PCM WAV; several channels are averaged to mono. A data chunk whose declared size runs
 * past the end of the buffer (streamed WAVs such as `espeak-ng --stdout` declare ~2 GB) is read to the end.
 */
export function parseWav(buf: Buffer): PcmAudio {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new TypeError('not a RIFF/WAVE file');
  }
  let fmt: { channels: number; sampleRate: number; bitsPerSample: number; format: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const declared = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    const size = Math.min(declared, buf.length - body);
    if (id === 'fmt ') {
      if (size < 16) throw new TypeError('WAV fmt chunk is too short');
      let format = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of its sub-format GUID.
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 26) format = buf.readUInt16LE(body + 24);
      fmt = {
        format,
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new TypeError('WAV data chunk comes before its fmt chunk');
      if (fmt.format !== WAVE_FORMAT_PCM || fmt.bitsPerSample !== 16) {
        throw new TypeError(`unsupported WAV encoding (format ${fmt.format}, ${fmt.bitsPerSample} bits); only 16-bit PCM`);
      }
      if (fmt.channels < 1 || fmt.sampleRate < 1) throw new TypeError('WAV fmt chunk has no channels or no rate');
      return { samples: toMono(buf, body, size, fmt.channels), sampleRate: fmt.sampleRate };
    }
    // Chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
    offset = body + declared + (declared % 2);
  }
  throw new TypeError('WAV file has no data chunk');
}

function toMono(buf: Buffer, start: number, size: number, channels: number): Int16Array {
  const frames = Math.floor(size / (2 * channels));
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += buf.readInt16LE(start + (i * channels + c) * 2);
    out[i] = Math.round(sum / channels);
  }
  return out;
}

/** Encodes mono 16-bit PCM as a canonical 44-byte-header WAV. */
export function encodeWav(pcm: PcmAudio): Buffer {
  const dataBytes = pcm.samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(pcm.sampleRate, 24);
  out.writeUInt32LE(pcm.sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < pcm.samples.length; i++) out.writeInt16LE(pcm.samples[i]!, 44 + i * 2);
  return out;
}

/** Root-mean-square level of the samples (0..32768). */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}
