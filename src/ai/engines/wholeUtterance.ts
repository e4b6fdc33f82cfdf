/**
 * Recognition sessions for engines that can only decode a whole utterance (Whisper-class models, and
 * pocketsphinx in batch mode). The chunks are kept until the speech ends and then decoded in one go, so
 * such an engine fits the streaming SttSession contract: it simply has no hypothesis before the final.
 */
import { InvalidStateError } from '../../errors.js';
import type { PcmAudio, SttSession } from '../types.js';

/** Sessions are fed 16 kHz audio by contract (see SttSession.push). */
const SAMPLE_RATE = 16_000;

/** Decodes one whole utterance, e.g. `(audio) => engine.transcribe(audio, language)`. */
export type WholeUtteranceDecoder = (audio: PcmAudio) => Promise<{ text: string }>;

export class WholeUtteranceSession implements SttSession {
  private chunks: Int16Array[] = [];
  private samples = 0;
  private done = false;

  constructor(private readonly transcribe: WholeUtteranceDecoder) {}

  /** Keeps a copy of the chunk (callers may reuse their buffer); there is never a hypothesis before the end. */
  async push(samples: Int16Array): Promise<{ text: string }> {
    this.assertOpen('push');
    this.chunks.push(samples.slice());
    this.samples += samples.length;
    return { text: '' };
  }

  async finish(): Promise<{ text: string }> {
    this.assertOpen('finish');
    const audio = new Int16Array(this.samples);
    let at = 0;
    for (const chunk of this.chunks) {
      audio.set(chunk, at);
      at += chunk.length;
    }
    this.close();
    return this.transcribe({ samples: audio, sampleRate: SAMPLE_RATE });
  }

  close(): void {
    this.done = true;
    this.chunks = [];
    this.samples = 0;
  }

  private assertOpen(call: string): void {
    if (this.done) throw new InvalidStateError(`cannot ${call}: the recognition session is closed`);
  }
}
