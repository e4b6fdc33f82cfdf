/**
 * A speaker for the pipeline bench without a browser: a werift participant (ParleyClient) that speaks a
 * clip into a room, looped (the clip's padded WAV: speech, then the turn's pause), as Opus frames paced
 * every 20 ms. Its microphone probe is exact: each frame's wall-clock send time and mean power, in the
 * same [time, power] form as the Chromium speaker page's media-source probe (bench/lib/probes.ts), so
 * e2e_from_mic starts where the speaker's voice really ended. One Chromium per speaker loads a 2-core
 * machine past what the system under test gets; this costs a few % of a core.
 */
import { readFileSync } from 'node:fs';
import { encodeOpusFrames } from '../../src/ai/audio/opus.js';
import { resample, rms } from '../../src/ai/audio/resample.js';
import { parseWav } from '../../src/ai/audio/wav.js';
import type { SpeechClip } from '../lib/inputs.js';
import { ParleyClient } from './ParleyClient.js';
import { Pacer } from './opusSource.js';

const FRAME = 960; // 20 ms at 48 kHz

export class ClipSpeaker {
  readonly client: ParleyClient;
  readonly #pacer: Pacer;
  readonly #mic: Array<[number, number]>;

  private constructor(client: ParleyClient, pacer: Pacer, mic: Array<[number, number]>) {
    this.client = client;
    this.#pacer = pacer;
    this.#mic = mic;
  }

  get peerId(): string {
    return this.client.peerId;
  }

  /** Joins `roomId` speaking `language` and starts talking at once; `token` and `host` as ParleyClient's (a deployment). */
  static async join(o: { baseUrl: string; roomId: string; identity: string; clip: SpeechClip; language?: string; token?: string; host?: string }): Promise<ClipSpeaker> {
    const wav = parseWav(readFileSync(o.clip.wav));
    const pcm = wav.sampleRate === 48_000 ? wav.samples : resample(wav.samples, wav.sampleRate, 48_000);
    const frames = encodeOpusFrames(pcm, { sampleRate: 48_000, frameMs: 20, bitrate: 32_000 });
    // Mean power of each frame on the 0..1 scale of the browser's media-source stats.
    const power = frames.map((_, i) => (rms(pcm.subarray(i * FRAME, (i + 1) * FRAME)) / 32768) ** 2);
    const mic: Array<[number, number]> = [];
    const pacer = new Pacer(frames, (index, wallMs) => mic.push([wallMs, power[index % power.length]!]));
    const client = await ParleyClient.join({ baseUrl: o.baseUrl, roomId: o.roomId, identity: o.identity, token: o.token, host: o.host, publish: pacer, spokenLanguage: o.language ?? 'en', listeningLanguage: o.language ?? 'en' });
    return new ClipSpeaker(client, pacer, mic);
  }

  /** [wall ms, mean power 0..1] of every frame sent so far. */
  micProbe(): Array<[number, number]> {
    return this.#mic.slice();
  }

  async close(): Promise<void> {
    this.#pacer.stop();
    await this.client.close();
  }
}
